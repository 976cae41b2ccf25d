// A small parser for the Prometheus text exposition format (0.0.4), strict enough to catch
// malformed output: every sample belongs to a family announced by `# TYPE` before it, families are
// contiguous, label values use only the allowed escapes, values are numbers.

struct Exposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]
    var help: [String: String] = [:]

    enum Failure: Error, CustomStringConvertible {
        case line(Int, String, String)
        var description: String {
            switch self { case .line(let n, let text, let why): "line \(n): \(why): \(text)" }
        }
    }

    init(_ text: String) throws {
        var currentFamily: String?
        var finishedFamilies: Set<String> = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.isEmpty || text.hasSuffix("\n") else { throw Failure.line(lines.count, "", "no final newline") }
        for (index, raw) in lines.enumerated() {
            let n = index + 1
            let line = String(raw)
            if line.isEmpty {
                guard index == lines.count - 1 else { throw Failure.line(n, line, "empty line") }
                continue
            }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " ") else { throw Failure.line(n, line, "no text") }
                let name = String(rest[..<space])
                let value = String(rest[rest.index(after: space)...])
                guard Self.isMetricName(name) else { throw Failure.line(n, line, "bad metric name") }
                if currentFamily != name {
                    if let c = currentFamily { finishedFamilies.insert(c) }
                    guard !finishedFamilies.contains(name) else { throw Failure.line(n, line, "family split") }
                    currentFamily = name
                }
                if line.hasPrefix("# HELP ") {
                    guard help[name] == nil else { throw Failure.line(n, line, "second HELP") }
                    help[name] = value
                } else {
                    guard types[name] == nil else { throw Failure.line(n, line, "second TYPE") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(value) else {
                        throw Failure.line(n, line, "unknown type")
                    }
                    types[name] = value
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            let sample = try Self.parseSample(line, n)
            guard sample.name == currentFamily, types[sample.name] != nil else {
                throw Failure.line(n, line, "sample outside its family or before TYPE")
            }
            samples.append(sample)
        }
    }

    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":" else {
            return false
        }
        return s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == ":" }
    }

    static func parseSample(_ line: String, _ n: Int) throws -> Sample {
        var chars = Array(line.unicodeScalars)[...]
        var name = ""
        while let c = chars.first, c != "{" && c != " " { name.unicodeScalars.append(c); chars = chars.dropFirst() }
        guard isMetricName(name) else { throw Failure.line(n, line, "bad sample name") }
        var labels: [String: String] = [:]
        if chars.first == "{" {
            chars = chars.dropFirst()
            while chars.first != "}" {
                var key = ""
                while let c = chars.first, c != "=" { key.unicodeScalars.append(c); chars = chars.dropFirst() }
                guard isMetricName(key), !key.contains(":") else { throw Failure.line(n, line, "bad label name") }
                chars = chars.dropFirst()
                guard chars.first == "\"" else { throw Failure.line(n, line, "label value not quoted") }
                chars = chars.dropFirst()
                var value = ""
                while true {
                    guard let c = chars.first else { throw Failure.line(n, line, "unterminated label value") }
                    chars = chars.dropFirst()
                    if c == "\"" { break }
                    if c == "\\" {
                        guard let e = chars.first else { throw Failure.line(n, line, "dangling escape") }
                        chars = chars.dropFirst()
                        switch e {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw Failure.line(n, line, "bad escape")
                        }
                    } else {
                        value.unicodeScalars.append(c)
                    }
                }
                guard labels[key] == nil else { throw Failure.line(n, line, "duplicate label") }
                labels[key] = value
                if chars.first == "," { chars = chars.dropFirst() }
                else if chars.first != "}" { throw Failure.line(n, line, "expected , or }") }
            }
            chars = chars.dropFirst()
        }
        guard chars.first == " " else { throw Failure.line(n, line, "no space before value") }
        let valueText = String(String.UnicodeScalarView(chars.dropFirst()))
        let parts = valueText.split(separator: " ")
        guard (1...2).contains(parts.count) else { throw Failure.line(n, line, "bad value field") }
        let value: Double
        switch parts[0] {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let v = Double(parts[0]) else { throw Failure.line(n, line, "value is not a number") }
            value = v
        }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Value of the one sample with this name and exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = samples.filter { $0.name == name && $0.labels == labels }
        return matches.count == 1 ? matches[0].value : nil
    }

    func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }
}

import Testing

@Suite("Exposition parser (test helper)")
struct ExpositionParserTests {
    @Test(arguments: [
        "a_total 1\n",                                            // sample before TYPE
        "# TYPE a counter\na 1",                                  // no final newline
        "# TYPE a counter\na{x=\"1} 1\n",                         // unterminated label value
        "# TYPE a counter\na{x=\"\\t\"} 1\n",                     // bad escape
        "# TYPE a counter\na one\n",                              // value not a number
        "# TYPE a counter\n# TYPE b gauge\nb 1\na 2\n",           // sample outside its family
        "# TYPE a counter\n# TYPE a counter\n",                   // second TYPE
        "# TYPE a widget\n",                                      // unknown type
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",                 // duplicate label
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: Exposition.Failure.self) { try Exposition(text) }
    }

    @Test func acceptsWellFormedText() throws {
        let e = try Exposition("# HELP a Things.\n# TYPE a gauge\na{x=\"q\\\"\\\\\\n\"} 1.5\na{x=\"b\"} +Inf 1700000000\n")
        #expect(e.value("a", ["x": "q\"\\\n"]) == 1.5)
        #expect(e.value("a", ["x": "b"]) == .infinity)
        #expect(e.help["a"] == "Things.")
    }
}
