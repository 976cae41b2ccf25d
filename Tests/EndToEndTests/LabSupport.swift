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

/// `chrt -p` of every thread of `pid`: the event loop's (the main thread) and the others'.
func threadPolicies(_ pid: Int32) -> (loop: String, others: [String]) {
    let tids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap(Int32.init).sorted()
    func policy(_ tid: Int32) -> String { shell("chrt -p \(tid)").output }
    return (policy(pid), tids.filter { $0 != pid }.map(policy))
}

final class Lab {
    nonisolated(unsafe) private static var counter = 0
    let tag: String
    let routers: Int
    let workdir: String
    let vipd = LabEnvironment.vipdBinary
    private(set) var daemons: [Int: Process] = [:]
    /// Other processes started in the lab (probes, relays), killed at teardown.
    var helpers: [Process] = []

    static let vip4 = "192.0.2.100"
    static let vip6 = "2001:db8::100"

    init(routers: Int) throws {
        try #require(LabEnvironment.isRoot, "namespace lab tests need root (run `sudo scripts/test`)")
        try #require(FileManager.default.isExecutableFile(atPath: vipd), "vipd binary not built at \(vipd)")
        Lab.counter += 1
        // Short (interface names are ≤ 15 bytes) and unique per process and lab.
        // "e" + the pid in 4 base-36 digits + the counter in base 36: at most 7 characters for the
        // first 1295 labs of a process (scripts/lab allows 8).
        let pid = String(getpid() % 100_000, radix: 36)
        tag = "e" + String(repeating: "0", count: 4 - pid.count) + pid + String(Lab.counter, radix: 36)
        self.routers = routers
        workdir = "/tmp/vipd-e2e-\(tag)"
        shell("rm -rf \(workdir); mkdir -p \(workdir)")
        let up = shell("\(LabEnvironment.packageRoot.path)/scripts/lab up --tag \(tag) --routers \(routers)")
        try #require(up.status == 0, "lab up failed: \(up.output)")
    }

    deinit { teardown() }

    func teardown() {
        for process in helpers where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        helpers.removeAll()
        for (_, process) in daemons where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        daemons.removeAll()
        shell("\(LabEnvironment.packageRoot.path)/scripts/lab down --tag \(tag)")
        // Logs of a failing test are in its expectation messages (`logs()`); keep the files only
        // when asked.
        if ProcessInfo.processInfo.environment["VIPD_E2E_KEEP"] == nil { shell("rm -rf \(workdir)") }
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
        try launch(k)
    }

