import Foundation
import Glibc
import Testing
@testable import VIPDConfig
import VRRP

private let key32 = String(repeating: "k", count: 32)
private let hex32 = "hex:" + (0..<32).map { String(format: "%02x", $0) }.joined()

private func failure(_ result: Result<VIPDConfiguration, ConfigError>) -> ConfigError? {
    if case .failure(let e) = result { return e }
    return nil
}

/// A directory of its own under /tmp for key files, removed by `cleanup`.
private struct KeyDirectory {
    let path: String
    init() throws {
        var template = Array("/tmp/vipd-keys-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ content: String, mode: mode_t = 0o600) throws -> String {
        let full = path + "/" + name
        try content.write(toFile: full, atomically: false, encoding: .utf8)
        chmod(full, mode)
        return full
    }

    /// Writes a configuration with `auth` as the instance's auth_hmac block and loads it.
    func load(_ auth: String, credentials: String? = nil) -> Result<VIPDConfiguration, ConfigError> {
        let file = path + "/vipd.yaml"
        do { try minimal("    auth_hmac: \(auth)\n").write(toFile: file, atomically: false, encoding: .utf8) } catch {
            return .failure(ConfigError(file: file, line: 0, column: 0, message: "test setup: \(error)"))
        }
        do throws(ConfigError) { return .success(try VIPDConfiguration.load(path: file, credentialsDirectory: credentials)) } catch {
            return .failure(error)
        }
    }
}

@Suite struct AuthHMACConfigTests {
    @Test func fullBlockParses() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
                auth_hmac:
                  keys: { 1: "\(key32)", 7: "\(hex32)", 9: "file:/etc/vipd/keys/web" }
                  active_key: 7
                  anti_replay: monotonic
                  time_window: 12s
                  mode: permissive

