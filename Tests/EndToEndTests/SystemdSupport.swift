// Support for the real-systemd scenarios: Debian's systemd booted by scripts/systemd-lab as PID 1 of
// its own namespaces, vipd installed into it with scripts/install, and a service put into a router
// namespace of a Lab with a drop-in NetworkNamespacePath=. What the tests read is what an operator
// reads: `systemctl show`, `journalctl`, `vipd status` on the unit's socket, the lab's probes.

import Foundation
import Testing
import VIPDDaemon

final class SystemdLab {
    static let script = LabEnvironment.packageRoot.appendingPathComponent("scripts/systemd-lab").path
    static let hookDirectory = "/usr/local/libexec/vipd-lab"
    static let socket = "/run/vipd/vipd.sock"

    let lab: Lab
    let tag: String
    /// Host pid of the lab's PID 1 (systemd).
    let pid: Int32

    /// Boots systemd beside `lab` (same tag) and installs vipd with scripts/install.
    init(_ lab: Lab) throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd"),
                     "Debian's systemd is not installed (scripts/deps installs it)")
        self.lab = lab
        tag = lab.tag
        let up = shell("\(Self.script) up --tag \(tag)", timeout: 60)
        let last = up.output.split(separator: "\n").last.map(String.init) ?? ""
        guard up.status == 0, let pid = Int32(last) else {
            shell("\(Self.script) down --tag \(tag)")
            try #require(Bool(false), "systemd lab did not boot: \(up.output)")
            throw CancellationError()
        }
        self.pid = pid
        let install = run("\(LabEnvironment.packageRoot.path)/scripts/install --no-build \(lab.vipd)")
        try #require(install.status == 0, "scripts/install failed: \(install.output)")
    }

    deinit { teardown() }

    private var tornDown = false
    func teardown() {
        guard !tornDown else { return }
        tornDown = true
        shell("\(Self.script) down --tag \(tag)", timeout: 60)
    }

    // MARK: Inside the lab

    /// `path` as the lab sees it, reachable from the host (its mount namespace through /proc).
    func hostPath(_ path: String) -> String { "/proc/\(pid)/root\(path)" }

    /// Runs a shell command in the lab's mount and pid namespaces.
    @discardableResult
    func run(_ command: String, timeout: TimeInterval = 60) -> CommandResult {
        shell("\(Self.script) exec --tag \(tag) -- sh -c \(shellQuoted(command))", timeout: timeout)
    }

    /// Writes a file inside the lab (root-owned; an existing file keeps its mode and owner).
    func write(_ path: String, _ text: String, mode: Int? = nil) throws {
        let full = hostPath(path)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full) }
    }

    /// A root-owned 0755 script in a root-owned 0755 directory (what script security accepts).
    func installScript(_ name: String, _ body: String) throws -> String {
        let path = "\(Self.hookDirectory)/\(name)"
        try write(path, "#!/bin/sh\n" + body, mode: 0o755)
        // Some Debian hosts have /usr/local 2775 root:staff; in the lab's overlay it is made 0755.
        for dir in ["/usr/local", "/usr/local/libexec", Self.hookDirectory] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hostPath(dir))
        }
        return path
    }

    @discardableResult
    func systemctl(_ args: String) -> CommandResult { run("systemctl --no-pager \(args)") }

    /// `systemctl show` of the properties the operator looks at.
    func show(_ unit: String, _ properties: String = "ActiveState,SubState,StatusText,NRestarts,MainPID,Result,ExecMainStatus") -> [String: String] {
        var values: [String: String] = [:]
        for line in systemctl("show -p \(properties) \(unit)").output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }

    func mainPID(_ unit: String = "vipd") -> Int32? { show(unit, "MainPID")["MainPID"].flatMap { Int32($0) }.flatMap { $0 > 0 ? $0 : nil } }

    func journal(_ unit: String = "vipd", _ options: String = "") -> String {
        run("journalctl --no-pager -u \(unit) \(options)").output
    }

    /// Puts `unit` into router k's namespace (plus `extra` [Service] lines) and reloads systemd.
    func placeInRouter(_ unit: String, _ k: Int, extra: String = "") throws {
        try write("/etc/systemd/system/\(unit).d/lab.conf", "[Service]\nNetworkNamespacePath=/run/netns/\(lab.ns(k))\n\(extra)")
        let reload = systemctl("daemon-reload")
        try #require(reload.status == 0, "daemon-reload: \(reload.output)")
    }

    /// Writes vipd's config (as an operator would after scripts/install) for router k.
    func writeConfig(_ name: String = "vipd", node k: Int, socket: String? = nil, _ body: String) throws {
        var yaml = "node: r\(k)\n"
        if let socket { yaml += "control_socket: \(socket)\n" }
        try write("/etc/vipd/\(name).yaml", yaml + body)
    }

    /// `vipd status` of the unit's daemon, through its control socket.
    func status(socket: String = SystemdLab.socket) -> DaemonStatus? {
        (try? ControlClient.send(ControlRequest(command: .status), to: hostPath(socket), timeout: .seconds(2)))?.status
    }

    func state(_ name: String = "web", socket: String = SystemdLab.socket) -> String? {
        status(socket: socket)?.instances.first { $0.name == name }?.routers.first { $0.family == "ipv4" }?.state
    }

    func routerStatus(_ name: String = "web", socket: String = SystemdLab.socket) -> RouterStatus? {
        status(socket: socket)?.instances.first { $0.name == name }?.routers.first { $0.family == "ipv4" }
    }

    /// What to print when an expectation fails.
    func diagnostics(_ unit: String = "vipd") -> String {
        "systemctl show \(unit): \(show(unit))\n--- journal:\n\(String(journal(unit, "-o short-monotonic").suffix(4000)))\n\(lab.logs())"
    }
}

func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
