import Foundation
import Testing
@testable import VIPDConfig

/// Every configuration example the project shows — fenced blocks in README.md and docs/*.md, and
/// fenced blocks inside the comments of the systemd units — loads through the real loader
/// (`VIPDConfiguration.load(path:)`, the one check-config, run and reload use). The convention
/// (docs/testing.md):
/// - ```` ```yaml ````: a whole configuration file;
/// - ```` ```yaml fragment ````: top-level keys, loaded with a minimal `instances:` list added when
///   the fragment has none;
/// - in a file of `#` comments the same fences are written in the comment (`# ```yaml fragment`).
/// An unfenced line that starts with a top-level key, in a comment or in another code block, is an
/// example nobody checks, and fails the test.
@Suite struct DocExamplesTests {
    struct Example: CustomStringConvertible, Sendable {
        var file: String
        var line: Int
        var kind: String
        var text: String
        var description: String { "\(file):\(line) (\(kind))" }
    }

    /// Files whose examples are checked, relative to the package root.
    static func sources() -> [String] {
        let fm = FileManager.default
        let docs = (try? fm.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("docs").path)) ?? []
        let units = (try? fm.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("systemd").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
            + units.filter { $0.hasSuffix(".service") }.sorted().map { "systemd/" + $0 }
    }

    /// Fenced blocks of one file, and the lines that look like unchecked configuration.
    static func scan(_ relative: String) -> (examples: [Example], unfenced: [String]) {
        let text = (try? String(contentsOf: packageRoot.appendingPathComponent(relative), encoding: .utf8)) ?? ""
        let comments = !relative.hasSuffix(".md")
        var examples: [Example] = [], unfenced: [String] = []
        var open: (line: Int, info: String, body: [String])?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(raw)
            if comments {
                guard line.hasPrefix("#") else { continue }
                line = String(line.dropFirst())
                if line.hasPrefix(" ") { line.removeFirst() }
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                if let block = open {
                    if block.info.hasPrefix("yaml") {
                        examples.append(Example(file: relative, line: block.line, kind: block.info, text: block.body.joined(separator: "\n") + "\n"))
                    }
                    open = nil
                } else {
                    open = (index + 1, String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces), [])
                }
                continue
            }
            if open != nil {
                open?.body.append(line)
                if open?.info.hasPrefix("yaml") == true { continue }
            } else if !comments {
                continue   // prose in Markdown may name keys freely
            }
            if Keys.top.contains(where: { trimmed.hasPrefix($0 + ":") }) { unfenced.append("\(relative):\(index + 1): \(trimmed)") }
        }
        return (examples, unfenced)
    }

    static func allExamples() -> [Example] { sources().flatMap { scan($0).examples } }

    @Test func examplesAreFoundWhereTheyAre() {
        let examples = Self.allExamples()
        #expect(examples.contains { $0.file == "README.md" && $0.kind == "yaml" })
        #expect(examples.contains { $0.file == "docs/config.md" && $0.kind == "yaml" })
        #expect(examples.contains { $0.file == "systemd/vipd@.service" && $0.kind == "yaml fragment" })
    }

    @Test func noConfigurationExampleIsLeftUnchecked() {
        let unfenced = Self.sources().flatMap { Self.scan($0).unfenced }
        #expect(unfenced.isEmpty, "mark these as ```yaml or ```yaml fragment (docs/testing.md): \(unfenced)")
    }

    @Test(arguments: allExamples())
    func loadsThroughTheRealLoader(_ example: Example) throws {
        var yaml = example.text
        switch example.kind {
        case "yaml":
            break
        case "yaml fragment":
            if !yaml.split(separator: "\n").contains(where: { $0.hasPrefix("instances:") }) {
                yaml += "instances:\n  - { name: doc, interface: eth0, vrid: 1, addresses: [192.0.2.1/24] }\n"
            }
        default:
            Issue.record("\(example): unknown block kind '\(example.kind)'; use yaml or yaml fragment")
            return
        }
        // Each example in a directory of its own, with a key file (0600) for every relative
        // `file:` key it names (docs/config.md, Authentication), found next to the file.
        var template = Array((NSTemporaryDirectory() + "vipd-doc-example-XXXXXX").utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/vipd.yaml"
        try yaml.write(toFile: path, atomically: false, encoding: .utf8)
        for name in Self.relativeKeyFiles(yaml) {
            let file = directory + "/" + name
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try (String(repeating: "k", count: 32) + "\n").write(toFile: file, atomically: false, encoding: .utf8)
            chmod(file, 0o600)
        }
        do {
            _ = try VIPDConfiguration.load(path: path)
        } catch {
            Issue.record("\(example) does not load: \(error)\n\(yaml)")
        }
    }

    /// The relative names of `file:` keys in an example (`"file:keys/web-1"` → `keys/web-1`).
    static func relativeKeyFiles(_ yaml: String) -> [String] {
        yaml.components(separatedBy: "\"file:").dropFirst().compactMap { rest in
            let name = String(rest.prefix { $0 != "\"" })
            return name.hasPrefix("/") || name.contains("..") || name.isEmpty ? nil : name
        }
    }

    /// The test catches the mistake it exists for: the unit comment that once suggested
    /// `metrics: { host, port }`.
    @Test func aWrongFragmentIsRefused() throws {
        let yaml = "metrics: { host: 127.0.0.1, port: 9651 }\ninstances:\n  - { name: doc, interface: eth0, vrid: 1, addresses: [192.0.2.1/24] }\n"
        let result = Result { () throws(ConfigError) in try VIPDConfiguration.parse(yaml: yaml, file: "unit") }
        guard case .failure(let error) = result else { Issue.record("accepted metrics: { host, port }"); return }
        #expect(error.message.contains("unknown key 'host' in metrics"))
    }
}
