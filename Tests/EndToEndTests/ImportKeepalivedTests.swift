import Foundation
import Testing

/// `vipd import-keepalived` as an operator runs it: YAML on stdout that check-config accepts, notes on
/// stderr as FILE:LINE, the exit codes of issue 12, and nothing on stdout when the file cannot be read.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct ImportKeepalivedTests {
    let vipd = LabEnvironment.vipdBinary

    /// A directory of files for one test, removed afterwards.
    final class Tree {
        let path = "/tmp/vipd-import-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        init(_ files: [String: String]) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (name, text) in files {
                let file = path + "/" + name
                try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    func importing(_ arguments: String, in tree: Tree) -> Outcome {
        let result = shell("cd \(tree.path) && \(vipd) import-keepalived \(arguments) >out.yaml 2>notes.txt; echo $?")
        let read = { (name: String) in (try? String(contentsOfFile: tree.path + "/" + name, encoding: .utf8)) ?? "" }
        return Outcome(status: Int32(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, stdout: read("out.yaml"), stderr: read("notes.txt"))
    }

    static let keepalived = """
        global_defs {
            router_id lb1
            notification_email { ops@example.com }
        }
        vrrp_script chk {
            script "/bin/true check"
            interval 2
            fall 2
        }
        include conf.d/*.conf
        """
    static let instance = """
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            @r1 priority 150
            @^r1 priority 100
            virtual_ipaddress {
                192.0.2.100/24
            }
            track_script {
                chk weight -20
            }
        }
        """

    @Test func printsYAMLThatCheckConfigAcceptsAndNotesWithFileAndLine() throws {
        let tree = try Tree(["keepalived.conf": Self.keepalived, "conf.d/web.conf": Self.instance])
        let outcome = importing("--config-id r1 keepalived.conf", in: tree)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("priority: 150  # conf.d/web.conf:5"), "\(outcome.stdout)")
        #expect(outcome.stderr == "keepalived.conf:3: notification_email is not converted: vipd sends no mail; send it from a notify script (notify_master and the like)\n")
        // The printed file loads as it is, script security included (/bin/true is root's).
        let check = shell("\(vipd) check-config \(tree.path)/out.yaml")
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("weight: -20"), "\(check.output)")
    }

    /// Notify scripts and users: the file passes check-config where the programs and the user exist.
    @Test func notifyScriptsAndScriptUserPassCheckConfig() throws {
        let keepalived = """
            global_defs {
                script_user nobody nogroup
                enable_script_security
            }
            vrrp_sync_group G {
                group { VI_1 }
                notify "/bin/echo group"
            }
            """
        let instance = Self.instance.replacingOccurrences(of: "track_script {", with: """
            notify_master "/bin/echo 'became master'"
                notify_backup /bin/true
                notify /bin/echo
                track_script {
            """)
        let tree = try Tree(["keepalived.conf": keepalived + "\nvrrp_script chk {\n script /bin/true\n}\ninclude conf.d/*.conf\n", "conf.d/web.conf": instance])
        let outcome = importing("--strict --config-id r1 keepalived.conf", in: tree)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("notify_style: keepalived"), "\(outcome.stdout)")
        let check = shell("\(vipd) check-config \(tree.path)/out.yaml")
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("script_user: \"nobody:nogroup\""), "\(check.output)")
        #expect(check.output.contains("notify: \"/bin/echo group\""), "the sync group's notify: \(check.output)")
    }

    @Test func strictFailsOnAnyNote() throws {
        let tree = try Tree(["keepalived.conf": Self.keepalived, "conf.d/web.conf": Self.instance])
        let outcome = importing("--strict --config-id r1 keepalived.conf", in: tree)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("keepalived.conf:3:"))
        // Without a note, --strict exits 0.
        let clean = try Tree(["keepalived.conf": "vrrp_script chk {\n script /bin/true\n}\ninclude conf.d/*.conf\n", "conf.d/web.conf": Self.instance])
        let quiet = importing("--strict --config-id r1 keepalived.conf", in: clean)
        #expect(quiet.status == 0, "\(quiet)")
        #expect(quiet.stderr.isEmpty)
        #expect(quiet.stdout.contains("instances:"))
    }

    @Test func aParseErrorPrintsNothingOnStdout() throws {
        let tree = try Tree(["keepalived.conf": "include conf.d/*.conf\n", "conf.d/web.conf": "vrrp_instance VI_1 {\n    interface eth0\n"])
        let outcome = importing("keepalived.conf", in: tree)
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("conf.d/web.conf:1: the block opened here is never closed"), "\(outcome.stderr)")
        let missing = importing("absent.conf", in: tree)
        #expect(missing.status == 1)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("absent.conf:1: cannot read absent.conf"), "\(missing.stderr)")
    }

    /// What the converter passes on but vipd's loader refuses (here an interface name longer than
    /// the kernel's 15 bytes) is an error at the keepalived line, not a file check-config refuses.
    @Test func aValueVipdRefusesIsReportedAtItsKeepalivedLine() throws {
        let tree = try Tree(["keepalived.conf": "vrrp_instance VI_1 {\n    virtual_router_id 5\n    interface a-very-long-interface-name\n    virtual_ipaddress {\n        192.0.2.5/24\n    }\n}\n"])
        let outcome = importing("keepalived.conf", in: tree)
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("vipd: keepalived.conf:3: the converted configuration is refused by vipd"), "\(outcome.stderr)")
    }

    @Test func theConfigIdDefaultsToTheShortHostName() throws {
        let host = shell("hostname -s").output.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!host.isEmpty)
        let tree = try Tree(["keepalived.conf": Self.keepalived.replacingOccurrences(of: "router_id lb1", with: "@\(host) router_id on-this-host\n@^\(host) router_id elsewhere"),
                             "conf.d/web.conf": Self.instance])
        let outcome = importing("keepalived.conf", in: tree)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("node: on-this-host"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("priority: 100"), "r1 is not this host: \(outcome.stdout)")
        let other = importing("--config-id elsewhere-host keepalived.conf", in: tree)
        #expect(other.stdout.contains("node: elsewhere"), "\(other.stdout)")
    }

    /// keepalived 2.2.7 reads every corpus file the importer converts: each line its own config test
    /// complains about has a note from the import at the same FILE:LINE (the interfaces exist in a
    /// namespace, so only the configuration is judged). Two complaints are answered in the YAML
    /// instead: auth_pass truncation (a comment) and keepalived setting vmac_xmit_base itself. The
    /// auth-hmac case is left out: keepalived 2.2.7 has no auth_hmac.
    @Test func keepalivedComplainsOnlyWhereTheImportNotes() throws {
        let ns = "kaimp\(getpid())"
        defer { shell("ip netns del \(ns)") }
        var setup = "ip netns add \(ns)"
        for (a, b) in [("eth0", "eth1"), ("eth2", "eth3"), ("eth8", "eth9")] {
            setup += " && ip -n \(ns) link add \(a) type veth peer name \(b) && ip -n \(ns) link set \(a) up && ip -n \(ns) link set \(b) up"
        }
        let created = shell(setup)
        try #require(created.status == 0, "\(created.output)")
        let corpus = LabEnvironment.packageRoot.appendingPathComponent("Tests/KeepalivedImportTests/keepalived").path
        let cases = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted()
            .filter { FileManager.default.fileExists(atPath: "\(corpus)/\($0)/expected.yaml") }
            .filter { $0 != "auth-hmac" }   // auth_hmac is newer than the keepalived 2.2.7 installed here
        #expect(cases.count >= 10)
        let located = try NSRegularExpression(pattern: #"\((?:([^:()]+): )?Line (\d+)\)"#)
        for name in cases {
            let tree = try Tree([:])
            let copied = shell("cp -r \(corpus)/\(name)/. \(tree.path)/ && rm -f \(tree.path)/expected.*")
            try #require(copied.status == 0, "\(copied.output)")
            let id = (try? String(contentsOfFile: "\(corpus)/\(name)/config-id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "r1"
            let env = ((try? String(contentsOfFile: "\(corpus)/\(name)/env", encoding: .utf8)) ?? "").split(separator: "\n").joined(separator: " ")
            let keepalived = shell("cd \(tree.path) && env \(env) ip netns exec \(ns) keepalived -t -f keepalived.conf -i \(id) -l -n 2>&1")
            let outcome = importing("--config-id \(id) keepalived.conf", in: tree)
            #expect(outcome.status == 0, "\(name): \(outcome.stderr)")
            let noted = Set(outcome.stderr.split(separator: "\n").compactMap { line -> String? in
                let parts = line.split(separator: ":", maxSplits: 2)
                return parts.count == 3 ? "\((parts[0] as NSString).lastPathComponent):\(parts[1])" : nil
            })
            for line in keepalived.output.split(separator: "\n").map(String.init) {
                if line.contains("Truncating auth_pass") || line.contains("vmac_xmit_base") { continue }
                let range = NSRange(line.startIndex..., in: line)
                guard let match = located.firstMatch(in: line, range: range) else { continue }
                let file = Range(match.range(at: 1), in: line).map { (String(line[$0]) as NSString).lastPathComponent } ?? "keepalived.conf"
                let number = Range(match.range(at: 2), in: line).map { String(line[$0]) } ?? ""
                #expect(noted.contains("\(file):\(number)"), "\(name): keepalived says \"\(line)\" and the import has no note at \(file):\(number)\n\(outcome.stderr)")
            }
        }
    }

    /// keepalived's own sample configurations (installed with the Debian package): every one with a
    /// vrrp_instance converts, and `vipd check-config` accepts the result.
    @Test func keepalivedsSamplesConvertAndLoad() throws {
        let samples = "/usr/share/doc/keepalived/samples"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: samples)) ?? []).sorted()
            .filter { $0.hasPrefix("keepalived.conf.") && !$0.hasSuffix(".gz") }
            .filter { ((try? String(contentsOfFile: "\(samples)/\($0)", encoding: .utf8)) ?? "").contains("vrrp_instance") }
        try #require(names.count >= 5, "the keepalived package's samples: \(names)")
        for name in names {
            let tree = try Tree([:])
            let converted = shell("\(vipd) import-keepalived --config-id main \(samples)/\(name) > \(tree.path)/out.yaml 2>/dev/null")
            #expect(converted.status == 0, "\(name): \(converted.output)")
            let check = shell("\(vipd) check-config --quiet \(tree.path)/out.yaml")
            #expect(check.status == 0, "\(name): \(check.output)")
        }
    }
}
