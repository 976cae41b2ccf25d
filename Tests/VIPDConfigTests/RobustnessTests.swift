import Foundation
import Testing
@testable import VIPDConfig
import VRRP
import Yams

/// The loader must answer every input with a configuration or a ConfigError, never a trap or a hang.
@Suite struct RobustnessTests {
    static let seedText: String = {
        let path = packageRoot.appendingPathComponent("examples/vipd.yaml").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? minimal()
    }()

    /// Whatever parses must render and parse back to the same value; whatever fails must point
    /// inside the text.
    @discardableResult
    static func check(_ text: String) -> Bool {
        switch parseResult(text) {
        case .success(let config):
            let rendered = config.renderYAML()
            switch parseResult(rendered, file: "rendered") {
            case .success(let again): #expect(again == config, "round trip differs for:\n\(text)")
            case .failure(let e): Issue.record("rendered config refused: \(e)\n\(rendered)")
            }
            return true
        case .failure(let e):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(e.line >= 1 && e.line <= max(lines, 1) + 1, "\(e) outside \(lines) lines")
            #expect(e.column >= 1)
            #expect(!e.message.isEmpty)
            return false
        }
    }

    @Test(arguments: 0..<8)
    func randomBytes(_ seed: UInt64) {
        var rng = SplitMix64(state: seed)
        for _ in 0..<150 {
            let count = Int.random(in: 0...300, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            Self.check(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// YAML-ish noise: random tokens the grammar cares about.
    @Test(arguments: 0..<8)
    func randomYAMLTokens(_ seed: UInt64) {
        let tokens = ["\n", "  ", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "? ", "!!str ", "|", ">", "'", "\"", "#",
                      "instances", "name", "vrid", "addresses", "192.0.2.1/24", "2001:db8::1", "1s", "100ms", "255", "-1",
                      "99999999999999999999", "true", "null", "~", "<<", "---", "...", "%YAML 1.2\n", "\t", "é", "\u{0}"]
        var rng = SplitMix64(state: 1000 + seed)
        for _ in 0..<200 {
            let n = Int.random(in: 0...60, using: &rng)
            Self.check((0..<n).map { _ in tokens.randomElement(using: &rng)! }.joined())
        }
    }

    /// Mutations of the full example: most stay close to valid YAML, so they reach the validator.
    @Test(arguments: 0..<10)
    func mutatedExample(_ seed: UInt64) {
        var rng = SplitMix64(state: 2000 + seed)
        let pieces = ["0", "9", "255", "256", "-", ".", ":", " ", "  ", "\n", "[", "]", "{", "}", "ms", "s", "m", "::",
                      "/", "/33", "true", "false", "v", "2", "3", "x", "*", "&", "'", "\""]
        var accepted = 0, refused = 0
        for _ in 0..<150 {
            var scalars = Array(Self.seedText.unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !scalars.isEmpty else { break }
                let at = Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: scalars.remove(at: at)
                case 1: scalars.insert(contentsOf: pieces.randomElement(using: &rng)!.unicodeScalars, at: at)
                case 2: scalars[at] = pieces.randomElement(using: &rng)!.unicodeScalars.first!
                default:
                    // Duplicate a line (duplicate keys, repeated instances).
                    let lines = String(String.UnicodeScalarView(scalars)).split(separator: "\n", omittingEmptySubsequences: false)
                    var copy = lines
                    let i = Int.random(in: 0..<lines.count, using: &rng)
                    copy.insert(lines[i], at: i)
                    scalars = Array(copy.joined(separator: "\n").unicodeScalars)
                }
            }
            if Self.check(String(String.UnicodeScalarView(scalars))) { accepted += 1 } else { refused += 1 }
        }
        // Both outcomes occur, so the round-trip and the error-position properties are both exercised.
        #expect(accepted > 0 && refused > 0, "accepted \(accepted), refused \(refused)")
    }

    @Test(arguments: [10, 500, 5000])
    func deepNesting(_ depth: Int) {
        Self.check("instances: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n")
        Self.check("instances: " + String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n")
        Self.check("instances:\n" + String(repeating: "- ", count: depth) + "x\n")
    }

    /// "Billion laughs": aliases nesting 9^9 nodes must be refused quickly, not expanded.
    @Test func aliasBomb() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let start = ContinuousClock.now
        Self.check(text + minimal())
        Self.check(minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "*a9") .replacingOccurrences(of: "instances:", with: text + "instances:"))
        Self.check(text.replacingOccurrences(of: "a9: &a9", with: "instances: &a9"))
        // As a mapping key, the alias is hashed by the YAML composer's duplicate-key check.
        Self.check(text + "? *a9\n: 1\n? *a9\n: 2\n")
        guard case .failure(let e) = parseResult(text + minimal()) else { Issue.record("alias bomb accepted"); return }
        #expect(e.message.contains("aliases expand the document beyond"), "\(e)")
        #expect(e.line == 6, "\(e)")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// The budget is counted without Yams' internal libyaml module: aliases are found in a composed
    /// copy where each `*` is a stand-in letter. Positions are the alias's own.
    @Test func aliasBudgetNamesTheAliasThatCrossesIt() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [\(Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", "))]\n" }
        // a4 expands to 66,430 nodes: the second *a4 on line 6 (column 15) crosses 100,000.
        guard case .failure(let e) = parseResult(text) else { Issue.record("alias bomb accepted"); return }
        #expect((e.line, e.column) == (6, 15), "\(e)")
    }

    @Test func asterisksThatAreNotAliasesAndRepeatedAliasKeysAreFine() throws {
        // '*' inside quotes, plain scalars and comments; the same alias twice as a key (a duplicate
        // the composer reports, quickly, since the anchored node is small).
        let config = try VIPDConfiguration.parse(yaml: minimal("    notify: \"/usr/local/bin/a*b\"   # *not an alias\n"), file: "t")
        #expect(config.instances[0].notify == "/usr/local/bin/a*b")
        guard case .failure(let e) = parseResult("k: &k x\nm:\n  ? *k\n  : 1\n  ? *k\n  : 2\n" + minimal()) else {
            Issue.record("duplicate alias keys accepted"); return
        }
        #expect(e.message.contains("duplicate key"), "\(e)")
    }

    @Test func anErrorAfterAnAliasKeyIsReportedQuickly() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1...6 { text += "a\(i): &a\(i) [\(Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", "))]\n" }
        // The stand-in copy fails where the file does (a duplicate key): that error is reported, with
        // its position, without composing the file itself and hashing the 66,430-node key.
        let start = ContinuousClock.now
        let result = parseResult("big:\n  ? *a4\n  : 1\nx: 1\nx: 2\n" + text)
        guard case .failure(let e) = result else { Issue.record("accepted"); return }
        #expect(e.message.contains("duplicate key 'x'"), "\(e)")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test(arguments: ["priority: 18446744073709551616", "priority: -9223372036854775809", "priority: 1e400",
                      "preempt_delay: 99999999999999999999999999999s", "preempt_delay: 153722867280912930m",
                      "advert_interval: 9223372036854775807ms", "priority: 0x10", "priority: 1_0", "priority: +5",
                      "garp: { count: -0 }", "preempt_delay: 0.00000000000000000000000000001s"])
    func hugeOrOddNumbers(_ line: String) {
        Self.check(minimal("    \(line)\n"))
    }

    @Test func oversizeInputIsRefused() {
        let text = minimal() + "# " + String(repeating: "x", count: Limits.maxFileBytes) + "\n"
        guard case .failure(let e) = parseResult(text) else { Issue.record("accepted"); return }
        #expect(e.message.contains("at most"))
    }

    @Test func awkwardStringsRoundTrip() throws {
        let yaml = """
            node: "null"
            instances:
              - name: "true"
                interface: "123"
                vrid: 9
                addresses: [192.0.2.9]
                notify: "/opt/my \\"notify\\" script/é\\\\x #1: ok"
                track:
                  scripts: [ { run: "/bin/sh -c 'exit 0' # not a comment", interval: 250ms, timeout: 0.1s } ]
            """
        let config = try VIPDConfiguration.parse(yaml: yaml, file: "t")
        #expect(config.node == "null")
        #expect(config.instances[0].name == "true" && config.instances[0].interface == "123")
        #expect(config.instances[0].notify == "/opt/my \"notify\" script/é\\x #1: ok")
        #expect(config.instances[0].track.scripts[0].timeout == .milliseconds(100))
        let again = try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "rendered")
        #expect(again == config)
    }

    @Test func renderIsStable() throws {
        let config = try VIPDConfiguration.parse(yaml: Self.seedText, file: "t")
        let once = config.renderYAML()
        let twice = try VIPDConfiguration.parse(yaml: once, file: "t").renderYAML()
        #expect(once == twice)
        #expect(once.contains("shutdown_timeout: 10s") && once.contains("advert_interval: 100ms"))
    }
}

