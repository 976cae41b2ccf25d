// Typed access to a composed YAML tree. Every failure becomes a ConfigError at the offending
// node's line:column and says what is allowed.

import Yams

struct NodeReader {
    let file: String

    func error(at node: Node?, _ message: String) -> ConfigError {
        let mark = node?.mark
        return ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message)
    }

    /// YAML's null spellings (core schema) as a plain scalar, or an empty plain value.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: isNull(node) ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    func mapping(_ node: Node, _ what: String) throws(ConfigError) -> Node.Mapping {
        guard case .mapping(let m) = node else {
            throw error(at: node, "\(what) must be a mapping of keys to values, not \(Self.kind(node))")
        }
        return m
    }

    func sequence(_ node: Node, _ what: String) throws(ConfigError) -> [Node] {
        guard case .sequence(let s) = node else {
            throw error(at: node, "\(what) must be a list (`[a, b]` or `- a` lines), not \(Self.kind(node))")
        }
        return Array(s)
    }

    func scalar(_ node: Node, _ what: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node, !Self.isNull(node) else {
            throw error(at: node, "\(what) must be a single value, not \(Self.kind(node))")
        }
        return s.string
    }

    /// A string without control or formatting characters (they would corrupt logs, labels and command
    /// lines, or hide what a name really is).
    func string(_ node: Node, _ what: String, maxBytes: Int = 4096) throws(ConfigError) -> String {
        let text = try scalar(node, what)
        guard !text.isEmpty else { throw error(at: node, "\(what) must not be empty") }
        guard !text.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
        }) else {
            throw error(at: node, "\(what) must not contain control or invisible formatting characters")
        }
        guard text.utf8.count <= maxBytes else {
            throw error(at: node, "\(what) is \(text.utf8.count) bytes long; at most \(maxBytes) are allowed")
        }
        return text
    }

    func absolutePath(_ node: Node, _ what: String) throws(ConfigError) -> String {
        let text = try string(node, what)
        guard text.hasPrefix("/") else { throw error(at: node, "\(what) must be an absolute path (starting with /), got '\(text)'") }
        return text
    }

    func bool(_ node: Node, _ what: String) throws(ConfigError) -> Bool {
        let text = try scalar(node, what)
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error(at: node, "\(what) must be true or false, got '\(text)'")
        }
    }

    /// A decimal integer in `range`. Large or odd numbers (1e3, 0x10, 1_000) are refused, never trapped on.
    func integer(_ node: Node, _ what: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try scalar(node, what)
        let allowed = "an integer from \(range.lowerBound) to \(range.upperBound)"
        let body = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !body.isEmpty, body.allSatisfy({ $0 >= "0" && $0 <= "9" }) else {
            throw error(at: node, "\(what) must be \(allowed), got '\(text)'")
        }
        guard let value = Int(text), range.contains(value) else {
            throw error(at: node, "\(what) \(text) is out of range: allowed is \(allowed)")
        }
        return value
    }

    /// Any duration the format can express; see `duration(_:_:_:)` for one with a range.
    func duration(_ node: Node, _ what: String) throws(ConfigError) -> Duration {
        let text = try scalar(node, what)
        switch DurationText.parse(text) {
        case .success(let d): return d
        case .failure(.noUnit):
            throw error(at: node, "\(what) '\(text)' has no unit: write \(DurationText.allowedForms)")
        case .failure(.tooPrecise):
            throw error(at: node, "\(what) '\(text)' is finer than a nanosecond")
        case .failure(.tooLarge):
            throw error(at: node, "\(what) \(text) is far too large")
        case .failure(.malformed):
            throw error(at: node, "\(what) '\(text)' is not a duration: write \(DurationText.allowedForms)")
        }
    }

    func duration(_ node: Node, _ what: String, _ range: ClosedRange<Duration>) throws(ConfigError) -> Duration {
        let d = try duration(node, what)
        guard range.contains(d) else {
            throw error(at: node, "\(what) \(DurationText.render(d)) is out of range: allowed is from \(DurationText.render(range.lowerBound)) to \(DurationText.render(range.upperBound))")
        }
        return d
    }

    func oneOf<T>(_ node: Node, _ what: String, _ choices: [(String, T)]) throws(ConfigError) -> T {
        let text = try scalar(node, what)
        guard let hit = choices.first(where: { $0.0 == text }) else {
            throw error(at: node, "\(what) must be one of \(choices.map(\.0).joined(separator: ", ")), got '\(text)'")
        }
        return hit.1
    }
}

/// The keys of one mapping, checked against the keys allowed there.
struct Fields {
    let reader: NodeReader
    let node: Node
    private var entries: [String: (key: Node, value: Node)] = [:]

    /// - Parameters:
    ///   - hints: keys that are valid elsewhere, with where they belong.
    init(_ node: Node, _ what: String, allowed: [String], hints: [String: String] = [:],
         reader: NodeReader) throws(ConfigError) {
        self.reader = reader
        self.node = node
        let mapping = try reader.mapping(node, what)
        for (key, value) in mapping {
            guard case .scalar(let s) = key, !NodeReader.isNull(key) else {
                throw reader.error(at: key, "keys in \(what) must be plain names, not \(NodeReader.kind(key))")
            }
            let name = s.string
            guard allowed.contains(name) else {
                var message = "unknown key '\(name)' in \(what)"
                if name == "<<" {
                    message += ": YAML merge keys are not supported; write the settings out"
                } else if let place = hints[name] {
                    message += ": '\(name)' belongs in \(place)"
                } else if let near = closest(to: name, in: allowed) {
                    message += "; did you mean '\(near)'?"
                } else {
                    message += "; allowed keys: \(allowed.joined(separator: ", "))"
                }
                throw reader.error(at: key, message)
            }
            entries[name] = (key, value)
        }
    }

    /// The value node, or nil when the key is absent or null.
    func optional(_ key: String) -> Node? {
        guard let entry = entries[key], !NodeReader.isNull(entry.value) else { return nil }
        return entry.value
    }

    func required(_ key: String, in what: String) throws(ConfigError) -> Node {
        guard let entry = entries[key] else {
            throw reader.error(at: node, "\(what) is missing the required key '\(key)'")
        }
        guard !NodeReader.isNull(entry.value) else {
            throw reader.error(at: entry.value, "'\(key)' in \(what) must have a value")
        }
        return entry.value
    }
}

/// The allowed key nearest to `name` by edit distance, when it is at most 2 edits away.
func closest(to name: String, in candidates: [String]) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(Array(name.lowercased().unicodeScalars), Array(candidate.unicodeScalars))
        if d <= 2, best.map({ d < $0.1 }) ?? true { best = (candidate, d) }
    }
    return best?.0
}

/// Levenshtein distance; inputs are bounded by YAML key lengths, and long keys are cut off early.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if abs(a.count - b.count) > 2 { return 3 }
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