            """), file: "t")
        let auth = try #require(config.instances[0].authHMAC)
        #expect(auth.keys.map(\.id) == [1, 7, 9])
        #expect(auth.key(id: 1)?.material.bytes == Array(key32.utf8))
        #expect(auth.key(id: 7)?.material.bytes == (0..<32).map { UInt8($0) })
        #expect(auth.key(id: 9)?.source == .file("/etc/vipd/keys/web"))
        #expect(auth.key(id: 9)?.material.isEmpty == true, "parse(yaml:) reads no files")
        #expect(auth.activeKey == 7)
        #expect(auth.antiReplay == .monotonic)
        #expect(auth.timeWindow == .seconds(12))
        #expect(auth.mode == .permissive)
    }

    @Test func defaults() throws {
        let one = try VIPDConfiguration.parse(yaml: minimal("    auth_hmac: { keys: { 3: \"\(key32)\" } }\n"), file: "t")
        let auth = try #require(one.instances[0].authHMAC)
        #expect(auth.activeKey == 3, "a single key is the active one")
        #expect(auth.antiReplay == .time)
        #expect(auth.mode == .enforce)
        #expect(auth.timeWindow == .seconds(5), "max(3 × 1 s, 5 s)")
        let slow = try VIPDConfiguration.parse(yaml: minimal("    advert_interval: 4s\n    auth_hmac: { keys: { 3: \"\(key32)\" } }\n"), file: "t")
        #expect(slow.instances[0].authHMAC?.timeWindow == .seconds(12))
        let odd = try VIPDConfiguration.parse(yaml: minimal("    advert_interval: 2510ms\n    auth_hmac: { keys: { 3: \"\(key32)\" } }\n"), file: "t")
        #expect(odd.instances[0].authHMAC?.timeWindow == .seconds(8), "7.53 s rounds up to whole seconds")
        let v2 = try VIPDConfiguration.parse(yaml: minimal("    version: 2\n    advert_interval: 200s\n    auth_hmac: { keys: { 3: \"\(key32)\" } }\n"), file: "t")
        #expect(v2.instances[0].authHMAC?.timeWindow == .seconds(300), "capped at the largest allowed window")
        #expect(v2.instances[0].routerConfig(family: .ipv4, primaryAddress: ip("192.0.2.1")).authentication == .none)
    }

    @Test(arguments: [
        ("{ keys: {} }", "auth_hmac.keys is empty"),
        ("{ keys: { 0: \"\(key32)\" } }", "out of range"),
        ("{ keys: { 256: \"\(key32)\" } }", "out of range"),
        ("{ keys: { 1: \"\(key32)\", 01: \"\(key32)\" } }", "key id 1 is listed twice"),
        ("{ keys: { 1: \"\(key32)\", 2: \"\(key32)\" } }", "set active_key"),
        ("{ keys: { 1: \"\(key32)\" }, active_key: 2 }", "active_key 2 is not one of the keys (1)"),
        ("{ keys: { 1: short-secret-key } }", "the key is 16 bytes; keys are 32 to 64 bytes"),
        ("{ keys: { 1: \"\(String(repeating: "x", count: 65))\" } }", "the key is 65 bytes"),
        ("{ keys: { 1: \"hex:0011\" } }", "the key is 2 bytes"),
        ("{ keys: { 1: \"hex:001\" } }", "even number of hex digits"),
        ("{ keys: { 1: \"hex:\(String(repeating: "zz", count: 32))\" } }", "only the digits"),
        ("{ keys: { 1: \"\(String(repeating: "é", count: 20))\" } }", "only printable ASCII"),
        ("{ keys: { 1: \"file:\" } }", "file: needs a path"),
        ("{ keys: { 1: \"\(key32)\" }, anti_replay: sometimes }", "must be one of time, monotonic"),
        ("{ keys: { 1: \"\(key32)\" }, mode: strict }", "must be one of receive-only, permissive, enforce"),
        ("{ keys: { 1: \"\(key32)\" }, time_window: 500ms }", "out of range"),
        ("{ keys: { 1: \"\(key32)\" }, time_window: 301s }", "out of range"),
        ("{ keys: { 1: \"\(key32)\" }, time_window: 1500ms }", "must be whole seconds"),
        ("{ keys: { 1: \"\(key32)\" }, window: 5s }", "unknown key 'window' in auth_hmac"),
        ("{ active_key: 1 }", "missing the required key 'keys'"),
    ])
    func refusedWithPositionAndReason(_ block: String, _ expected: String) throws {
        let error = try #require(failure(parseResult(minimal("    auth_hmac: \(block)\n"))))
        #expect(error.message.contains(expected), "\(error)")
        #expect(error.line == 6, "\(error)")
        #expect(!error.message.contains(key32) && !error.message.contains("short-secret-key"), "never the key: \(error)")
    }

    @Test func excludesAuthPass() throws {
        let error = try #require(failure(parseResult(minimal("    version: 2\n    auth_pass: abc\n    auth_hmac: { keys: { 1: \"\(key32)\" } }\n"))))
        #expect(error.message.contains("auth_hmac and auth_pass exclude each other"), "\(error)")
        #expect(error.line == 8)
    }

    @Test func worksForEveryVersionFamilyAndTransport() throws {
        let yaml = """
            instances:
              - { name: a, interface: eth0, vrid: 1, version: 2, addresses: [192.0.2.1/24], auth_hmac: { keys: { 1: "\(key32)" } } }
              - { name: b, interface: eth0, vrid: 2, addresses: [192.0.2.2/24, 2001:db8::2/64], auth_hmac: { keys: { 1: "\(key32)" } } }
              - name: c
                interface: eth0
                vrid: 3
                addresses: [2001:db8::3/64]
                unicast: { source: 2001:db8::10, peers: [2001:db8::11] }
                auth_hmac: { keys: { 1: "\(key32)" }, mode: receive-only }

