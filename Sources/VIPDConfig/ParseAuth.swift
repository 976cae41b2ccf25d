// `auth_hmac` in the configuration file: the block's keys, and the key files `load(path:)` reads.
// Error messages say where and what is wrong with a key, never its bytes.

#if canImport(Glibc)
import Glibc
#endif
import VRRP
import Yams

extension Keys {
    static let authHMAC = ["keys", "active_key", "anti_replay", "time_window", "mode"]
}

/// A `file:` key the decoder found, for the loader to read (with the key's position).
struct KeyFileReference: Equatable {
    var instance: Int
    var keyID: UInt8
    var path: String
    var line: Int
    var column: Int
}

/// Collects key-file references while the (non-mutating) decoder walks the tree.
final class KeyFileReferences {
    private(set) var references: [KeyFileReference] = []
    func add(_ reference: KeyFileReference) { references.append(reference) }
}

/// What a key's text (in the file, or in a key file) says.
enum KeyText {
    case file(String)
    case bytes([UInt8])

    /// Parses `file:PATH`, `hex:…` or ASCII text; `allowFile` is false inside a key file. The
    /// error is a sentence without the key's bytes.
    static func parse(_ text: String, allowFile: Bool) -> Result<KeyText, KeyProblem> {
        if text.hasPrefix("file:") {
            guard allowFile else { return .failure(KeyProblem("a key file cannot name another file")) }
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return .failure(KeyProblem("file: needs a path or a credential name")) }
            return .success(.file(path))
        }
        let bytes: [UInt8]
        if text.hasPrefix("hex:") {
            let digits = Array(text.utf8.dropFirst(4))
            guard digits.count % 2 == 0 else {
                return .failure(KeyProblem("hex: needs an even number of hex digits, got \(digits.count)"))
            }
            var out: [UInt8] = []
            out.reserveCapacity(digits.count / 2)
            for i in stride(from: 0, to: digits.count, by: 2) {
                guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else {
                    return .failure(KeyProblem("hex: may contain only the digits 0-9 and a-f (A-F)"))
                }
                out.append(high << 4 | low)
            }
            bytes = out
        } else {
            if let index = text.unicodeScalars.firstIndex(where: { $0.value < 0x20 || $0.value > 0x7e }) {
                let position = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: index) + 1
                return .failure(KeyProblem("an ASCII key may contain only printable ASCII characters; character \(position) is not (write other bytes as hex:…)"))
            }
            bytes = Array(text.utf8)
        }
        guard HMACKey.lengthRange.contains(bytes.count) else {
            return .failure(KeyProblem("the key is \(bytes.count) bytes; keys are \(HMACKey.lengthRange.lowerBound) to \(HMACKey.lengthRange.upperBound) bytes"))
        }
        return .success(.bytes(bytes))
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

struct KeyProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension ConfigDecoder {
    /// The `auth_hmac` block of instance number `index` (0-based, for the key-file references).
    func authHMAC(_ node: Node, instance c: InstanceConfig, index: Int) throws(ConfigError) -> HMACAuthConfig {
        let f = try Fields(node, "auth_hmac", allowed: Keys.authHMAC, reader: reader)
        let keysNode = try f.required("keys", in: "auth_hmac")
        var keys: [HMACKey] = []
        for (keyNode, valueNode) in try reader.mapping(keysNode, "auth_hmac.keys") {
            let id = UInt8(try reader.integer(keyNode, "a key id in auth_hmac.keys", 1...255))
            guard !keys.contains(where: { $0.id == id }) else {
                throw reader.error(at: keyNode, "key id \(id) is listed twice in auth_hmac.keys")
            }
            let text = try reader.scalar(valueNode, "key \(id)")
            switch KeyText.parse(text, allowFile: true) {
            case .failure(let problem):
                throw reader.error(at: valueNode, "key \(id): \(problem.message)")
            case .success(.bytes(let bytes)):
                keys.append(HMACKey(id: id, material: bytes))
            case .success(.file(let path)):
                guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                    throw reader.error(at: valueNode, "key \(id): the file name must not contain control characters")
                }
                keys.append(HMACKey(id: id, source: .file(path), material: []))
                keyFiles.add(KeyFileReference(instance: index, keyID: id, path: path,
                                              line: valueNode.mark?.line ?? 1, column: valueNode.mark?.column ?? 1))
            }
        }
        guard !keys.isEmpty else {
            throw reader.error(at: keysNode, "auth_hmac.keys is empty: configure at least one key (id: \"file:PATH\", \"hex:…\" or an ASCII key)")
        }
        let activeKey: UInt8
        if let n = f.optional("active_key") {
            activeKey = UInt8(try reader.integer(n, "auth_hmac.active_key", 1...255))
            guard keys.contains(where: { $0.id == activeKey }) else {
                throw reader.error(at: n, "auth_hmac.active_key \(activeKey) is not one of the keys (\(keys.map { "\($0.id)" }.sorted().joined(separator: ", ")))")
            }
        } else {
            guard keys.count == 1 else {
                throw reader.error(at: node, "auth_hmac has \(keys.count) keys: set active_key to the one adverts are signed with")
            }
            activeKey = keys[0].id
        }
        var auth = HMACAuthConfig(keys: keys, activeKey: activeKey,
                                  timeWindow: HMACAuthConfig.defaultTimeWindow(advertInterval: c.advertInterval))
        if let n = f.optional("anti_replay") {
            auth.antiReplay = try reader.oneOf(n, "auth_hmac.anti_replay", HMACAuthConfig.AntiReplay.allCases.map { ($0.rawValue, $0) })
        }
        if let n = f.optional("time_window") {
            auth.timeWindow = try reader.duration(n, "auth_hmac.time_window", HMACAuthConfig.timeWindowRange)
            guard auth.timeWindow.components.attoseconds == 0 else {
                throw reader.error(at: n, "auth_hmac.time_window \(DurationText.render(auth.timeWindow)) must be whole seconds (the trailer's timestamps are compared in seconds)")
            }
        }
        if let n = f.optional("mode") {
            auth.mode = try reader.oneOf(n, "auth_hmac.mode", HMACAuthConfig.Mode.allCases.map { ($0.rawValue, $0) })
        }
        return auth
    }
}