    /// Starts vipd on router `k` with the config file already written (e.g. a restart after a crash).
    func launch(_ k: Int) throws {
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

// MARK: - Failure injection, probes and status helpers (failover suites)

extension Lab {
    /// Carrier loss: the router sees its link go down.
    func cutLink(_ k: Int) { shell("ip -n \(switchNS) link set p\(k) down") }
    func restoreLink(_ k: Int) { shell("ip -n \(switchNS) link set p\(k) up") }

    /// Blackhole with carrier up (a hung host, a partition): the bridge port stops forwarding
    /// (STP state disabled) while both ends keep their link. Only the timers can tell.
    func blackhole(_ k: Int) { shell("ip netns exec \(switchNS) bridge link set dev p\(k) state 0") }
    func unblackhole(_ k: Int) { shell("ip netns exec \(switchNS) bridge link set dev p\(k) state 3") }

    /// One virtual router's status on router k.
    func routerStatus(_ k: Int, _ name: String, family: String = "ipv4") -> RouterStatus? {
        status(k)?.instances.first { $0.name == name }?.routers.first { $0.family == family }
    }

    func transitions(_ k: Int, _ name: String, family: String = "ipv4") -> Int? {
        routerStatus(k, name, family: family)?.counters.transitions
    }

    /// Starts vipd on k again with the config file it had (after a crash or a stop).
    func restart(_ k: Int) throws {
        if let p = daemons[k], p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        try launch(k)
    }

    /// SIGKILL and wait until the process is gone.
    func crash(_ k: Int) {
        signal(k, SIGKILL)
        _ = waitForExit(k, timeout: 5)
    }

    /// MACs that answer ARP for `address` on the client's segment (two requests, all replies).
    func arpingMACs(_ address: String) -> Set<String> {
        let out = shell("ip netns exec \(client) arping -c 2 -I eth0 \(address)", timeout: 10).output
        var macs = Set<String>()
        for line in out.split(separator: "\n") where line.contains("reply from") {
            if let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close {
                macs.insert(line[line.index(after: open)..<close].lowercased())
            }
        }
        return macs
    }

    /// The client's neighbour entry MAC for an IPv6 address.
    func clientNeighborMAC6(_ address: String) -> String? {
        let out = shell("ip -n \(client) -6 neigh show \(address)").output
        let parts = out.split(separator: " ")
        guard let i = parts.firstIndex(of: "lladdr"), i + 1 < parts.count else { return nil }
        return String(parts[i + 1])
    }

    /// Starts a process in the background inside namespace `ns`, output to `outputPath`.
    func background(_ ns: String, _ arguments: [String], output outputPath: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns] + arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        helpers.append(process)
        let piddir = shell("\(LabEnvironment.packageRoot.path)/scripts/lab piddir --tag \(tag)").output.trimmingCharacters(in: .whitespacesAndNewlines)
        try? "\(process.processIdentifier)".write(toFile: "\(piddir)/helper-\(process.processIdentifier).pid", atomically: true, encoding: .utf8)
        return process
    }

    /// A fast ping from the client to `address` in the background (`ping -D` timestamps each reply).
    func startPing(_ address: String, count: Int = 3000, interval: String = "0.001", name: String = "ping") throws -> PingProbe {
        let path = "\(workdir)/\(name).out"
        let process = try background(client, ["ping", "-D", "-n", "-i", interval, "-W", "0.05", "-c", "\(count)", address],
                                     output: path)
        return PingProbe(process: process, outputPath: path)
    }

    /// Blocks VRRP multicast on the switch: no bridge port floods multicast any more
    /// (`mcast_flood off`; the lab's bridge has snooping off, so all multicast is flooded traffic).
    /// Broadcast (ARP) and unicast still pass. IPv6 neighbour discovery (multicast) stops too, so
    /// use it for IPv4 scenarios only.
    func blockMulticast() {
        for port in (1...routers).map({ "p\($0)" }) + ["pc"] {
            shell("ip netns exec \(switchNS) bridge link set dev \(port) mcast_flood off")
        }
    }

    /// Loss and delay on the traffic the switch sends to router k. Uses netem when the kernel has
    /// it; otherwise a user-space relay (python3, AF_PACKET) between the bridge and the port does
    /// the same thing to the bridge→router direction. Returns which one is in use.
    @discardableResult
    func impair(_ k: Int, lossPercent: Int, delayMs: Double, jitterMs: Double) throws -> String {
        let netem = shell("ip netns exec \(switchNS) tc qdisc add dev p\(k) root netem loss \(lossPercent)% delay \(delayMs)ms \(jitterMs)ms")
        if netem.status == 0 { return "netem" }
        // No sch_netem in this kernel: move pK off the bridge and relay it through a new veth pair.
        let port = "p\(k)", inner = "q\(k)", bridged = "x\(k)"
        let setup = shell("""
            set -e
            ip -n \(switchNS) link add \(inner) type veth peer name \(bridged)
            ip -n \(switchNS) link set \(bridged) master br0 up
            ip -n \(switchNS) link set \(inner) up promisc on
            ip -n \(switchNS) link set \(port) nomaster
            ip -n \(switchNS) link set \(port) up promisc on
            """)
        try #require(setup.status == 0, "relay setup failed: \(setup.output)")
        let script = "\(workdir)/impair.py"
        try Lab.impairRelay.write(toFile: script, atomically: true, encoding: .utf8)
        _ = try background(switchNS, ["python3", script, inner, port, "\(lossPercent)", "\(delayMs)", "\(jitterMs)"],
                           output: "\(workdir)/impair-\(k).log")
        return "user-space relay (no netem in this kernel)"
    }

    /// Undoes `impair` (either form).
    func unimpair(_ k: Int) {
        if shell("ip netns exec \(switchNS) tc qdisc del dev p\(k) root netem").status == 0 { return }
        shell("ip -n \(switchNS) link set p\(k) master br0; ip -n \(switchNS) link del q\(k)")
    }

    /// Relays Ethernet frames between two interfaces; frames from A to B are dropped with
    /// probability LOSS% and delayed by DELAY ms ± JITTER ms (normal, like netem), B to A pass as is.
    static let impairRelay = #"""
    import heapq, random, select, socket, sys, time
    a, b = sys.argv[1], sys.argv[2]
    loss, delay, jitter = float(sys.argv[3]) / 100, float(sys.argv[4]) / 1000, float(sys.argv[5]) / 1000
    ETH_P_ALL, PACKET_OUTGOING = 3, 4
    def open_(name):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        return s
    sa, sb = open_(a), open_(b)
    pending = []  # (due, seq, frame) towards b
    seq = 0
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else 1.0
        ready, _, _ = select.select([sa, sb], [], [], timeout)
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            if s is sb:
                sa.send(frame)
            elif random.random() >= loss:
                seq += 1
                heapq.heappush(pending, (time.monotonic() + max(0.0, random.gauss(delay, jitter)), seq, frame))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            sb.send(heapq.heappop(pending)[2])
    """#

    /// Router 1 Master (priority 150, with `top`-level keys and metrics on 127.0.0.1:`metricsPort`),
    /// router 2 its Backup (priority 100), both running the instance `web` on `vip4`.
    func startMasterWithBackup(r1 top: String, metricsPort: Int = 9464,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        try start(1, config: "metrics:\n  listen: 127.0.0.1:\(metricsPort)\n" + top + config(instanceYAML(priority: 150)))
        try start(2, config: config(instanceYAML(priority: 100)))
        expectSoleHolder(Lab.vip4, 1, sourceLocation: sourceLocation)
    }

    /// Scrapes router k's metrics endpoint from inside its namespace.
    func scrapeMetrics(_ k: Int, port: Int) -> String? {
        let r = shell("ip netns exec \(ns(k)) curl -s --max-time 3 http://127.0.0.1:\(port)/metrics", timeout: 10)
        return r.status == 0 ? r.output : nil
    }

    /// A second link `eth1` in router k's namespace (a veth whose peer `eth1p` stays there too):
    /// something to track.
    func addTrackedLink(_ k: Int) {
        shell("ip -n \(ns(k)) link add eth1 type veth peer name eth1p && ip -n \(ns(k)) link set eth1p up && ip -n \(ns(k)) link set eth1 up")
    }
}

/// A background ping and what it saw.
final class PingProbe {
    let process: Process
    let outputPath: String

    init(process: Process, outputPath: String) {
        self.process = process
        self.outputPath = outputPath
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Replies received so far.
    var replies: Int { output.components(separatedBy: "bytes from").count - 1 }

    /// Waits for ping to finish and parses its summary.
    func finish(timeout: TimeInterval = 30) -> PingResult? {
        guard waitUntil(timeout, every: 0.1, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return PingResult(output)
    }
}

struct PingResult: CustomStringConvertible {
    var transmitted: Int
    var received: Int
    /// Largest gap between consecutive replies, in ms (from `ping -D` timestamps).
    var maxGapMs: Double
    var summary: String

    init?(_ text: String) {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) else { return nil }
        let words = line.split(separator: " ")
        guard let t = words.firstIndex(of: "packets"), t > 0, let tx = Int(words[t - 1]),
              let r = words.firstIndex(where: { $0.hasPrefix("received") }), r > 0, let rx = Int(words[r - 1]) else { return nil }
        transmitted = tx
        received = rx
        summary = String(line)
        var stamps: [Double] = []
        for l in text.split(separator: "\n") where l.hasPrefix("[") && l.contains("bytes from") {
            if let close = l.firstIndex(of: "]"), let t = Double(l[l.index(after: l.startIndex)..<close]) { stamps.append(t) }
        }
        maxGapMs = zip(stamps, stamps.dropFirst()).map { ($1 - $0) * 1000 }.max() ?? 0
    }

    var description: String { "\(summary); largest gap \(String(format: "%.1f", maxGapMs)) ms" }
}

/// Every lab scenario suite is nested here, so that they run one at a time even when
/// `swift test` runs suites in parallel: `.serialized` applies to nested suites too. Two cores
/// and timing-based assertions: parallel labs would test the machine's load, not vipd.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct LabScenarios {}
