// keepalived's value forms, and how vipd writes them.

enum Values {
    /// keepalived's BOOL forms (check_true_false).
    static func bool(_ word: String) -> Bool? {
        switch word {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default: return nil
        }
    }

    /// A keepalived TIMER (decimal seconds, microsecond resolution, e.g. `2.71828` or `3`) in
    /// microseconds; nil when it is not one.
    static func microseconds(_ text: String) -> Int? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty)), parts[0].count <= 9 else { return nil }
        let whole = Int(parts[0]) ?? 0
        var fraction = parts.count == 2 ? String(parts[1].prefix(6)) : ""
        while fraction.count < 6 { fraction += "0" }
        return whole * 1_000_000 + (Int(fraction) ?? 0)
    }

    /// A vipd duration for a number of microseconds: `5s`, `100ms`, `0.25ms`.
    static func duration(microseconds us: Int) -> String {
        if us % 1_000_000 == 0 { return "\(us / 1_000_000)s" }
        if us % 1_000 == 0 { return "\(us / 1_000)ms" }
        var fraction = String(us % 1_000)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(us / 1_000).\(fraction)ms"
    }

    static func integer(_ text: String, in range: ClosedRange<Int>) -> Int? {
        guard let n = Int(text), range.contains(n) else { return nil }
        return n
    }

    /// vipd's names: 1–64 of `A-Z a-z 0-9 _ - .`.
    static func isVIPDName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.unicodeScalars.allSatisfy { c in
            c.value < 0x80 && (c.properties.isAlphabetic || c.properties.numericType != nil || "_-.".unicodeScalars.contains(c))
        }
    }

    /// The nearest vipd name: other characters become `_`, cut at 64 bytes.
    static func vipdName(_ s: String) -> String {
        let mapped = String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            c.value < 0x80 && (c.properties.isAlphabetic || c.properties.numericType != nil || "_-.".unicodeScalars.contains(c)) ? c : "_"
        }))
        let cut = String(mapped.utf8.prefix(64)) ?? mapped
        return cut.isEmpty ? "_" : cut
    }

    /// An IPv4 or IPv6 address with an optional /LEN, as keepalived writes them; the family
    /// (4 or 6), or nil when it is neither.
    static func family(_ address: String) -> Int? {
        let host = address.split(separator: "/", maxSplits: 1).first.map(String.init) ?? address
        if address.split(separator: "/", omittingEmptySubsequences: false).count > 2 { return nil }
        if let length = address.split(separator: "/", omittingEmptySubsequences: false).dropFirst().first {
            guard let n = Int(length), n >= 0, n <= (host.contains(":") ? 128 : 32) else { return nil }
        }
        if host.contains(":") {
            return host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) ? 6 : nil
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ o in !o.isEmpty && o.count <= 3 && o.allSatisfy(\.isNumber) && (Int(o) ?? 256) <= 255 }) else { return nil }
        return 4
    }

    /// keepalived's IPv4 range form `192.0.2.10-12` (the last byte runs to the number after `-`),
    /// with an optional `/LEN`: the addresses it stands for, or nil when `text` is not a range.
    static func expandRange(_ text: String) -> [String]? {
        let slash = text.firstIndex(of: "/")
        let base = slash.map { String(text[..<$0]) } ?? text
        let suffix = slash.map { String(text[$0...]) } ?? ""
        guard !base.contains(":"), let dash = base.firstIndex(of: "-") else { return nil }
        let first = String(base[..<dash])
        guard family(first) == 4, let last = Int(base[base.index(after: dash)...]), last <= 255 else { return nil }
        let octets = first.split(separator: ".")
        guard let start = Int(octets[3]), start <= last else { return nil }
        let prefix = octets.prefix(3).joined(separator: ".")
        return (start...last).map { "\(prefix).\($0)\(suffix)" }
    }
}
