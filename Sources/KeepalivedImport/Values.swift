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
}

/// How keepalived reads a script line, and how vipd's command line says the same.
enum ScriptWords {
    /// keepalived's alloc_strvec_quoted_escaped_common: blank-separated words in which `"…"` and
    /// `'…'` quote (the quotes go, adjacent text joins); with `escapes`, `\n`, `\t`, `\xHH`, `\NNN`
    /// (octal), `\cC` and `\C` are decoded, without them `\C` is kept as it is. nil when a quote
    /// or an escape is left open.
    static func split(_ text: String, escapes: Bool) -> [String]? {
        let b = Array(text.utf8)
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0d).contains(c) }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var words: [String] = [], i = 0
        while i < b.count {
            if isBlank(b[i]) { i += 1; continue }
            var word: [UInt8] = [], quote: UInt8?
            while i < b.count {
                let c = b[i]
                if quote == nil && isBlank(c) { break }
                if let q = quote, c == q { quote = nil; i += 1; continue }
                if quote == nil && (c == 0x22 || c == 0x27) { quote = c; i += 1; continue }
                guard c == 0x5c else { word.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { return nil }
                guard escapes else { word += [0x5c, b[i]]; i += 1; continue }
                let e = b[i]
                if e == 0x78, i + 1 < b.count, hex(b[i + 1]) != nil {                // \xH…: every hex digit, the last two count (2.2.7)
                    var value: UInt8 = 0
                    i += 1
                    while i < b.count, let digit = hex(b[i]) { value = value &<< 4 | digit; i += 1 }
                    word.append(value)
                } else if e == 0x63, i + 1 < b.count {                              // \cC
                    word.append(b[i + 1] & 0x1f); i += 2
                } else if (0x30...0x37).contains(e) {                               // \NNN
                    var value: UInt8 = 0, digits = 0
                    while digits < 3, i < b.count, (0x30...0x37).contains(b[i]) { value = value &<< 3 &+ (b[i] - 0x30); i += 1; digits += 1 }
                    word.append(value)
                } else {
                    let table: [UInt8: UInt8] = [0x61: 0x07, 0x62: 0x08, 0x45: 0x1b, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x76: 0x0b]
                    word.append(table[e] ?? e); i += 1
                }
            }
            if quote != nil { return nil }
            words.append(String(decoding: word, as: UTF8.self))
        }
        return words
    }

    /// Whether an argument holds a character vipd's configuration refuses there: control characters
    /// and invisible formatting characters (a tab is allowed in notify command lines, as keepalived's
    /// `\t` gives one, not in a track script's `run`).
    static func hasControlCharacters(_ arguments: [String], allowingTab: Bool) -> Bool {
        arguments.contains { $0.unicodeScalars.contains { c in
            (c.value < 0x20 && !(allowingTab && c == "\t")) || (0x7f...0x9f).contains(c.value) || c.properties.generalCategory == .format
        } }
    }

    /// A command line that `/bin/sh -c` splits into exactly `arguments`: words with characters the
    /// shell treats specially are single-quoted.
    static func shellCommand(_ arguments: [String]) -> String {
        arguments.map { word in
            let safe = !word.isEmpty && !word.hasPrefix("#") && !word.hasPrefix("~")
                && !word.contains { " \t\n|&;<>()$`\\\"'*?[".contains($0) }
            return safe ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// A script keyword (`script`, `notify_master` …) as keepalived 2.2.7 reads it (notify.c
    /// notify_script_init, set_script_params_array): the line split with quotes and escapes, then its
    /// first word after the keyword split the same way again — so escapes are decoded twice (write
    /// `\\'` for a quote inside single quotes) — giving the program and its arguments; the words
    /// after the command are the user and group.
    static func command(_ statement: Statement) -> (arguments: [String], rest: [String])? {
        guard let outer = split(statement.text, escapes: true), outer.count >= 2,
              let arguments = split(outer[1], escapes: true), !arguments.isEmpty else { return nil }
        return (arguments, Array(outer.dropFirst(2)))
    }
}
