import Foundation
import Glibc
import Testing
@testable import VIPDConfig

/// Root is needed to own the files these tests build (and to hand them to another uid); without it
/// the suite is skipped, and under CI=true it fails instead.
private let isRoot = getuid() == 0
private let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// A directory of its own under /tmp (root's, sticky), removed by `cleanup`.
private struct Sandbox {
    let path: String

    init() throws {
        try #require(isRoot, "script security tests need root (they chown files); CI=true makes this a failure")
        var template = Array("/tmp/vipd-scriptsec-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
        chmod(path, 0o755)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func script(_ relative: String, mode: mode_t = 0o755, owner: uid_t = 0) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try "#!/bin/sh\nexit 0\n".write(toFile: full, atomically: false, encoding: .utf8)
        chmod(full, mode)
        chown(full, owner, 0)
        return full
    }

    /// Writes a config whose instance runs `notify` and `track` and loads it with the real loader.
    func load(notify: String? = nil, run: String? = nil, security: Bool? = nil) -> Result<VIPDConfiguration, ConfigError> {
        var text = security.map { "enable_script_security: \($0)\n" } ?? ""
        text += "instances:\n  - name: web\n    interface: eth0\n    vrid: 51\n    addresses: [192.0.2.100/24]\n"
        if let notify { text += "    notify: \(notify)\n" }
        if let run { text += "    track:\n      scripts:\n        - run: \"\(run)\"\n" }
        let file = path + "/vipd.yaml"
        do {
            try text.write(toFile: file, atomically: false, encoding: .utf8)
        } catch {
            return .failure(ConfigError(file: file, line: 0, column: 0, message: "test setup: \(error)"))
        }
        do throws(ConfigError) { return .success(try VIPDConfiguration.load(path: file)) } catch { return .failure(error) }
    }
}

private func refusal(_ result: Result<VIPDConfiguration, ConfigError>) -> ConfigError? {
    if case .failure(let e) = result { return e }
    return nil
}

@Suite(.serialized, .enabled(if: isRoot || underCI, "script security tests need root; skipped (CI=true makes this a failure)"))
struct ScriptSecurityTests {
    @Test func rootOwnedScriptInRootOwnedDirectoriesLoads() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("etc/notify.sh")
        let check = try box.script("bin/check")
        let config = try box.load(notify: hook, run: "\(check) --flag").get()
        #expect(config.instances[0].notify == hook)
        #expect(config.enableScriptSecurity)
    }

    @Test(arguments: [(mode_t(0o775), "its group"), (mode_t(0o757), "everyone"), (mode_t(0o777), "everyone")])
    func writableHookIsRefusedAtItsPosition(_ mode: mode_t, _ who: String) throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("etc/notify.sh", mode: mode)
        let error = try #require(refusal(box.load(notify: hook)))
        #expect(error.file == box.path + "/vipd.yaml")
        #expect(error.line == 6 && error.column == 13)
        #expect(error.message.contains("notify \(hook) is refused by script security"))
        #expect(error.message.contains("\(hook) is writable by \(who)"))
        #expect(error.message.contains("enable_script_security: false"))
    }

    @Test func hookOwnedByAnotherUserIsRefused() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("etc/notify.sh", owner: 1000)
        let error = try #require(refusal(box.load(notify: hook)))
        #expect(error.message.contains("\(hook) is owned by uid 1000, not root"))
    }

    @Test func writableOrForeignDirectoryAboveIsRefused() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("a/b/notify.sh")
        chmod(box.path + "/a", 0o775)
        #expect(refusal(box.load(notify: hook))?.message.contains("\(box.path)/a is writable by its group") == true)
        chmod(box.path + "/a", 0o755)
        chown(box.path + "/a/b", 1000, 0)
        #expect(refusal(box.load(notify: hook))?.message.contains("\(box.path)/a/b is owned by uid 1000") == true)
        chown(box.path + "/a/b", 0, 0)
        #expect(throws: Never.self) { try box.load(notify: hook).get() }
    }

    @Test func trackScriptProgramIsCheckedAndArgumentsStayOutOfTheMessage() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let check = try box.script("bin/check", mode: 0o777)
        let error = try #require(refusal(box.load(run: "\(check) --token s3cr3t")))
        #expect(error.line == 8 && error.column == 16)
        #expect(error.message.contains("track script '1' \(check) is refused"))
        #expect(!error.message.contains("s3cr3t"))
    }

    @Test func symbolicLinksAreFollowedAndTheirTargetsChecked() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let unsafe = try box.script("other/real.sh", mode: 0o777)
        let link = box.path + "/etc/notify.sh"
        try FileManager.default.createDirectory(atPath: box.path + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../other/real.sh")
        #expect(refusal(box.load(notify: link))?.message.contains("\(unsafe) is writable by everyone") == true)
        chmod(unsafe, 0o755)
        #expect(throws: Never.self) { try box.load(notify: link).get() }
        // A link owned by someone else could be pointed anywhere by them.
        lchown(link, 1000, 0)
        #expect(refusal(box.load(notify: link))?.message.contains("\(link) is owned by uid 1000") == true)
    }

    @Test func stickyDirectoryOwnedByRootIsAccepted() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("shared/notify.sh")
        chmod(box.path + "/shared", 0o1777)
        #expect(throws: Never.self) { try box.load(notify: hook).get() }
    }

    @Test func missingProgramIsAcceptedOnlyWhereNobodyButRootCouldCreateIt() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        try FileManager.default.createDirectory(atPath: box.path + "/etc", withIntermediateDirectories: true)
        chmod(box.path + "/etc", 0o755)
        #expect(throws: Never.self) { try box.load(notify: box.path + "/etc/not-yet.sh").get() }
        chmod(box.path + "/etc", 0o1777)
        let error = try #require(refusal(box.load(notify: box.path + "/etc/not-yet.sh")))
        #expect(error.message.contains("\(box.path)/etc/not-yet.sh does not exist, and \(box.path)/etc (mode 1777) lets others create it"))
    }

    @Test func turningItOffAcceptsAnyScript() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("etc/notify.sh", mode: 0o777, owner: 1000)
        #expect(refusal(box.load(notify: hook)) != nil)
        let config = try box.load(notify: hook, security: false).get()
        #expect(!config.enableScriptSecurity)
    }

    @Test func readingOnlyTheSocketSkipsTheCheck() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let hook = try box.script("etc/notify.sh", mode: 0o777)
        #expect(refusal(box.load(notify: hook)) != nil)
        let config = try VIPDConfiguration.load(path: box.path + "/vipd.yaml", checkingScripts: false)
        #expect(config.instances[0].notify == hook)
    }

    @Test func directoryIsNotAProgram() throws {
        let box = try Sandbox(); defer { box.cleanup() }
        #expect(refusal(box.load(notify: box.path))?.message.contains("is a directory, not a program") == true)
    }
}

