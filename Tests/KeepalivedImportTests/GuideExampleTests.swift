import Foundation
import KeepalivedImport
import Testing

/// docs/migrating-from-keepalived.md shows a keepalived file, the YAML the import prints for it and
/// the notes: they are what the importer gives today.
@Suite struct GuideExampleTests {
    static let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/migrating-from-keepalived.md")

    /// The bodies of the three fenced blocks after "For example".
    static func example() throws -> [String] {
        let text = try String(contentsOf: guide, encoding: .utf8)
        let start = try #require(text.range(of: "For example, this keepalived configuration:"))
        var blocks: [String] = [], body: [Substring]?
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let b = body { blocks.append(b.joined(separator: "\n") + "\n"); body = nil; if blocks.count == 3 { break } } else { body = [] }
            } else if body != nil {
                body!.append(line)
            }
        }
        return blocks
    }

    @Test func theGuidesExampleIsTheImportersOutput() throws {
        let blocks = try Self.example()
        try #require(blocks.count == 3)
        let result = try KeepalivedImport.convert(file: "keepalived.conf", configID: "lb1",
                                                  fileSystem: .inMemory(["keepalived.conf": blocks[0]]))
        #expect(result.yaml == blocks[1])
        #expect(result.notes.map { "\($0)\n" }.joined() == blocks[2])
    }
}
