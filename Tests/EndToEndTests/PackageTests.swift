import Foundation
import Testing

/// What scripts/package takes from the built binary, checked on the binary the tests built:
/// its --version against the file VERSION, the manual pages scripts/manpages writes from it (and
/// from docs/config.md) rendering without a warning, and its completion scripts.
/// The whole package, installed on a fresh Debian root and run by its systemd: scripts/package-test.
@Suite("package inputs")
struct PackageTests {
    let vipd = LabEnvironment.vipdBinary
    let root = LabEnvironment.packageRoot.path

    @Test func versionMatchesTheVersionFile() throws {
        let version = try String(contentsOfFile: root + "/VERSION", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let result = shell("\(vipd) --version")
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == version)
    }

    @Test func manualPagesRenderWithoutWarnings() throws {
        for tool in ["/usr/bin/python3", "/usr/bin/man"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if LabEnvironment.isCI { Issue.record("\(tool) is missing under CI=true (scripts/deps installs python3 and man-db)") }
            return
        }
        let dir = "/tmp/vipd-man-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = shell("python3 \(root)/scripts/manpages \(vipd) \(dir)")
        try #require(made.status == 0, "scripts/manpages: \(made.output)")
        for (page, needles) in [("vipd.8", ["check-config", "import-keepalived", "--config", "vipd.yaml"]),
                                ("vipd.yaml.5", ["advert_interval", "priority", "sync_groups", "vipd"])] {
            let warnings = shell("MANWIDTH=80 man --warnings -l -P cat \(dir)/\(page) 2>&1 >/dev/null")
            #expect(warnings.status == 0 && warnings.output.isEmpty, "man \(page): \(warnings.output)")
            let text = shell("MANWIDTH=80 man -l -P cat \(dir)/\(page) 2>/dev/null").output
            for needle in needles { #expect(text.contains(needle), "\(page) lacks \(needle)") }
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(_ shellName: String) throws {
        let result = shell("\(vipd) --generate-completion-script \(shellName)")
        #expect(result.status == 0)
        #expect(result.output.contains("check-config"), "\(result.output.prefix(400))")
        if shellName == "bash" {
            let path = "/tmp/vipd-completion-\(getpid()).bash"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try result.output.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(shell("bash -n \(path)").status == 0)
        }
    }
}