@Suite struct ScriptNameAndSecretTests {
    @Test func trackScriptsAreNamedByPositionUnlessNamed() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
                track:
                  scripts:
                    - run: /bin/true --password hunter2
                    - { name: web-health, run: /bin/true }
                    - run: /bin/false

            """), file: "t")
        #expect(config.instances[0].track.scripts.map(\.name) == ["1", "web-health", "3"])
        let again = try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "rendered")
        #expect(again == config)
    }

    @Test func duplicateOrBadScriptNamesAreRefused() {
        let duplicate = parseResult(minimal("""
                track:
                  scripts:
                    - run: /bin/true
                    - { name: "1", run: /bin/false }

            """))
        guard case .failure(let e) = duplicate else { Issue.record("accepted a duplicate name"); return }
        #expect(e.line == 9 && e.message.contains("track script name '1' is used twice"))
        guard case .failure(let bad) = parseResult(minimal("    track: { scripts: [ { name: \"a b\", run: /bin/true } ] }\n")) else {
            Issue.record("accepted a name with a space"); return
        }
        #expect(bad.message.contains("may contain only letters"))
    }

    @Test func redactedRenderingNeverShowsTheAuthPass() throws {
        let config = try VIPDConfiguration.parse(yaml: """
            instances:
              - { name: db, interface: eth0, vrid: 52, version: 2, auth_pass: pw-x7q, addresses: [192.0.2.101/24] }
            """, file: "t")
        let shown = config.renderYAML(redactSecrets: true)
        #expect(!shown.contains("pw-x7q"))
        #expect(shown.contains("auth_pass: \"<set>\"\n"))
        #expect(config.renderYAML().contains("auth_pass: pw-x7q\n"))
    }

    @Test func scriptSecurityKeyDefaultsToOnAndRenders() throws {
        let on = try VIPDConfiguration.parse(yaml: minimal(), file: "t")
        #expect(on.enableScriptSecurity)
        #expect(on.renderYAML().contains("lock_memory: false\nenable_script_security: true\n"))
        let off = try VIPDConfiguration.parse(yaml: "enable_script_security: false\n" + minimal(), file: "t")
        #expect(!off.enableScriptSecurity)
        #expect(try VIPDConfiguration.parse(yaml: off.renderYAML(), file: "r") == off)
    }

    @Test func programOfACommandLineIsItsFirstWord() {
        #expect(ScriptReference.program(of: "/usr/bin/curl -sf http://x") == "/usr/bin/curl")
        #expect(ScriptReference.program(of: "/bin/check\t--a") == "/bin/check")
        #expect(ScriptReference.program(of: "/bin/check") == "/bin/check")
    }
}

/// keepalived's notify keys name programs too: each is checked, and refused at its own position.
@Suite(.serialized, .enabled(if: isRoot || underCI, "script security tests need root; skipped (CI=true makes this a failure)"))
struct KeepalivedNotifyScriptSecurityTests {
    @Test(arguments: ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify", "group notify", "group notify_fault"])
    func everyNotifyProgramIsChecked(_ key: String) throws {
        let box = try Sandbox(); defer { box.cleanup() }
        let safe = try box.script("etc/safe.sh")
        let unsafe = try box.script("etc/unsafe.sh", mode: 0o777)
        var text = "instances:\n  - name: web\n    interface: eth0\n    vrid: 51\n    addresses: [192.0.2.100/24]\n"
        text += "    notify_style: keepalived\n    notify_master: \"\(safe) master\"\n"
        var line = 0
        if key.hasPrefix("group ") {
            text += "sync_groups:\n  - name: g\n    instances: [web]\n"
            line = 11
            text += "    \(key.dropFirst(6)): \"\(unsafe) 'an argument'\"\n"
        } else if key == "notify_master" {
            text = text.replacingOccurrences(of: "\(safe) master", with: "\(unsafe) master")
            line = 7
        } else {
            line = 8
            text += "    \(key): \"\(unsafe) 'an argument'\"\n"
        }
        let file = box.path + "/vipd.yaml"
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        let error: ConfigError
        do throws(ConfigError) {
            _ = try VIPDConfiguration.load(path: file)
            Issue.record("\(key) with a world-writable program was accepted")
            return
        } catch let e { error = e }
        #expect(error.line == line, "\(error)")
        #expect(error.message.contains("\(unsafe) is refused by script security"), "\(error)")
        #expect(error.message.contains("\(unsafe) is writable by everyone"))
        #expect(!error.message.contains("an argument"))
    }
}
