// The converted configuration as YAML text, each line followed by the keepalived FILE:LINE it came from.

/// One node of the output: a scalar (already written as YAML), a mapping or a list.
indirect enum YAMLItem: Hashable, Sendable {
    case scalar(String)
    case mapping([YAMLEntry])
    case list([YAMLElement])
}

struct YAMLEntry: Hashable, Sendable {
    var key: String
    var item: YAMLItem
    var origin: SourceLocation?
    /// A comment line written above the entry (what vipd does with something keepalived had).
    var remark: String?

    init(_ key: String, _ item: YAMLItem, _ origin: SourceLocation?, remark: String? = nil) {
        self.key = key; self.item = item; self.origin = origin; self.remark = remark
    }
}

struct YAMLElement: Hashable, Sendable {
    var item: YAMLItem
    var origin: SourceLocation?
    init(_ item: YAMLItem, _ origin: SourceLocation?) { self.item = item; self.origin = origin }
}

enum YAMLWriter {
    /// The document, and for each output line (1-based) the keepalived line it came from.
    static func render(_ entries: [YAMLEntry], header: [String]) -> (text: String, origins: [Int: SourceLocation]) {
        var lines: [(String, SourceLocation?)] = header.map { ("# " + $0, nil) }
        mapping(entries, indent: 0, firstPrefix: nil, into: &lines)
        var text = "", origins: [Int: SourceLocation] = [:]
        for (index, (line, origin)) in lines.enumerated() {
            if let origin {
                text += line + "  # \(origin)\n"
                origins[index + 1] = origin
            } else {
                text += line + "\n"
            }
        }
        return (text, origins)
    }

    private static func mapping(_ entries: [YAMLEntry], indent: Int, firstPrefix: String?, into lines: inout [(String, SourceLocation?)]) {
        let pad = String(repeating: " ", count: indent)
        for (index, entry) in entries.enumerated() {
            let lead = index == 0 && firstPrefix != nil ? firstPrefix! : pad
            if let remark = entry.remark {
                let remarkPad = index == 0 && firstPrefix != nil ? String(repeating: " ", count: firstPrefix!.count - 2) : pad
                for part in remark.split(separator: "\n") { lines.append((remarkPad + "# " + part, nil)) }
            }
            switch entry.item {
            case .scalar(let text):
                lines.append((lead + entry.key + ": " + text, entry.origin))
            case .mapping(let children):
                lines.append((lead + entry.key + ":", entry.origin))
                mapping(children, indent: indent + 2, firstPrefix: nil, into: &lines)
            case .list(let elements):
                lines.append((lead + entry.key + ":", entry.origin))
                list(elements, indent: indent + 2, into: &lines)
            }
        }
    }

    private static func list(_ elements: [YAMLElement], indent: Int, into lines: inout [(String, SourceLocation?)]) {
        let pad = String(repeating: " ", count: indent)
        for element in elements {
            switch element.item {
            case .scalar(let text):
                lines.append((pad + "- " + text, element.origin))
            case .mapping(let children):
                mapping(children, indent: indent + 2, firstPrefix: pad + "- ", into: &lines)
            case .list(let inner):
                lines.append((pad + "-", element.origin))
                list(inner, indent: indent + 2, into: &lines)
            }
        }
    }

    /// A string as YAML: plain when it is unambiguous, double-quoted with escapes otherwise.
    static func string(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            (c.value < 0x80) && (c.properties.isAlphabetic || c.properties.numericType != nil || "_./-".unicodeScalars.contains(c))
        } && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(s.lowercased())
            && !s.hasPrefix("-") && !s.hasPrefix(".") && s.first?.isNumber != true
        if plain { return s }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7f {
                    out += "\\x" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
