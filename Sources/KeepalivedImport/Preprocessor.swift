// keepalived's line reader (lib/parser.c read_line) as 2.2.x applies it, before any keyword is looked
// at: comments, `include` and its variants, `@ID` / `@^ID` conditional lines, `$NAME=VALUE`
// definitions with `\` continuation, `$NAME` / `${NAME}` substitution, `~SEQ` / `~LST` sequences,
// and the split of lines at `{` / `}`. Every line it produces keeps the FILE:LINE it came from.

/// A line as keepalived's keyword parser sees it, with its origin.
struct LogicalLine: Hashable, Sendable {
    var text: String
    var location: SourceLocation
}

struct Preprocessor {
    let fileSystem: KeepalivedFileSystem
    let configID: String
    private(set) var lines: [LogicalLine] = []
    private(set) var notes: [ImportNote] = []

    /// A definition's value: one line, or the lines of a multi-line (`\`-continued) definition.
    private var definitions: [String: [String]] = [:]
    private var multilineNames: Set<String> = []
    /// The multi-line definition still collecting continuation lines.
    private var collecting: String?
    private var includeStack: [String] = []

    static let maxIncludeDepth = 32
    static let maxLines = 100_000
    static let maxSubstitutions = 1_000
    static let maxNesting = 64
    static let maxLineLength = 65_536

    init(fileSystem: KeepalivedFileSystem, configID: String) {
        self.fileSystem = fileSystem; self.configID = configID
    }

    mutating func read(file: String) throws(KeepalivedParseError) {
        try readFile(file, includedFrom: nil)
    }

    // MARK: files

