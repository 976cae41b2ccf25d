import Foundation
import Testing

/// The repository root, from this file's path (Tests/VIPDObservabilityTests/…).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// systemd-analyze, or nil. Missing is a failure under CI=true (scripts/deps should install the
/// `systemd` package) and a skip elsewhere.
func systemdAnalyze() -> String? {
    for path in ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"] where FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    if underCI { Issue.record("systemd-analyze is missing under CI=true: install the Debian package systemd") }
    return nil
}

/// Copies `unit` into a temp dir as `name`, with `from` replaced by `to` (e.g. ExecStart's binary
/// by one that exists, which `verify` insists on).
func stagedUnit(_ unitText: String, name: String, replacing from: String, with to: String) throws -> String {
    let dir = try makeTempDirectory("vipd-unit")
    let path = dir + "/" + name
    try unitText.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func exposure(of output: String) -> Double? {
    // "→ Overall exposure level for vipd.service: 1.8 OK 🙂"
    guard let line = output.split(separator: "\n").last(where: { $0.contains("Overall exposure level") }),
          let colon = line.lastIndex(of: ":") else { return nil }
    return line[line.index(after: colon)...].split(separator: " ").first.flatMap { Double($0) }
}

@Suite("systemd units", .serialized)
struct SystemdUnitTests {
    static let units = [("vipd.service", "vipd.service"), ("vipd@.service", "vipd@web.service")]

    @Test(arguments: units)
    func verifyPasses(_ file: String, _ instanceName: String) throws {
        guard let analyze = systemdAnalyze() else { return }
        let text = try String(contentsOfFile: repositoryRoot + "/systemd/" + file, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/vipd run --config /etc/vipd/"))
        let path = try stagedUnit(text, name: instanceName, replacing: "/usr/local/bin/vipd", with: "/bin/true")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let result = try runProcess(analyze, ["verify", path])
        #expect(result.status == 0, "systemd-analyze verify \(file): \(result.stderr)")
        #expect(!result.stderr.contains(instanceName), "\(result.stderr)")
    }

    @Test(arguments: units)
    func securityExposureAtMostTwo(_ file: String, _ instanceName: String) throws {
        guard let analyze = systemdAnalyze() else { return }
        let text = try String(contentsOfFile: repositoryRoot + "/systemd/" + file, encoding: .utf8)
        let path = try stagedUnit(text, name: instanceName, replacing: "/usr/local/bin/vipd", with: "/bin/true")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let result = try runProcess(analyze, ["security", "--offline=true", "--no-pager", path])
        let score = try #require(exposure(of: result.stdout), "no exposure line in: \(result.stdout) \(result.stderr)")
        #expect(score <= 2.0, "exposure \(score) for \(file)")
    }

    @Test func unitsKeepTheRequiredSettings() throws {
        for (file, _) in Self.units {
            let lines = Set(try String(contentsOfFile: repositoryRoot + "/systemd/" + file, encoding: .utf8)
                .split(separator: "\n").map(String.init))
            for required in ["Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=10s",
                             "Restart=on-failure", "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW",
                             "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
                             "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_PACKET"] {
                #expect(lines.contains(required), "\(file) lacks \(required)")
            }
            // Stop timeout must exceed the graceful handover at the default 1 s advert interval
            // (Master_Down_Interval 3.6 s) with room to spare.
            let stop = try #require(lines.first { $0.hasPrefix("TimeoutStopSec=") })
            let seconds = try #require(Double(stop.dropFirst("TimeoutStopSec=".count).dropLast()))
            #expect(seconds >= 10)
        }
    }

    @Test func exposureParser() {
        #expect(exposure(of: "x\n→ Overall exposure level for vipd.service: 1.8 OK 🙂\n") == 1.8)
        #expect(exposure(of: "→ Overall exposure level for keepalived.service: 9.6 UNSAFE 😨") == 9.6)
        #expect(exposure(of: "nothing") == nil)
    }
}

@Suite("scripts/install", .serialized)
struct InstallScriptTests {
    private func install(_ args: [String], destdir: String, example: String) throws -> ProcessOutput {
        try runProcess("/bin/bash", [repositoryRoot + "/scripts/install"] + args,
                       environment: ["DESTDIR": destdir, "VIPD_EXAMPLE_CONFIG": example])
    }

    @Test func stagesBinaryUnitsDocsAndConfig() throws {
        let tmp = try makeTempDirectory("vipd-install")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let root = tmp + "/root", example = tmp + "/example.yaml", fake = tmp + "/vipd-binary"
        try "# example\nnode: r1\n".write(toFile: example, atomically: true, encoding: .utf8)
        try "#!/bin/sh\nexit 0\n".write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)

        let result = try install(["--no-build", fake, "/opt/vipd"], destdir: root, example: example)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("systemctl daemon-reload"))
        #expect(result.stdout.contains("systemctl enable --now vipd"))

        let fm = FileManager.default
        let bin = root + "/opt/vipd/bin/vipd"
        #expect(fm.contentsEqual(atPath: bin, andPath: fake))
        #expect((try fm.attributesOfItem(atPath: bin)[.posixPermissions] as? Int) == 0o755)
        #expect(try String(contentsOfFile: root + "/etc/vipd/vipd.yaml", encoding: .utf8) == "# example\nnode: r1\n")
        // Not world-readable: it may hold an auth_pass or secrets in track-script arguments.
        #expect((try fm.attributesOfItem(atPath: root + "/etc/vipd/vipd.yaml")[.posixPermissions] as? Int) == 0o640)
        #expect(result.stdout.contains("must create the vipd user and group"))
        #expect(fm.fileExists(atPath: root + "/opt/vipd/share/doc/vipd/systemd.md"))
        #expect(fm.fileExists(atPath: root + "/opt/vipd/share/doc/vipd/observability.md"))

        for unit in ["vipd.service", "vipd@.service"] {
            let text = try String(contentsOfFile: root + "/etc/systemd/system/" + unit, encoding: .utf8)
            #expect(text.contains("ExecStart=/opt/vipd/bin/vipd run --config /etc/vipd/"))
            #expect(!text.contains("/usr/local"))
        }

        // The installed unit, pointed at the staged binary, still verifies.
        if let analyze = systemdAnalyze() {
            let text = try String(contentsOfFile: root + "/etc/systemd/system/vipd.service", encoding: .utf8)
            let path = try stagedUnit(text, name: "vipd.service", replacing: "/opt/vipd/bin/vipd", with: bin)
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let verify = try runProcess(analyze, ["verify", path])
            #expect(verify.status == 0, "\(verify.stderr)")
        }
    }

    /// An install to the live system, kept off this host: in a mount namespace of its own whose
    /// /etc is a copy. The config is 0640 root:vipd and the static vipd user and group exist (what
    /// DynamicUser=yes then runs the service as, so it can read the file).
    @Test func liveInstallMakesTheConfigReadableByRootAndVipdOnly() throws {
        guard getuid() == 0 else {
            if underCI { Issue.record("needs root (CI=true)") } else { print("skipped: needs root") }
            return
        }
        let tmp = try makeTempDirectory("vipd-install-live")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let script = """
            set -e
            cp -a /etc \(tmp)/etc
            unshare -m --propagation private sh -c '
              mount --bind \(tmp)/etc /etc
              VIPD_EXAMPLE_CONFIG=\(repositoryRoot)/examples/vipd.yaml bash \(repositoryRoot)/scripts/install --no-build /bin/true \(tmp)/prefix >/dev/null
              stat -c "%a %U:%G" /etc/vipd/vipd.yaml
              getent passwd vipd | cut -d: -f6,7
              getent group vipd >/dev/null && echo group-ok
            '
            """
        let result = try runProcess("/bin/bash", ["-c", script], timeoutSeconds: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "640 root:vipd\n/nonexistent:/usr/sbin/nologin\ngroup-ok\n", "\(result.stdout)\(result.stderr)")
    }

    @Test func keepsAnExistingConfig() throws {
        let tmp = try makeTempDirectory("vipd-install")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let root = tmp + "/root", example = tmp + "/example.yaml"
        try "# example\n".write(toFile: example, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/etc/vipd", withIntermediateDirectories: true)
        try "mine: true\n".write(toFile: root + "/etc/vipd/vipd.yaml", atomically: true, encoding: .utf8)

        let result = try install(["--no-build", "/bin/true"], destdir: root, example: example)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: root + "/etc/vipd/vipd.yaml", encoding: .utf8) == "mine: true\n")
        #expect(result.stdout.contains("exists: left as it is"))
        // Default prefix.
        #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/local/bin/vipd"))
        let unit = try String(contentsOfFile: root + "/etc/systemd/system/vipd.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/vipd run --config /etc/vipd/vipd.yaml"))
    }

    @Test(arguments: [
        (["--no-build"], "needs a binary path"),
        (["--no-build", "/nonexistent/vipd"], "is not an executable file"),
        (["--no-build", "/bin/true", "relative/prefix"], "must be an absolute path"),
        (["--frobnicate"], "unknown option"),
        (["--no-build", "/bin/true", "/home/me"], "ProtectHome"),
    ])
    func rejectsBadArguments(_ args: [String], _ message: String) throws {
        let tmp = try makeTempDirectory("vipd-install")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let result = try install(args, destdir: tmp + "/root", example: tmp + "/none.yaml")
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp + "/root/etc/systemd/system/vipd.service"))
    }

    @Test func missingExampleConfigIsAWarningNotAFailure() throws {
        let tmp = try makeTempDirectory("vipd-install")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let result = try install(["--no-build", "/bin/true"], destdir: tmp + "/root", example: tmp + "/none.yaml")
        #expect(result.status == 0)
        #expect(result.stderr.contains("no example config"))
        #expect(!FileManager.default.fileExists(atPath: tmp + "/root/etc/vipd/vipd.yaml"))
    }
}