@Suite struct LoadTests {
    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vipd-config-\(UUID().uuidString).yaml").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func missingFile() {
        let path = "/nonexistent/vipd-\(UUID().uuidString).yaml"
        do throws(ConfigError) {
            _ = try VIPDConfiguration.load(path: path)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.file == path && error.message.contains("cannot read"))
        }
    }

    @Test func invalidUTF8IsPlaced() throws {
        let path = try temporaryFile(Array("instances:\n  - name: w".utf8) + [0xff, 0x0a])
        defer { try? FileManager.default.removeItem(atPath: path) }
        do throws(ConfigError) {
            _ = try VIPDConfiguration.load(path: path)
            Issue.record("loaded invalid UTF-8")
        } catch {
            #expect("\(error.line):\(error.column)" == "2:12" && error.message.contains("UTF-8"), "\(error)")
        }
    }

    @Test func errorsNameTheFile() throws {
        let path = try temporaryFile(Array(minimal("    priority: 0\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do throws(ConfigError) {
            _ = try VIPDConfiguration.load(path: path)
            Issue.record("accepted priority 0")
        } catch {
            #expect(error.description.hasPrefix("\(path):6:15: "))
        }
    }
}

@Suite struct QuotingTests {
    @Test(arguments: ["web", "eth0", "/etc/vipd/x.sh", "true", "False", "yes", "NO", "on", "y", "null", "~", "", " ", "51", "0x10",
                      "1.5", "1e3", "192.0.2.1", "1.2.3", "-a", "a: b", "#x", "a #b", "'q'", "\"dq\"", "back\\slash", "é",
                      "[x]", "{x}", "*a", "&a", "!tag", "%x", "@x", "`x", "|", ">", "a,b", "x\u{85}y", "\u{2028}", "tab\there"])
    func renderedStringsReadBack(_ text: String) throws {
        let yaml = "notify: \(quoted("/" + text))\n"
        let root = try #require(try Yams.compose(yaml: yaml))
        #expect(root.mapping?["notify"]?.string == "/" + text)
        let plain = try #require(try Yams.compose(yaml: "node: \(quoted(text))\n"))
        #expect(plain.mapping?["node"]?.string == text)
        #expect(plain.mapping.map { NodeReader.isNull($0["node"]!) } == false)
    }
}
