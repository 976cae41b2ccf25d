import Foundation
import KeepalivedImport
import Testing
import VIPDConfig

/// Every case in keepalived/: a directory holding keepalived.conf (and what it includes), read as
/// /etc/keepalived/… from memory, with
/// - expected.yaml and expected.notes (one note a line) when it converts, or
/// - expected.error (the parse error) when it must not;
/// - optionally config-id (default `r1`) and env (NAME=VALUE lines for ${_ENV NAME}).
/// The YAML must also load with vipd's own parser. `KEEPALIVED_IMPORT_RECORD=1` rewrites the expected
/// files from the current output, for review with `git diff`.
@Suite struct CorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("keepalived")
    static let root = "/etc/keepalived"

    static func cases() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).sorted()
    }

    struct Case {
        var files: [String: String] = [:]
        var configID = "r1"
        var environment: [String: String] = [:]
        var expected: [String: String] = [:]
    }

    static func load(_ name: String) throws -> Case {
        let directory = corpus.appendingPathComponent(name)
        var result = Case()
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory.path))
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            switch relative {
            case "expected.yaml", "expected.notes", "expected.error": result.expected[relative] = text
            case "config-id": result.configID = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case "env":
                for line in text.split(separator: "\n") {
                    let parts = line.split(separator: "=", maxSplits: 1)
                    result.environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                }
            default: result.files[root + "/" + relative] = text
            }
        }
        return result
    }

    @Test func theCorpusIsThere() {
        #expect(Self.cases().count >= 10, "\(Self.cases())")
    }

    @Test(arguments: cases())
    func convertsAsExpected(_ name: String) throws {
        let testCase = try Self.load(name)
        let fileSystem = KeepalivedFileSystem.inMemory(testCase.files, environment: testCase.environment)
        let record = ProcessInfo.processInfo.environment["KEEPALIVED_IMPORT_RECORD"] == "1"
        let directory = Self.corpus.appendingPathComponent(name)
        let outcome = Result { () throws(KeepalivedParseError) in
            try KeepalivedImport.convert(file: Self.root + "/keepalived.conf", configID: testCase.configID, fileSystem: fileSystem)
        }
        switch outcome {
        case .success(let result):
            let notes = result.notes.map { "\($0)\n" }.joined()
            if record {
                try result.yaml.write(to: directory.appendingPathComponent("expected.yaml"), atomically: true, encoding: .utf8)
                try notes.write(to: directory.appendingPathComponent("expected.notes"), atomically: true, encoding: .utf8)
            }
            #expect(testCase.expected["expected.error"] == nil, "\(name) should not convert")
            #expect(result.yaml == testCase.expected["expected.yaml"], "\(name): YAML differs:\n\(result.yaml)")
            #expect(notes == testCase.expected["expected.notes"], "\(name): notes differ:\n\(notes)")
            // The output loads with vipd's own parser, as check-config reads it.
            do {
                _ = try VIPDConfiguration.parse(yaml: result.yaml, file: "\(name)/expected.yaml")
            } catch {
                Issue.record("\(name): vipd refuses the converted configuration: \(error)\n\(result.yaml)")
            }
        case .failure(let error):
            if record { try "\(error)\n".write(to: directory.appendingPathComponent("expected.error"), atomically: true, encoding: .utf8) }
            #expect("\(error)\n" == testCase.expected["expected.error"], "\(name): unexpected error \(error)")
        }
    }
}

/// The converted commands reach vipd's loader as the words keepalived 2.2.7 runs (keepalived.conf(5)'s
/// quoting example, decoded by hand from 2.2.7's rules; keepalived 2.2.7 itself reports the same
/// lines unreadable).
@Suite struct ConvertedCommandTests {
    @Test func vipdRunsTheArgumentsKeepalivedRuns() throws {
        let testCase = try CorpusTests.load("grammar-script-quoting")
        let result = try KeepalivedImport.convert(file: CorpusTests.root + "/keepalived.conf", configID: "r1",
                                                  fileSystem: .inMemory(testCase.files))
        let config = try VIPDConfiguration.parse(yaml: result.yaml, file: "converted")
        let instance = try #require(config.instance(named: "VI_1"))
        // keepalived 2.2.7 decodes escapes when it reads the line and again when it splits the command.
        // The manual's example: 2.2.7 takes every hex digit of \x20f (a control character), not carried.
        #expect(instance.stateCommands.master == nil)
        #expect(instance.stateCommands.stop == ["/etc/keepalived/notify_event.sh", "it's", "\\x41", "$HOME", "A"], "the first pass's tab separates")
        #expect(instance.stateCommands.backup == nil, "'it'\\''s' leaves a quote open once decoded twice")
        #expect(instance.notify == nil, "a control character other than a tab cannot be carried")
        #expect(instance.notifyStyle == .keepalived)
        #expect(instance.track.scripts.map(\.run) == ["/usr/bin/killall", "/bin/echo"])
    }
}
