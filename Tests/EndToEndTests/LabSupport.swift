// Support for end-to-end tests: a namespace lab (scripts/lab), the real vipd binary started in it
// with `ip netns exec`, and probes of who holds the VIP and what `vipd status` says.
// Follows shared/guides/lab.md: documentation addresses only, unique names per run, cleanup by pid,
// bounded waits.

import Foundation
import Testing
import VIPDDaemon

enum LabEnvironment {
    static let isRoot = getuid() == 0
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    /// Lab suites run when root; under CI they run (and fail) even when not root.
    static let enabled = isRoot || isCI

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    /// The vipd binary next to the test bundle (.build/<config>/vipd).
    static var vipdBinary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("vipd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/vipd").path
    }
}

struct CommandResult {
    var status: Int32
    var output: String
}

@discardableResult
func shell(_ command: String, timeout: TimeInterval = 60) -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return CommandResult(status: -1, output: "\(error)") }
    let deadline = Date().addingTimeInterval(timeout)
    var data = Data()
    let handle = pipe.fileHandleForReading
    // Read until EOF (the process closes its end when it exits).
    data = handle.readDataToEndOfFile()
    while process.isRunning && Date() < deadline { usleep(1000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(_ timeout: TimeInterval, every interval: TimeInterval = 0.05, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}

final class Lab {
    nonisolated(unsafe) private static var counter = 0
    let tag: String
    let routers: Int
    let workdir: String
    let vipd = LabEnvironment.vipdBinary
    private(set) var daemons: [Int: Process] = [:]

    static let vip4 = "192.0.2.100"
    static let vip6 = "2001:db8::100"

    init(routers: Int) throws {
        try #require(LabEnvironment.isRoot, "namespace lab tests need root (run `sudo scripts/test`)")
        try #require(FileManager.default.isExecutableFile(atPath: vipd), "vipd binary not built at \(vipd)")
        Lab.counter += 1
        // Short (interface names are ≤ 15 bytes) and unique per process and lab.
        tag = "e\(getpid() % 100_000)\(Lab.counter)"
        self.routers = routers
        workdir = "/tmp/vipd-e2e-\(tag)"
        shell("rm -rf \(workdir); mkdir -p \(workdir)")
        let up = shell("\(LabEnvironment.packageRoot.path)/scripts/lab up --tag \(tag) --routers \(routers)")
        try #require(up.status == 0, "lab up failed: \(up.output)")
    }

    deinit { teardown() }

    func teardown() {
        for (_, process) in daemons where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        daemons.removeAll()
        shell("\(LabEnvironment.packageRoot.path)/scripts/lab down --tag \(tag)")
    }

    func ns(_ router: Int) -> String { "\(tag)-r\(router)" }
    var client: String { "\(tag)-c" }
    var switchNS: String { "\(tag)-sw" }
    func socket(_ router: Int) -> String { "\(workdir)/r\(router).sock" }
    func configPath(_ router: Int) -> String { "\(workdir)/r\(router).yaml" }
    func logPath(_ router: Int) -> String { "\(workdir)/r\(router).log" }
    func routerAddress(_ router: Int) -> String { "192.0.2.1\(router)" }

    /// Writes the config (control_socket is added) and starts vipd in router `k`'s namespace.
    func start(_ k: Int, config body: String) throws {
        let yaml = "control_socket: \(socket(k))\nnode: r\(k)\n" + body
        try yaml.write(toFile: configPath(k), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns(k), vipd, "run", "--config", configPath(k)]
        if !FileManager.default.fileExists(atPath: logPath(k)) {
            try #require(FileManager.default.createFile(atPath: logPath(k), contents: nil))
        }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(k)))
        logHandle.seekToEndOfFile()
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        daemons[k] = process
        let piddir = shell("\(LabEnvironment.packageRoot.path)/scripts/lab piddir --tag \(tag)").output.trimmingCharacters(in: .whitespacesAndNewlines)
        try? "\(process.processIdentifier)".write(toFile: "\(piddir)/vipd-r\(k).pid", atomically: true, encoding: .utf8)
        let ready = waitUntil(10) { status(k) != nil || !process.isRunning }
        try #require(ready && process.isRunning, "vipd on r\(k) did not start: \(log(k))")
    }

    func rewriteConfig(_ k: Int, config body: String) throws {
        let yaml = "control_socket: \(socket(k))\nnode: r\(k)\n" + body
        try yaml.write(toFile: configPath(k), atomically: true, encoding: .utf8)
    }

    func log(_ k: Int) -> String { (try? String(contentsOfFile: logPath(k), encoding: .utf8)) ?? "" }

    func signal(_ k: Int, _ sig: Int32) {
        if let p = daemons[k] { kill(p.processIdentifier, sig) }
    }

    /// Waits for the daemon to exit; returns its exit status.
    func waitForExit(_ k: Int, timeout: TimeInterval) -> Int32? {
        guard let p = daemons[k] else { return nil }
        guard waitUntil(timeout, { !p.isRunning }) else { return nil }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func isRunning(_ k: Int) -> Bool { daemons[k]?.isRunning ?? false }

    func status(_ k: Int) -> DaemonStatus? {
        guard let response = try? ControlClient.send(ControlRequest(command: .status), to: socket(k), timeout: .seconds(2)) else { return nil }
        return response.status
    }

    func vipdCommand(_ k: Int, _ args: String) -> CommandResult {
        shell("\(vipd) \(args) --socket \(socket(k))")
    }

    /// Routers whose eth0 (or any interface) carries `address`.
    func holders(_ address: String) -> [Int] {
        (1...routers).filter { k in
            shell("ip -n \(ns(k)) -o addr show").output.contains(" \(address)/")
        }
    }

    /// The state of router k's instance `name` (family ipv4 unless given), from `vipd status`.
    func state(_ k: Int, _ name: String, family: String = "ipv4") -> String? {
        status(k)?.instances.first { $0.name == name }?.routers.first { $0.family == family }?.state
    }

    func masters(_ name: String, family: String = "ipv4") -> [Int] {
        (1...routers).filter { isRunning($0) && state($0, name, family: family) == "Master" }
    }

    /// One ping from the client; true if answered.
    func ping(_ address: String, timeout: Int = 1) -> Bool {
        shell("ip netns exec \(client) ping -c 1 -W \(timeout) \(address)").status == 0
    }

    /// Waits until exactly `router` holds `address` and the client reaches it.
    func expectSoleHolder(_ address: String, _ router: Int, within timeout: TimeInterval = 10,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        let settled = waitUntil(timeout) { holders(address) == [router] }
        #expect(settled, "expected only r\(router) to hold \(address), holders: \(holders(address))\n\(logs())", sourceLocation: sourceLocation)
        #expect(waitUntil(5) { ping(address) }, "client cannot reach \(address)", sourceLocation: sourceLocation)
    }

    func logs() -> String {
        (1...routers).map { "--- r\($0) log:\n" + String(log($0).suffix(3000)) }.joined(separator: "\n")
    }

    /// Client's neighbour entry MAC for an address, and each router's eth0 MAC.
    func clientNeighborMAC(_ address: String) -> String? {
        let out = shell("ip -n \(client) neigh show \(address)").output
        let parts = out.split(separator: " ")
        guard let i = parts.firstIndex(of: "lladdr"), i + 1 < parts.count else { return nil }
        return String(parts[i + 1])
    }

    /// MAC of router k's eth0 (sysfs is per network namespace, so read it inside).
    func mac(_ k: Int) -> String {
        shell("ip netns exec \(ns(k)) cat /sys/class/net/eth0/address", timeout: 5).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