/// Reading `file:` keys: done by `load(path:)` (check-config, run and reload), never by `parse`.
public enum KeyFiles {
    /// Largest key file read: a 64-byte key written as `hex:` with a line end fits many times.
    static let maxFileBytes = 4096

    /// systemd's `$CREDENTIALS_DIRECTORY` (set for a unit with `LoadCredential=`), if set.
    public static func environmentCredentialsDirectory() -> String? {
        getenv("CREDENTIALS_DIRECTORY").map { String(cString: $0) }
    }

    /// Fills in the material of every `file:` key of `config`. A relative name is looked up in
    /// `credentialsDirectory` (systemd's `$CREDENTIALS_DIRECTORY`) when set and the file is there,
    /// otherwise next to the configuration file.
    static func load(_ references: [KeyFileReference], into config: inout VIPDConfiguration, file: String,
                     credentialsDirectory: String?) throws(ConfigError) {
        for reference in references {
            func fail(_ message: String) -> ConfigError {
                ConfigError(file: file, line: reference.line, column: reference.column, message: "key \(reference.keyID): \(message)")
            }
            let path = resolve(reference.path, configFile: file, credentialsDirectory: credentialsDirectory)
            let bytes: [UInt8]
            switch read(path) {
            case .failure(let problem):
                var message = "key file \(path) \(problem.message)"
                if !reference.path.hasPrefix("/") {
                    message += credentialsDirectory.map { " (not in $CREDENTIALS_DIRECTORY \($0) either)" }
                        ?? " ($CREDENTIALS_DIRECTORY is not set: outside a unit with LoadCredential=, relative names are read next to the configuration file)"
                }
                throw fail(message)
            case .success(let content): bytes = content
            }
            // One line end is allowed (`echo KEY > file`); bytes that are not UTF-8 become U+FFFD,
            // which the ASCII check then refuses.
            var body = bytes[...]
            if body.last == UInt8(ascii: "\n") { body = body.dropLast() }
            if body.last == UInt8(ascii: "\r") { body = body.dropLast() }
            let text = String(decoding: body, as: UTF8.self)
            switch KeyText.parse(text, allowFile: false) {
            case .failure(let problem): throw fail("key file \(path): \(problem.message)")
            case .success(.file): throw fail("key file \(path): a key file cannot name another file")
            case .success(.bytes(let key)):
                var instance = config.instances[reference.instance]
                guard var auth = instance.authHMAC, let slot = auth.keys.firstIndex(where: { $0.id == reference.keyID }) else { continue }
                auth.keys[slot].material = SecretBytes(key)
                instance.authHMAC = auth
                config.instances[reference.instance] = instance
            }
        }
    }

    static func resolve(_ name: String, configFile: String, credentialsDirectory: String?) -> String {
        if name.hasPrefix("/") { return name }
        if let directory = credentialsDirectory, !directory.isEmpty {
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if access(candidate, F_OK) == 0 { return candidate }
        }
        let directory = configFile.contains("/") ? String(configFile[..<configFile.lastIndex(of: "/")!]) : "."
        return (directory.isEmpty ? "" : directory) + "/" + name
    }

    /// The file's bytes, when it is a regular file of the daemon's user that nobody else may read
    /// or write. Checks the opened file (fstat), so what is checked is what is read.
    static func read(_ path: String) -> Result<[UInt8], KeyProblem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return .failure(KeyProblem("cannot be opened: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(KeyProblem("cannot be checked: \(String(cString: strerror(errno)))")) }
        guard info.st_mode & 0o170000 == 0o100000 else { return .failure(KeyProblem("is not a regular file")) }
        let mode = String(info.st_mode & 0o7777, radix: 8)
        guard info.st_mode & 0o077 == 0 else {
            return .failure(KeyProblem("is readable or writable by others than its owner (mode \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode)): chmod 600 it"))
        }
        guard info.st_uid == geteuid() else {
            return .failure(KeyProblem("is owned by uid \(info.st_uid), not by the daemon's user (uid \(geteuid())): chown it"))
        }
        guard info.st_size <= maxFileBytes else {
            return .failure(KeyProblem("is \(info.st_size) bytes; a key file holds one key (hex:… or ASCII) on one line"))
        }
        var buffer = [UInt8](repeating: 0, count: maxFileBytes + 1)
        var count = 0
        while count < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(KeyProblem("cannot be read: \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            count += n
        }
        guard count <= maxFileBytes else { return .failure(KeyProblem("is longer than \(maxFileBytes) bytes")) }
        return .success(Array(buffer[..<count]))
    }
}
