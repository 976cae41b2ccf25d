import Foundation
import Testing
import VIPDObservability

/// One version everywhere: the file VERSION (what scripts/package names the .deb after), the string
/// `vipd --version` prints and vipd_build_info carries (vipdVersion), and the packaging changelog.
@Suite("version and packaging")
struct PackagingTests {
    private func read(_ path: String) throws -> String {
        try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8)
    }

    @Test func versionFileMatchesTheBinarysVersion() throws {
        let version = try read("VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty)
        #expect(version == vipdVersion, "VERSION says \(version), Sources/VIPDObservability/Version.swift \(vipdVersion)")
    }

    @Test func changelogsFirstEntryIsTheVersion() throws {
        let version = try read("VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
        let first = try read("packaging/deb/changelog").split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("vipd (\(version)) "), "packaging/deb/changelog starts with \(first)")
    }

    /// The units' ExecCondition= (what keeps a fresh package install, whose config is a commented
    /// example, from starting vipd) run by /bin/sh as systemd would, against a commented example, a
    /// real config, a blank-and-comments file and no file.
    @Test(arguments: ["vipd.service", "vipd@.service"])
    func execConditionSkipsUntilTheConfigHoldsASetting(_ unit: String) throws {
        let text = try read("systemd/" + unit)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ExecCondition=/bin/sh -c '") })
        // systemd's unquoting for this line: the single-quoted argument, with $$ standing for $.
        var script = String(line.dropFirst("ExecCondition=/bin/sh -c '".count).dropLast())
        script = script.replacingOccurrences(of: "$$", with: "$")
        let tmp = try makeTempDirectory("vipd-condition")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let config = tmp + "/config.yaml"
        let configName = unit == "vipd.service" ? "/etc/vipd/vipd.yaml" : "/etc/vipd/%i.yaml"
        #expect(script.contains(configName))
        script = script.replacingOccurrences(of: configName, with: config)
        func condition(_ contents: String?) throws -> Int32 {
            try? FileManager.default.removeItem(atPath: config)
            if let contents { try contents.write(toFile: config, atomically: true, encoding: .utf8) }
            return try runProcess("/bin/sh", ["-c", script]).status
        }
        let example = try read("examples/vipd.yaml")
        let commented = example.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
        #expect(try condition(commented) == 1)
        #expect(try condition("\n   \n# node: r1\n\t# x\n") == 1)
        #expect(try condition(nil) != 0)
        #expect(try condition(example) == 0)
        #expect(try condition("# a comment first\nnode: r1\n") == 0)
    }

    /// The package's layout, staged by scripts/install: /usr/sbin/vipd and the units in
    /// /lib/systemd/system pointing at it and at /usr/share/doc/vipd.
    @Test func installStagesThePackageLayout() throws {
        let tmp = try makeTempDirectory("vipd-install-deb")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let result = try runProcess("/bin/bash", [repositoryRoot + "/scripts/install", "--no-build", "/bin/true", "--sbin",
                                                  "--unit-dir", "/lib/systemd/system", "/usr"],
                                    environment: ["DESTDIR": tmp, "VIPD_EXAMPLE_CONFIG": repositoryRoot + "/examples/vipd.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: tmp + "/usr/sbin/vipd"))
        #expect(!FileManager.default.fileExists(atPath: tmp + "/usr/bin/vipd"))
        #expect(!FileManager.default.fileExists(atPath: tmp + "/etc/systemd/system/vipd.service"))
        for unit in ["vipd.service", "vipd@.service"] {
            let text = try String(contentsOfFile: tmp + "/lib/systemd/system/" + unit, encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/sbin/vipd run --config /etc/vipd/"))
            #expect(text.contains("file:/usr/share/doc/vipd/systemd.md"))
            #expect(!text.contains("/usr/local"))
        }
        let relative = try runProcess("/bin/bash", [repositoryRoot + "/scripts/install", "--no-build", "/bin/true",
                                                    "--unit-dir", "lib/systemd"], environment: ["DESTDIR": tmp + "/x"])
        #expect(relative.status == 2 && relative.stderr.contains("--unit-dir must be an absolute path"), "\(relative.stderr)")
    }
}