/// The unit's sysctl arrangement, reproduced without systemd (the machines have no systemd as
/// PID 1): in a network namespace of our own, a mount namespace with /proc/sys read-only and
/// /proc/sys/net/ipv4/conf bound read-write again (what ProtectKernelTunables=yes plus
/// ReadWritePaths= produce), an unprivileged user holding only CAP_NET_ADMIN (what DynamicUser= plus
/// AmbientCapabilities= produce) must be able to write a macvlan's per-interface sysctl created
/// after the mounts, and must not be able to write a global one.
@Suite("sandboxed sysctl writes")
struct SandboxSysctlTests {
    static let script = #"""
    set -u
    ns="vt$$-sysctl"
    cleanup() { ip netns del "$ns" 2>/dev/null; }
    trap cleanup EXIT
    ip netns add "$ns" || exit 10
    ip netns exec "$ns" unshare -m --propagation private sh -c '
      mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys &&
      mount --bind /proc/sys/net/ipv4/conf /proc/sys/net/ipv4/conf &&
      mount -o remount,bind,rw /proc/sys/net/ipv4/conf || exit 11
      ip link add va type veth peer name vb && ip link add link va name vm0 type macvlan mode private || exit 12
      as_vipd() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin sh -c "$1"; }
      as_vipd "echo 1 > /proc/sys/net/ipv4/conf/vm0/arp_ignore" || exit 13
      [ "$(cat /proc/sys/net/ipv4/conf/vm0/arp_ignore)" = 1 ] || exit 14
      as_vipd "echo 1 > /proc/sys/net/ipv4/ip_forward" 2>/dev/null && exit 15
      setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo 1 > /proc/sys/net/ipv4/conf/vm0/arp_filter" 2>/dev/null && exit 16
      exit 0
    '
    """#

    @Test func capNetAdminWritesPerInterfaceSysctlsOnly() throws {
        guard getuid() == 0 else {
            if underCI { Issue.record("needs root (CI=true)") } else { print("skipped: needs root") }
            return
        }
        for tool in ["/usr/bin/setpriv", "/usr/bin/unshare"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if underCI { Issue.record("\(tool) missing (util-linux)") }
            return
        }
        let result = try runProcess("/bin/bash", ["-c", Self.script], timeoutSeconds: 60)
        let meaning = [10: "ip netns add failed", 11: "mounts failed", 12: "creating veth/macvlan failed",
                       13: "CAP_NET_ADMIN could not write the per-interface sysctl",
                       14: "value not written", 15: "a global sysctl was writable",
                       16: "a user without CAP_NET_ADMIN could write"]
        #expect(result.status == 0, "\(meaning[Int(result.status)] ?? "exit \(result.status)"): \(result.stderr)")
    }
}
