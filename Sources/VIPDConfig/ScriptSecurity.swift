// Script security (keepalived's `enable_script_security`): a notify hook or track script that
// anyone but root could change would let that user run code with the daemon's capabilities. The
// loader (`VIPDConfiguration.load(path:)`, shared by check-config, run and reload) refuses such a
// program with the position of the key that names it.
//
// This is the only code in VIPDConfig that looks at the system beyond reading the file: it stats the
// programs the file names and every directory (and symbolic link) on the way to them.

#if canImport(Glibc)
import Glibc
#endif
import Yams

/// A program the configuration runs, and where the file names it.
struct ScriptReference: Equatable {
    var program: String
    /// `notify` or `track script 'NAME'`, for the message.
    var what: String
    var line: Int
    var column: Int

    /// The program of a track script's command line: its first word (`run` starts with an absolute
    /// path; the shell gets the rest as arguments).
    static func program(of run: String) -> String {
        String(run.prefix { !$0.isWhitespace })
    }
}

/// Collects references while the (non-mutating) decoder walks the tree.
final class ScriptReferences {
    private(set) var references: [ScriptReference] = []

    func add(_ program: String, _ what: String, at node: Node) {
        references.append(ScriptReference(program: program, what: what, line: node.mark?.line ?? 1,
                                          column: node.mark?.column ?? 1))
    }
}

enum ScriptSecurity {
    /// Symbolic links followed while resolving one program (Linux's own limit, MAXSYMLINKS).
    static let maxSymlinks = 40

    /// Throws at the first reference whose program anyone but root could change.
    static func check(_ references: [ScriptReference], file: String) throws(ConfigError) {
        for reference in references {
            if let problem = problem(with: reference.program) {
                throw ConfigError(file: file, line: reference.line, column: reference.column,
                                  message: "\(reference.what) \(reference.program) is refused by script security: \(problem); make it and every directory above it owned by root and writable by root only (chown root, chmod go-w), or set enable_script_security: false")
            }
        }
    }

    private static let typeMask: mode_t = 0o170000
    private static let directory: mode_t = 0o040000
    private static let regular: mode_t = 0o100000
    private static let symlink: mode_t = 0o120000
    private static let groupOrOtherWrite: mode_t = 0o022
    private static let sticky: mode_t = 0o1000

    /// Why `program` is not safe to run, or nil when only root can change it. Walks the path one
    /// component at a time from `/`, following symbolic links as the kernel would, and checks every
    /// directory, link and the program itself:
    /// - each must be owned by root;
    /// - none may be writable by group or others, except a directory with the sticky bit (`/tmp`),
    ///   where others may add entries but not replace root's;
    /// - a program that does not exist yet is accepted only if nobody but root could create it (its
    ///   nearest existing directory is root's and writable by root only, sticky or not).
    static func problem(with program: String) -> String? {
        guard program.hasPrefix("/") else { return "it is not an absolute path" }
        if let problem = checkEntry("/", status(of: "/")) { return problem }
        var resolved = ""            // "" is "/"; otherwise "/a/b", symbolic links resolved
        var pending = components(program)
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == ".." {
                resolved = String(resolved[..<(resolved.lastIndex(of: "/") ?? resolved.startIndex)])
                continue
            }
            let path = resolved + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else {
                let code = errno
                guard code == ENOENT else { return "cannot check \(path): \(String(cString: strerror(code)))" }
                // Missing: only the writers of the directory it would appear in could create it.
                let parent = resolved.isEmpty ? "/" : resolved
                var parentInfo = stat()
                guard lstat(parent, &parentInfo) == 0 else { return "cannot check \(parent)" }
                if parentInfo.st_mode & groupOrOtherWrite != 0 {
                    return "\(path) does not exist, and \(parent) (mode \(octal(parentInfo.st_mode))) lets others create it"
                }
                return nil
            }
            if let problem = checkEntry(path, info) { return problem }
            switch info.st_mode & typeMask {
            case symlink:
                links += 1
                guard links <= maxSymlinks else { return "too many symbolic links on the way to it" }
                guard let target = readLink(path) else { return "cannot read the symbolic link \(path)" }
                if target.hasPrefix("/") { resolved = "" }
                pending = components(target) + pending
            case directory:
                resolved = path
            case regular where pending.isEmpty:
                return nil
            default:
                return pending.isEmpty ? "\(path) is not a regular file" : "\(path) is not a directory"
            }
        }
        return "\(resolved.isEmpty ? "/" : resolved) is a directory, not a program"
    }

    /// Owner and write bits of one entry on the way.
    private static func checkEntry(_ path: String, _ info: stat?) -> String? {
        guard let info else { return "cannot check \(path)" }
        if info.st_uid != 0 { return "\(path) is owned by uid \(info.st_uid), not root" }
        let type = info.st_mode & typeMask
        if type == symlink { return nil }     // a link's own mode means nothing; its directory was checked
        if info.st_mode & groupOrOtherWrite != 0 && !(type == directory && info.st_mode & sticky != 0) {
            let who = info.st_mode & 0o002 != 0 ? "everyone" : "its group (gid \(info.st_gid))"
            return "\(path) is writable by \(who) (mode \(octal(info.st_mode)))"
        }
        return nil
    }

    private static func status(of path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func octal(_ mode: mode_t) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}