    private mutating func readFile(_ path: String, includedFrom: SourceLocation?) throws(KeepalivedParseError) {
        let here = includedFrom ?? SourceLocation(file: path, line: 1)
        guard let text = fileSystem.readFile(path) else {
            throw KeepalivedParseError(here, "cannot read \(path)")
        }
        guard includeStack.count < Self.maxIncludeDepth else {
            throw KeepalivedParseError(here, "includes nest deeper than \(Self.maxIncludeDepth) files")
        }
        guard !includeStack.contains(path) else {
            throw KeepalivedParseError(here, "\(path) includes itself (through \(includeStack.joined(separator: " → ")))")
        }
        includeStack.append(path)
        defer { includeStack.removeLast(); collecting = nil }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let location = SourceLocation(file: path, line: index + 1)
            var line = Substring(raw)
            while line.last == "\r" { line = line.dropLast() }
            if line.isEmpty { collecting = nil; continue }
            let clean = try decomment(String(line), at: location)
            if let name = collecting {
                var part = clean
                let continued = part.hasSuffix("\\")
                if continued { part = trimmedTrailingBlanks(String(part.dropLast())) }
                if !part.isEmpty { definitions[name, default: []].append(part) }
                if !continued { collecting = nil }
                continue
            }
            if clean.isEmpty { continue }
            try process(clean, at: location, depth: 0)
        }
    }

    // MARK: one line

    private mutating func process(_ text: String, at location: SourceLocation, depth: Int) throws(KeepalivedParseError) {
        guard depth < Self.maxNesting else {
            throw KeepalivedParseError(location, "definitions and sequences nest deeper than \(Self.maxNesting) levels")
        }
        var buffer = text
        var following: [String] = []
        var rounds = 0
        while true {
            if buffer.hasPrefix("@") {
                guard let kept = conditional(buffer) else { buffer = ""; break }
                buffer = kept
            }
            if buffer.hasPrefix("$"), defineIfDefinition(buffer) { buffer = ""; break }
            if buffer.hasPrefix("~SEQ") || buffer.hasPrefix("~LST") {
                try expandSequence(buffer, at: location, depth: depth)
                return
            }
            if buffer.hasPrefix("~") { break }
            guard buffer.contains("$") else { break }
            guard let (replaced, rest) = try substitute(buffer, at: location) else { break }
            following += rest
            buffer = try decomment(replaced, at: location)
            rounds += 1
            guard rounds < Self.maxSubstitutions else {
                throw KeepalivedParseError(location, "parameter substitution does not end (a definition refers to itself?)")
            }
            if !(buffer.hasPrefix("@") || buffer.contains("$")) { break }
        }
        if !buffer.isEmpty {
            if let include = Include(buffer) {
                try self.include(include, at: location)
            } else {
                try emit(buffer, at: location)
            }
        }
        for line in following { try process(line, at: location, depth: depth + 1) }
    }

    /// `@ID rest` / `@^ID rest`: the rest when it applies to this config id, nil when the line is dropped.
    private func conditional(_ line: String) -> String? {
        var body = line.dropFirst()
        let negated = body.first == "^"
        if negated { body = body.dropFirst() }
        guard let space = body.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = body[..<space] == configID
        guard matches != negated else { return nil }
        return String(body[space...].drop { $0 == " " || $0 == "\t" })
    }

    /// `$NAME=VALUE` (no space before `=`): records the definition; a value ending in `\` starts a
    /// multi-line definition (the following lines up to one without `\`).
    private mutating func defineIfDefinition(_ line: String) -> Bool {
        let chars = Array(line)
        guard chars.count > 1, chars[1].isASCII, chars[1].isLetter || chars[1] == "_" else { return false }
        var i = 2
        while i < chars.count, chars[i] != "=" {
            guard chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" else { return false }
            i += 1
        }
        guard i < chars.count else { return false }
        let name = String(chars[1..<i])
        var value = String(chars[(i + 1)...].drop { $0 == " " || $0 == "\t" })
        if value.hasSuffix("\\") {
            value = trimmedTrailingBlanks(String(value.dropLast()))
            definitions[name] = value.isEmpty ? [] : [value]
            multilineNames.insert(name)
            collecting = name
        } else {
            definitions[name] = [value]
            multilineNames.remove(name)
        }
        return true
    }

    // MARK: substitution

    /// Replaces the first definitions found, rescanning at the same place so values are substituted
    /// in turn (keepalived's replace_param). nil when nothing was replaced. A multi-line definition
    /// (allowed only as the last thing on its line) gives its first line in place and the others
    /// after it.
    private func substitute(_ line: String, at location: SourceLocation) throws(KeepalivedParseError) -> (String, [String])? {
        var chars = Array(line)
        var i = 0, replaced = false, rest: [String] = []
        var count = 0
        while i < chars.count - 1 {
            guard chars[i] == "$", let reference = Reference(chars, dollar: i) else { i += 1; continue }
            let atEnd = reference.end == chars.count
            guard let value = try self.value(of: reference, wholeRest: atEnd, at: location) else { i += 1; continue }
            count += 1
            guard count < Self.maxSubstitutions else {
                throw KeepalivedParseError(location, "parameter substitution does not end (a definition refers to itself?)")
            }
            replaced = true
            let first = value.first ?? ""
            chars.replaceSubrange(i..<reference.end, with: Array(first))
            guard chars.count <= Self.maxLineLength else {
                throw KeepalivedParseError(location, "parameter substitution makes the line longer than \(Self.maxLineLength) characters")
            }
            if value.count > 1 { rest = Array(value.dropFirst()); break }
            if first.drop(while: { $0 == " " || $0 == "\t" }).first == "~" { break }
        }
        return replaced ? (String(chars), rest) : nil
    }

    /// The lines a reference stands for; nil when it is not defined (left as written).
    private func value(of reference: Reference, wholeRest: Bool, at location: SourceLocation) throws(KeepalivedParseError) -> [String]? {
        if let lines = definitions[reference.name] {
            if multilineNames.contains(reference.name) {
                guard wholeRest, reference.parameters.isEmpty else { return nil }
                return lines.isEmpty ? [""] : lines
            }
            return reference.parameters.isEmpty ? lines : nil
        }
        switch (reference.name, reference.braced) {
        case ("_PWD", _) where reference.parameters.isEmpty:
            let file = location.file
            let directory = file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "."
            return [directory.isEmpty ? "/" : directory]
        case ("_INSTANCE", _) where reference.parameters.isEmpty: return [configID]
        case ("_HASH", _) where reference.parameters.isEmpty: return ["#"]
        case ("_BANG", _) where reference.parameters.isEmpty: return ["!"]
        case ("_ENV", true) where reference.parameters.count == 1:
            let name = reference.parameters[0]
            // systemd's credentials directory exists only inside the unit: kept as a name the
            // converter turns into vipd's own credential lookup (auth_hmac `file:NAME`).
            if name == "CREDENTIALS_DIRECTORY", fileSystem.environment(name) == nil { return ["$CREDENTIALS_DIRECTORY"] }
            return [fileSystem.environment(name) ?? ""]
        case ("_RANDOM", _):
            throw KeepalivedParseError(location, "${_RANDOM} takes a new value each time keepalived reads the file; write the value you want instead")
        default:
            return nil
        }
    }

    /// `$NAME` (followed by a blank, `,`, `)` or the end of the line) or `${NAME}` / `${NAME P1 P2}`.
    struct Reference {
        var name: String
        var parameters: [String]
        var braced: Bool
        /// Index just past the reference.
        var end: Int

        init?(_ chars: [Character], dollar: Int) {
            var i = dollar + 1
            braced = i < chars.count && chars[i] == "{"
            if braced { i += 1 }
            func isNameStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
            func isName(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
            guard i < chars.count, isNameStart(chars[i]) else { return nil }
            let start = i
            while i < chars.count, isName(chars[i]) { i += 1 }
            name = String(chars[start..<i])
            parameters = []
            if braced {
                var words: [String] = [], word = ""
                while i < chars.count, chars[i] != "}" {
                    if chars[i] == " " || chars[i] == "\t" {
                        if !word.isEmpty { words.append(word); word = "" }
                    } else if isName(chars[i]) {
                        word.append(chars[i])
                    } else {
                        return nil
                    }
                    i += 1
                }
                guard i < chars.count, chars[i - 1] != " ", chars[i - 1] != "\t" else { return nil }
                if !word.isEmpty { words.append(word) }
                parameters = words
                end = i + 1
            } else {
                guard i == chars.count || " \t,)".contains(chars[i]) else { return nil }
                end = i
            }
        }
    }

    // MARK: ~SEQ / ~LST

    /// `~SEQ(VAR, START, STEP, END)` (`~SEQx`: hexadecimal) and `~LST(VAR, V1, V2…)` /
    /// `~LST({A, B}, {1, 2}, {3, 4})`: the rest of the line once per value, nested when it holds
    /// another sequence.
    private mutating func expandSequence(_ line: String, at location: SourceLocation, depth: Int) throws(KeepalivedParseError) {
        let isList = line.hasPrefix("~LST")
        var body = Substring(line).dropFirst(4)
        let hex = !isList && body.first == "x"
        if hex { body = body.dropFirst() }
        body = body.drop { $0 == " " || $0 == "\t" }
        guard body.first == "(", let close = Self.closingParenthesis(body) else {
            throw KeepalivedParseError(location, "\(isList ? "~LST" : "~SEQ") needs (…) after it: \(line)")
        }
        var inside = String(body[body.index(after: body.startIndex)..<close])
        if let (replaced, rest) = try substitute(inside, at: location) {
            guard rest.isEmpty else { throw KeepalivedParseError(location, "a multi-line definition cannot be a sequence's parameter") }
            inside = replaced
        }
        let text = String(body[body.index(after: close)...].drop { $0 == " " || $0 == "\t" })
        let assignments = isList ? try Self.listAssignments(inside, line: line, at: location)
                                 : try Self.sequenceAssignments(inside, hex: hex, line: line, at: location)
        guard lines.count + assignments.count <= Self.maxLines else {
            throw KeepalivedParseError(location, "the sequence expands beyond \(Self.maxLines) lines")
        }
        for assignment in assignments {
            for (name, value) in assignment {
                definitions[name] = [value]
                multilineNames.remove(name)
            }
            try process(text, at: location, depth: depth + 1)
            guard lines.count <= Self.maxLines else {
                throw KeepalivedParseError(location, "the sequence expands beyond \(Self.maxLines) lines")
            }
        }
    }

    private static func closingParenthesis(_ text: Substring) -> Substring.Index? {
        var depth = 0
        for i in text.indices {
            if text[i] == "(" { depth += 1 }
            if text[i] == ")" { depth -= 1; if depth == 0 { return i } }
        }
        return nil
    }

    private static func sequenceAssignments(_ inside: String, hex: Bool, line: String, at location: SourceLocation) throws(KeepalivedParseError) -> [[(String, String)]] {
        let parts = inside.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() }
        let invalid = KeepalivedParseError(location, "invalid ~SEQ: \(line) (write ~SEQ(VAR, START, STEP, END), ~SEQ(VAR, START, END) or ~SEQ(VAR, END))")
        guard (2...4).contains(parts.count), let variable = parts.first, !variable.isEmpty, !variable.hasPrefix("{") else { throw invalid }
        var numbers: [Int] = []
        for part in parts.dropFirst() {
            guard let n = parseCInteger(part) else { throw invalid }
            numbers.append(n)
        }
        let start: Int, step: Int, end: Int
        switch numbers.count {
        case 1: end = numbers[0]; step = end < 1 ? -1 : 1; start = end < 0 ? -1 : 1
        case 2: start = numbers[0]; end = numbers[1]; step = start <= end ? 1 : -1
        default:
            start = numbers[0]; step = numbers[1]; end = numbers[2]
            guard step != 0, !(start < end && step < 0), !(start > end && step > 0) else {
                throw KeepalivedParseError(location, "invalid ~SEQ values: \(line) (the step must lead from START to END)")
            }
        }
        if hex && (start < 0 || end < 0) { throw KeepalivedParseError(location, "~SEQx takes positive numbers only: \(line)") }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span / step < maxLines else { throw KeepalivedParseError(location, "the sequence expands beyond \(maxLines) lines") }
        return stride(from: start, through: end, by: step).map { [(variable, hex ? String($0, radix: 16) : String($0))] }
    }

    private static func listAssignments(_ inside: String, line: String, at location: SourceLocation) throws(KeepalivedParseError) -> [[(String, String)]] {
        let invalid = KeepalivedParseError(location, "invalid ~LST: \(line) (write ~LST(VAR, V1, V2, …) or ~LST({A, B}, {1, 2}, {3, 4}, …))")
        // Top-level items: words, or {…} groups.
        var items: [[String]] = [], current = "", depth = 0
        for c in inside {
            if c == "{" { depth += 1; if depth == 1 { continue } }
            if c == "}" { depth -= 1; if depth == 0 { continue } }
            if c == "," && depth == 0 {
                items.append(current.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() })
                current = ""
                continue
            }
            current.append(c)
        }
        items.append(current.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() })
        guard depth == 0, items.count >= 2, let names = items.first, names.allSatisfy({ !$0.isEmpty }) else { throw invalid }
        var result: [[(String, String)]] = []
        for values in items.dropFirst() {
            guard values.count == names.count else {
                throw KeepalivedParseError(location, "invalid ~LST: \(line) (each value set needs \(names.count) value\(names.count == 1 ? "" : "s"))")
            }
            result.append(Array(zip(names, values)))
        }
        return result
    }

    // MARK: include

    struct Include {
        /// Plain `include` tolerates a pattern that matches nothing; the variants (`includer`,
        /// `includem`, `includew`, `includeb`, `includea`) add checks that make it an error.
        var checked: Bool
        var keyword: String
        var pattern: String

        init?(_ line: String) {
            guard line.hasPrefix("include") else { return nil }
            let chars = Array(line)
            guard chars.count > 8 else { return nil }
            if chars[7] == " " || chars[7] == "\t" {
                checked = false; keyword = "include"
                pattern = String(chars[8...]).trimmingBlanks()
            } else if "rmwba".contains(chars[7]), chars[8] == " " || chars[8] == "\t" {
                checked = true; keyword = String(chars[..<8])
                pattern = String(chars[9...]).trimmingBlanks()
            } else {
                return nil
            }
        }
    }

    private mutating func include(_ include: Include, at location: SourceLocation) throws(KeepalivedParseError) {
        var pattern = include.pattern
        if pattern.hasPrefix("\"") && pattern.hasSuffix("\"") && pattern.count >= 2 { pattern = String(pattern.dropFirst().dropLast()) }
        if !pattern.hasPrefix("/") {
            let file = location.file
            let directory = file.lastIndex(of: "/").map { String(file[...$0]) } ?? ""
            pattern = directory + pattern
        }
        let matches = fileSystem.glob(pattern)
        if include.checked && !matches.isEmpty {
            // keepalived reports a brace alternative without wildcards that names no file, and goes on.
            let missing = GlobPattern.expandBraces(pattern).filter { !GlobPattern.hasWildcards($0) && !matches.contains($0) }
            if !missing.isEmpty {
                notes.append(ImportNote(location, "\(include.keyword) \(include.pattern): \(missing.joined(separator: ", ")) does not exist; keepalived reports it and reads the rest, and so does the import: create it or change the pattern"))
            }
        }
        if matches.isEmpty {
            if include.checked {
                throw KeepalivedParseError(location, "\(include.keyword) \(include.pattern): no file matches")
            }
            notes.append(ImportNote(location, "include \(include.pattern) matches no file, so nothing was read from it (keepalived skips it too); check the path, or remove the line"))
            return
        }
        for match in matches { try readFile(match, includedFrom: location) }
    }

    // MARK: output

    /// Splits at `{` and `}` outside double quotes: each brace is a line of its own.
    private mutating func emit(_ line: String, at location: SourceLocation) throws(KeepalivedParseError) {
        var rest = Substring(line)
        while !rest.isEmpty {
            if rest.first == "{" || rest.first == "}" {
                lines.append(LogicalLine(text: String(rest.first!), location: location))
                rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
                continue
            }
            var quoted = false, cut = rest.endIndex
            for i in rest.indices {
                if rest[i] == "\"" { quoted.toggle() }
                if !quoted && (rest[i] == "{" || rest[i] == "}") { cut = i; break }
            }
            let head = trimmedTrailingBlanks(String(rest[..<cut]))
            if !head.isEmpty { lines.append(LogicalLine(text: head, location: location)) }
            rest = rest[cut...]
        }
        guard lines.count <= Self.maxLines else {
            throw KeepalivedParseError(location, "the configuration expands beyond \(Self.maxLines) lines")
        }
    }
}

