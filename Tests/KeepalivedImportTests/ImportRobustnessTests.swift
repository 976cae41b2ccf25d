import Foundation
@testable import KeepalivedImport
import Testing

/// Any input gives a configuration or a parse error — never a trap, never unbounded work.
@Suite struct ImportRobustnessTests {
    /// SplitMix64: the same mutations on every run.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static let pieces = ["{", "}", "\"", "'", "\\", "#", "!", "$", "${", "@", "@^", "~SEQ(", "~LST(", "(", ")", ",",
                         "\n", " ", "\t", "include ", "includea *", "$X=", "$X", " \\\n", "vrrp_instance", "\u{0}", "é", "0x"]

    static func mutate(_ text: String, _ random: inout Random) -> String {
        var chars = Array(text)
        for _ in 0...random.below(6) {
            let at = random.below(chars.count + 1)
            switch random.below(3) {
            case 0: chars.insert(contentsOf: Array(pieces[random.below(pieces.count)]), at: at)
            case 1: if at < chars.count { chars.removeSubrange(at..<min(chars.count, at + random.below(20) + 1)) }
            default:
                let start = random.below(chars.count + 1), length = random.below(40)
                chars.insert(contentsOf: chars[start..<min(chars.count, start + length)], at: at)
            }
        }
        return String(chars)
    }

    @Test func mutatedCorpusFilesNeverTrap() throws {
        var random = Random(state: 12)
        var converted = 0, refused = 0
        for name in CorpusTests.cases() {
            let testCase = try CorpusTests.load(name)
            let main = CorpusTests.root + "/keepalived.conf"
            for _ in 0..<60 {
                var files = testCase.files
                files[main] = Self.mutate(files[main] ?? "", &random)
                do {
                    _ = try KeepalivedImport.convert(file: main, configID: "r1", fileSystem: .inMemory(files))
                    converted += 1
                } catch {
                    #expect(error.location.line >= 1)
                    refused += 1
                }
            }
        }
        // Both outcomes occur, so the mutations reach past the first checks.
        #expect(converted > 50 && refused > 50, "converted \(converted), refused \(refused)")
    }

    @Test(arguments: [
        ("a definition that refers to itself", "$A=x $A y\nvrrp_instance $A {\n}\n"),
        ("a definition that doubles", "$A=${A}${A}\n$A\n"),
        ("a multi-line definition that expands itself", "$A= \\\n$A\n$A\n"),
        ("a sequence beyond the line limit", "~SEQ(A, 1, 1000000) x\n"),
        ("a sequence spanning all integers", "~SEQ(A, -9223372036854775807, 9223372036854775807) x\n"),
        ("nested sequences beyond the line limit", "~SEQ(A, 1, 1000) ~SEQ(B, 1, 1000) x\n"),
        ("ten thousand open braces", String(repeating: "a {\n", count: 10_000)),
        ("an include loop through two files", "include other.conf\n"),
    ])
    func pathologicalInputIsRefused(_ name: String, _ text: String) {
        let files = ["/etc/keepalived/keepalived.conf": text, "/etc/keepalived/other.conf": "include keepalived.conf\n"]
        let start = ContinuousClock.now
        let outcome = Result { () throws(KeepalivedParseError) in
            try KeepalivedImport.convert(file: "/etc/keepalived/keepalived.conf", configID: "r1", fileSystem: .inMemory(files))
        }
        guard case .failure(let error) = outcome else { Issue.record("\(name): accepted"); return }
        #expect(error.location.file.hasPrefix("/etc/keepalived/"), "\(error)")
        #expect(ContinuousClock.now - start < .seconds(10), "\(name) took too long")
    }
}

/// The in-memory file system globs as glob(3) does on a real tree.
@Suite struct GlobTests {
    @Test func inMemoryGlobMatchesTheRealGlob() throws {
        let root = NSTemporaryDirectory() + "vipd-glob-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = ["a.conf", "b.conf", ".hidden.conf", "c.txt", "d/e.conf", "d/f.conf", "x1.conf", "x2.conf", "[x].conf"]
        var files: [String: String] = [:]
        for name in names {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "".write(toFile: path, atomically: true, encoding: .utf8)
            files[path] = ""
        }
        let memory = KeepalivedFileSystem.inMemory(files)
        for pattern in ["*.conf", "*", "d/*.conf", "*/*.conf", "x?.conf", "x[12].conf", "x[!1].conf", "{a,b}.conf", "{a,d/e}.conf", "a.conf", "absent.conf", "\\[x\\].conf"] {
            #expect(memory.glob(root + "/" + pattern) == Self.realGlob(root + "/" + pattern), "\(pattern)")
        }
    }

    static func realGlob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, GLOB_BRACE, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
    }
}
