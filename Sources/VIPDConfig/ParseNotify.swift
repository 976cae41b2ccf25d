// Parsing keepalived's notify convention (`notify_style`, `notify_master` / `_backup` / `_fault` /
// `_stop`, a sync group's `notify*`) and the users scripts run as (`script_user`, a track script's
// `user`). Kept apart from Parse.swift: the values are in Notify.swift.

#if canImport(Glibc)
import Glibc
#endif
import Yams

enum NotifyKeys {
    static let states = ["notify_master", "notify_backup", "notify_fault", "notify_stop"]
    static let instance = ["notify_style"] + states
    static let syncGroup = ["notify"] + states
}

/// keepalived's word splitting of a script line (keepalived.conf(5), "Quoted strings"): unquoted
/// white space separates words; `'…'` and `"…"` group (the quotes are removed, white space inside
/// kept); a backslash outside single quotes takes the next character literally. No shell is involved:
/// `$`, `|`, `>` and globs are ordinary characters, as when keepalived execs a script itself.
enum CommandLine {
    enum SplitError: Error, Equatable { case unterminatedQuote(Character), trailingBackslash }

    /// Words back to a line `split` reads as the same words.
    static func join(_ words: [String]) -> String {
        words.map { word in
            let plain = !word.isEmpty && !word.contains { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == "\\" }
            if plain { return word }
            return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: " ")
    }

    static func split(_ text: String) -> Result<[String], SplitError> {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped {
                current.append(c); escaped = false; inWord = true
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
                continue
            }
            switch c {
            case "'", "\"": quote = c; inWord = true
            case "\\": escaped = true
            case _ where c.isWhitespace:
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(c); inWord = true
            }
        }
        if let q = quote { return .failure(.unterminatedQuote(q)) }
        if escaped { return .failure(.trailingBackslash) }
        if inWord { words.append(current) }
        return .success(words)
    }
}

extension ConfigDecoder {
    /// A command line run without a shell: split as keepalived splits it; the first word must be an
    /// absolute path (vipd does no PATH search). Its program goes to script security.
    func commandLine(_ node: Node, _ what: String) throws(ConfigError) -> [String] {
        // A tab may be part of an argument (keepalived turns `\t` in a script line into one); other
        // control and formatting characters are refused as in every string.
        let text = try reader.scalar(node, what)
        guard !text.isEmpty else { throw reader.error(at: node, "\(what) must not be empty") }
        guard !text.unicodeScalars.contains(where: {
            $0 != "\t" && ($0.properties.generalCategory == .control || $0.properties.generalCategory == .format)
        }) else {
            throw reader.error(at: node, "\(what) must not contain control or invisible formatting characters other than tabs")
        }
        guard text.utf8.count <= 4096 else {
            throw reader.error(at: node, "\(what) is \(text.utf8.count) bytes long; at most 4096 are allowed")
        }
        let words: [String]
        switch CommandLine.split(text) {
        case .success(let w): words = w
        case .failure(.unterminatedQuote(let q)):
            throw reader.error(at: node, "\(what): the quote \(q) is never closed")
        case .failure(.trailingBackslash):
            throw reader.error(at: node, "\(what) ends with a backslash that escapes nothing")
        }
        guard let program = words.first, program.hasPrefix("/") else {
            throw reader.error(at: node, "\(what) '\(text)' must start with the absolute path of the program (vipd runs it without a shell and without a PATH search)")
        }
        scripts.add(program, what, at: node)
        return words
    }

    /// `notify_master` / `_backup` / `_fault` / `_stop` of an instance or a sync group.
    func stateCommands(_ f: Fields, in what: String) throws(ConfigError) -> StateCommands {
        var commands = StateCommands()
        if let n = f.optional("notify_master") { commands.master = try commandLine(n, "notify_master of \(what)") }
        if let n = f.optional("notify_backup") { commands.backup = try commandLine(n, "notify_backup of \(what)") }
        if let n = f.optional("notify_fault") { commands.fault = try commandLine(n, "notify_fault of \(what)") }
        if let n = f.optional("notify_stop") { commands.stop = try commandLine(n, "notify_stop of \(what)") }
        return commands
    }

    /// An instance's `notify`, `notify_style` and `notify_STATE` keys.
    func instanceNotify(_ f: Fields, into c: inout InstanceConfig) throws(ConfigError) {
        if let n = f.optional("notify_style") {
            c.notifyStyle = try reader.oneOf(n, "notify_style", NotifyStyle.allCases.map { ($0.rawValue, $0) })
        }
        if let n = f.optional("notify") {
            switch c.notifyStyle {
            case .vipd:
                let path = try reader.absolutePath(n, "notify")
                scripts.add(path, "notify", at: n)
                c.notify = path
            case .keepalived:
                // keepalived's `notify` may carry arguments; its four are appended after them.
                let words = try commandLine(n, "notify")
                c.notify = words[0]
                c.notifyArguments = Array(words.dropFirst())
            }
        }
        c.stateCommands = try stateCommands(f, in: "instance '\(c.name)'")
    }

    /// `script_user` or a track script's `user`: `USER` or `USER:GROUP`. The names are looked up
    /// by `load(path:)` (`ScriptUsers.resolve`), at this node's position.
    func scriptUser(_ node: Node, _ what: String) throws(ConfigError) -> ScriptUser {
        let text = try reader.string(node, what, maxBytes: 256)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw reader.error(at: node, "\(what) '\(text)' must be USER or USER:GROUP (keepalived's `script_user USER GROUP` is written USER:GROUP)")
        }
        users.add(UserReference(name: text, what: what, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        return ScriptUser(name: text, user: parts[0], group: parts.count == 2 ? parts[1] : nil)
    }
}

/// A `script_user` or track script `user` and where the file names it.
struct UserReference {
    var name: String
    var what: String
    var line: Int
    var column: Int
}

final class UserReferences {
    private(set) var references: [UserReference] = []
    func add(_ reference: UserReference) { references.append(reference) }
}

/// Looks the users and groups up in the system's databases (NSS): the second look at the system in
/// VIPDConfig besides script security, done by `load(path:)` for the same reason.
enum ScriptUsers {
    /// Fills in every ScriptUser's ids; throws at the first name that does not exist, in file order.
    static func resolve(_ references: [UserReference], into config: inout VIPDConfiguration, file: String) throws(ConfigError) {
        var ids: [String: (uid: UInt32, gid: UInt32)] = [:]
        for reference in references where ids[reference.name] == nil {
            let parts = reference.name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard let user = lookUpUser(parts[0]) else {
                throw ConfigError(file: file, line: reference.line, column: reference.column,
                                  message: "\(reference.what): there is no user '\(parts[0])' on this system; create it or name an existing user")
            }
            var gid = user.gid
            if parts.count == 2 {
                guard let group = lookUpGroup(parts[1]) else {
                    throw ConfigError(file: file, line: reference.line, column: reference.column,
                                      message: "\(reference.what): there is no group '\(parts[1])' on this system; create it or name an existing group")
                }
                gid = group
            }
            ids[reference.name] = (user.uid, gid)
        }
        func fill(_ user: inout ScriptUser?) {
            guard let name = user?.name, let found = ids[name] else { return }
            user?.uid = found.uid
            user?.gid = found.gid
        }
        fill(&config.scriptUser)
        for i in config.instances.indices {
            for j in config.instances[i].track.scripts.indices { fill(&config.instances[i].track.scripts[j].user) }
        }
    }

    private static func lookUpUser(_ name: String) -> (uid: UInt32, gid: UInt32)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_gid)
    }

    private static func lookUpGroup(_ name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 65_536)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