/// keepalived's decomment(): leading blanks go; `#` or `!` outside double quotes starts a comment;
/// `\#` / `\!` outside quotes are the characters themselves; a final `\` (kept, after trailing
/// blanks are removed) continues a definition on the next line. An unterminated quote is an error.
func decomment(_ line: String, at location: SourceLocation) throws(KeepalivedParseError) -> String {
    let chars = Array(line.drop { $0 == " " || $0 == "\t" })
    var out: [Character] = [], quoted = false, continued = false
    var i = 0
    scan: while i < chars.count {
        let c = chars[i]
        switch c {
        case "\"":
            quoted.toggle(); out.append(c)
        case "\\":
            guard i + 1 < chars.count else { continued = true; break scan }
            let next = chars[i + 1]
            if !quoted && (next == "#" || next == "!") { out.append(next) } else { out.append(c); out.append(next) }
            i += 1
        case "#" where !quoted, "!" where !quoted:
            break scan
        default:
            out.append(c)
        }
        i += 1
    }
    if quoted { throw KeepalivedParseError(location, "unterminated quote: \(line.trimmingBlanks())") }
    var result = trimmedTrailingBlanks(String(out))
    if continued { result += "\\" }
    return result
}

func trimmedTrailingBlanks(_ s: String) -> String {
    var s = Substring(s)
    while s.last == " " || s.last == "\t" { s = s.dropLast() }
    return String(s)
}

extension StringProtocol {
    func trimmingBlanks() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// strtol(…, 0): decimal, 0x hex or leading-0 octal, with a sign.
func parseCInteger(_ text: String) -> Int? {
    var s = Substring(text), negative = false
    if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
    var radix = 10
    if s.hasPrefix("0x") || s.hasPrefix("0X") { radix = 16; s = s.dropFirst(2) } else if s.count > 1 && s.hasPrefix("0") { radix = 8; s = s.dropFirst() }
    guard !s.isEmpty, let n = Int(s, radix: radix) else { return nil }
    return negative ? -n : n
}
