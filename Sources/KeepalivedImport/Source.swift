// Where everything the importer says comes from, and the file system it reads through.

/// A line of a keepalived configuration file (through includes: the included file's own line).
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public var description: String { "\(file):\(line)" }
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line) < (b.file, b.line)
    }
}

/// Something the importer could not carry over, and what to do instead.
public struct ImportNote: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public init(_ location: SourceLocation, _ message: String) { self.location = location; self.message = message }
    /// `FILE:LINE: what, and what to do instead` — the line printed on stderr.
    public var description: String { "\(location): \(message)" }
}

/// A configuration the importer cannot read: nothing is printed, the error names FILE:LINE.
public struct KeepalivedParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public init(_ location: SourceLocation, _ message: String) { self.location = location; self.message = message }
    public var description: String { "\(location): \(message)" }
}

/// Everything the importer reads from outside: injected, so the parser and converter stay pure and
/// tests run on in-memory trees. The command line passes the real file system.
public struct KeepalivedFileSystem: Sendable {
    /// The text of a file, or nil when it cannot be read.
    public var readFile: @Sendable (String) -> String?
    /// The files an absolute glob pattern matches, sorted (as glob(3) returns them).
    public var glob: @Sendable (String) -> [String]
    /// An environment variable, for `${_ENV NAME}`.
    public var environment: @Sendable (String) -> String?

    public init(readFile: @escaping @Sendable (String) -> String?, glob: @escaping @Sendable (String) -> [String],
                environment: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.readFile = readFile; self.glob = glob; self.environment = environment
    }

    /// A tree of files held in memory (absolute path → text), globbed with `GlobPattern`; the
    /// directories above the files match too (and cannot be read), as on a real file system.
    public static func inMemory(_ files: [String: String], environment: [String: String] = [:]) -> KeepalivedFileSystem {
        var entries = Set(files.keys)
        for path in files.keys {
            var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            while parts.count > 1 { entries.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        let paths = entries.sorted()
        return KeepalivedFileSystem(
            readFile: { files[$0] },
            glob: { pattern in
                let patterns = GlobPattern.expandBraces(pattern)
                return paths.filter { path in patterns.contains { GlobPattern.matches(path, pattern: $0) } }
            },
            environment: { environment[$0] })
    }
}

/// glob(3) matching for the in-memory file system: `*`, `?`, `[...]` (with `!`/`^` and ranges),
/// `\` escapes and csh-style `{a,b}` braces; `*` and `?` do not cross `/` nor match a leading `.`.
public enum GlobPattern {
    public static func hasWildcards(_ pattern: String) -> Bool {
        pattern.contains { "*?[{".contains($0) }
    }

    /// `a{b,c{d,e}}f` → `abf`, `acdf`, `acef`.
    public static func expandBraces(_ pattern: String) -> [String] {
        let chars = Array(pattern)
        guard let open = chars.firstIndex(of: "{") else { return [pattern] }
        var depth = 0, close: Int?, commas: [Int] = []
        for i in open..<chars.count {
            if chars[i] == "{" { depth += 1 }
            if chars[i] == "}" { depth -= 1; if depth == 0 { close = i; break } }
            if chars[i] == "," && depth == 1 { commas.append(i) }
        }
        guard let close else { return [pattern] }
        let prefix = String(chars[..<open]), suffix = String(chars[(close + 1)...])
        let bounds = [open] + commas + [close]
        var result: [String] = []
        for k in 0..<(bounds.count - 1) {
            let alternative = String(chars[(bounds[k] + 1)..<bounds[k + 1]])
            result += expandBraces(prefix + alternative + suffix)
        }
        return result
    }

    public static func matches(_ path: String, pattern: String) -> Bool {
        let p = path.split(separator: "/", omittingEmptySubsequences: false).map(Array.init)
        let q = pattern.split(separator: "/", omittingEmptySubsequences: false).map(Array.init)
        guard p.count == q.count else { return false }
        return zip(p, q).allSatisfy { name, part in matchName(name[...], part[...]) }
    }

    static func matchName(_ name: ArraySlice<Character>, _ pattern: ArraySlice<Character>) -> Bool {
        if name.first == ".", pattern.first != "." { return false }
        return matchRest(name, pattern)
    }

    private static func matchRest(_ name: ArraySlice<Character>, _ pattern: ArraySlice<Character>) -> Bool {
        guard let c = pattern.first else { return name.isEmpty }
        switch c {
        case "*":
            var rest = name
            while true {
                if matchRest(rest, pattern.dropFirst()) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        case "?":
            return !name.isEmpty && matchRest(name.dropFirst(), pattern.dropFirst())
        case "[":
            guard let n = name.first, let end = pattern.dropFirst(2).firstIndex(of: "]") else {
                return name.first == "[" && matchRest(name.dropFirst(), pattern.dropFirst())
            }
            var set = pattern[(pattern.startIndex + 1)..<end]
            let negated = set.first == "!" || set.first == "^"
            if negated { set = set.dropFirst() }
            var hit = false, items = Array(set), i = 0
            while i < items.count {
                if i + 2 < items.count && items[i + 1] == "-" {
                    if items[i] <= n && n <= items[i + 2] { hit = true }
                    i += 3
                } else {
                    if items[i] == n { hit = true }
                    i += 1
                }
            }
            return hit != negated && matchRest(name.dropFirst(), pattern[(end + 1)...])
        case "\\" where pattern.count > 1:
            let literal = pattern[pattern.startIndex + 1]
            return name.first == literal && matchRest(name.dropFirst(), pattern.dropFirst(2))
        default:
            return name.first == c && matchRest(name.dropFirst(), pattern.dropFirst())
        }
    }
}
