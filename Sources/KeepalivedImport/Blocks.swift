// The keyword tree keepalived's process_stream walks: statements (words) with optional `{ }` blocks.

/// One keyword line and the block that follows it, if any.
public struct Statement: Hashable, Sendable {
    public var words: [String]
    public var location: SourceLocation
    public var block: [Statement]?
    /// The line as the parser saw it (after substitution), for keywords keepalived re-reads with
    /// single quotes and escapes (scripts).
    public var text: String = ""

    public var keyword: String { words[0] }
    public var arguments: ArraySlice<String> { words.dropFirst() }
    /// The first argument, if any.
    public var value: String? { words.count > 1 ? words[1] : nil }
}

enum Blocks {
    static let maxDepth = 100

    /// The words of a line as keepalived splits them (alloc_strvec_r): blanks separate words, a
    /// double-quoted string is one word without its quotes.
    static func words(_ text: String) -> [String] {
        var words: [String] = [], i = text.startIndex
        while i < text.endIndex {
            if text[i] == " " || text[i] == "\t" { i = text.index(after: i); continue }
            if text[i] == "\"" {
                let start = text.index(after: i)
                let end = text[start...].firstIndex(of: "\"") ?? text.endIndex
                words.append(String(text[start..<end]))
                i = end < text.endIndex ? text.index(after: end) : end
            } else {
                let end = text[i...].firstIndex { $0 == " " || $0 == "\t" || $0 == "\"" } ?? text.endIndex
                words.append(String(text[i..<end]))
                i = end
            }
        }
        return words
    }

    static func parse(_ lines: [LogicalLine]) throws(KeepalivedParseError) -> [Statement] {
        var index = 0
        return try block(lines, &index, opener: nil, depth: 0)
    }

    private static func block(_ lines: [LogicalLine], _ index: inout Int, opener: SourceLocation?, depth: Int) throws(KeepalivedParseError) -> [Statement] {
        var result: [Statement] = []
        while index < lines.count {
            let line = lines[index]
            index += 1
            switch line.text {
            case "{":
                guard var last = result.last, last.block == nil else {
                    throw KeepalivedParseError(line.location, "'{' without a keyword before it")
                }
                guard depth < maxDepth else { throw KeepalivedParseError(line.location, "blocks nest deeper than \(maxDepth) levels") }
                last.block = try block(lines, &index, opener: line.location, depth: depth + 1)
                result[result.count - 1] = last
            case "}":
                guard opener != nil else { throw KeepalivedParseError(line.location, "'}' without a block to close") }
                return result
            default:
                let words = words(line.text)
                if !words.isEmpty { result.append(Statement(words: words, location: line.location, text: line.text)) }
            }
        }
        if let opener { throw KeepalivedParseError(opener, "the block opened here is never closed (a '}' is missing)") }
        return result
    }
}