            """
        let config = try VIPDConfiguration.parse(yaml: yaml, file: "t")
        #expect(config.instances.allSatisfy { $0.authHMAC != nil })
    }

    @Test func rendersBackAndRedacts() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
                auth_hmac:
                  keys: { 1: "\(key32)", 2: "\(hex32)", 3: "file:web.key" }
                  active_key: 2
                  mode: receive-only

            """), file: "t")
        let rendered = config.renderYAML()
        #expect(try VIPDConfiguration.parse(yaml: rendered, file: "rendered") == config)
        let shown = config.renderYAML(redactSecrets: true)
        #expect(shown.contains("keys: { 1: \"<set>\", 2: \"<set>\", 3: \"file:web.key\" }"), "\(shown)")
        #expect(!shown.contains(key32) && !shown.contains("000102"), "\(shown)")
        #expect(shown.contains("active_key: 2\n      anti_replay: time\n      time_window: 5s\n      mode: receive-only\n"), "\(shown)")
    }

    /// Logging a configuration value (interpolation, `dump`) never shows a key.
    @Test func keysNeverPrint() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("    auth_hmac: { keys: { 1: \"\(key32)\" } }\n"), file: "t")
        var dumped = ""
        dump(config, to: &dumped)
        for text in ["\(config)", String(reflecting: config), dumped, "\(config.instances[0].authHMAC!.keys[0])"] {
            #expect(!text.contains(key32) && !text.contains("107, 107"), "\(text)")
        }
    }

    // MARK: key files (the real loader)

    @Test func keyFileLoadsAbsoluteRelativeAndFromCredentials() throws {
        let dir = try KeyDirectory(); defer { dir.cleanup() }
        let absolute = try dir.write("abs.key", key32 + "\n")
        try dir.write("next.key", hex32 + "\r\n")
        let credentials = dir.path + "/credentials"
        mkdir(credentials, 0o700)
        let credentialKey = String(repeating: "c", count: 40)
        try credentialKey.write(toFile: credentials + "/web", atomically: false, encoding: .utf8)
        chmod(credentials + "/web", 0o400)
        let config = try dir.load("{ keys: { 1: \"file:\(absolute)\", 2: \"file:next.key\", 3: \"file:web\" }, active_key: 1 }",
                                  credentials: credentials).get()
        let auth = try #require(config.instances[0].authHMAC)
        #expect(auth.key(id: 1)?.material.bytes == Array(key32.utf8))
        #expect(auth.key(id: 2)?.material.bytes == (0..<32).map { UInt8($0) }, "relative: next to the configuration file")
        #expect(auth.key(id: 3)?.material.bytes == Array(credentialKey.utf8), "relative: $CREDENTIALS_DIRECTORY first")
        #expect(auth.key(id: 3)?.source == .file("web"))
    }

    @Test(arguments: [0o640, 0o604, 0o620, 0o666, 0o700 | 0o004])
    func keyFileOpenToOthersIsRefused(_ mode: Int) throws {
        let dir = try KeyDirectory(); defer { dir.cleanup() }
        try dir.write("web.key", key32, mode: mode_t(mode))
        let error = try #require(failure(dir.load("{ keys: { 4: \"file:web.key\" } }")))
        #expect(error.line == 6 && error.message.contains("key 4: key file \(dir.path)/web.key is readable or writable by others than its owner"), "\(error)")
        #expect(error.message.contains("chmod 600"))
        #expect(!error.message.contains(key32))
    }

    @Test(arguments: [
        ("", "the key is 0 bytes"),
        (String(repeating: "s", count: 31), "the key is 31 bytes"),
        (String(repeating: "s", count: 65), "the key is 65 bytes"),
        ("file:/etc/other", "cannot name another file"),
        ("\u{1}" + String(repeating: "s", count: 40), "only printable ASCII"),
        (String(repeating: "s", count: 40) + "\n\n", "only printable ASCII"),
    ])
    func badKeyFileIsRefusedWithoutItsBytes(_ content: String, _ expected: String) throws {
        let dir = try KeyDirectory(); defer { dir.cleanup() }
        try dir.write("web.key", content)
        let error = try #require(failure(dir.load("{ keys: { 4: \"file:web.key\" } }")))
        #expect(error.line == 6 && error.message.contains(expected), "\(error)")
        #expect(content.count < 8 || !error.message.contains(String(content.prefix(20))), "\(error)")
    }

    @Test func missingKeyFileSaysWhere() throws {
        let dir = try KeyDirectory(); defer { dir.cleanup() }
        let error = try #require(failure(dir.load("{ keys: { 4: \"file:absent.key\" } }", credentials: dir.path + "/nothing")))
        #expect(error.file == dir.path + "/vipd.yaml" && error.line == 6, "\(error)")
        #expect(error.message.contains("key file \(dir.path)/absent.key cannot be opened: No such file or directory (not in $CREDENTIALS_DIRECTORY \(dir.path)/nothing either)"), "\(error)")
        let file = dir.path + "/vipd.yaml"
        let settingsOnly = try VIPDConfiguration.load(path: file, readingKeyFiles: false, credentialsDirectory: nil)
        #expect(settingsOnly.instances[0].authHMAC?.keys[0].material.isEmpty == true, "the CLI's control-socket read needs no key")
    }

    @Test func directoryIsNotAKeyFile() throws {
        let dir = try KeyDirectory(); defer { dir.cleanup() }
        mkdir(dir.path + "/sub", 0o700)
        let error = try #require(failure(dir.load("{ keys: { 4: \"file:sub\" } }")))
        #expect(error.message.contains("is not a regular file"), "\(error)")
    }
}
