// Support for the routed-mode scenarios (RoutedLabTests.swift): `scripts/lab up --routed` builds an
// upstream router and N vipd nodes, each on its own /30 with its own FRR (zebra, bgpd, bfdd started by
// pid); the client sits behind the upstream. vipd runs in the node namespaces with `announce: route`,
// FRR redistributes the host addresses vipd puts on `lo`, and the tests read the upstream's kernel
// routes to see which node the traffic goes to. Follows shared/guides/lab.md like LabSupport.swift.

import Foundation
import Testing
import VIPDDaemon

final class RoutedLab {
    nonisolated(unsafe) private static var counter = 0
    let tag: String
    let nodes: Int
    let workdir: String
    private let script = LabEnvironment.packageRoot.appendingPathComponent("scripts/lab").path
    private var vipds: [Int: Process] = [:]
    private var others: [Process] = []

    static let vip4 = "203.0.113.10"
    static let vip6 = "2001:db8:ff::10"
    static let anycast4 = "203.0.113.200"
    static let anycast6 = "2001:db8:ff:a::200"

    /// Builds the lab and waits (inside scripts/lab) until every BGP session is Established.
    init(nodes: Int = 2, bfdIntervalMs: Int = 100) throws {
        try #require(LabEnvironment.isRoot, "routed lab tests need root (run `sudo scripts/test`)")
        try #require(FileManager.default.isExecutableFile(atPath: LabEnvironment.vipdBinary),
                     "vipd binary not built at \(LabEnvironment.vipdBinary)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/lib/frr/bgpd"),
                     "FRR is not installed (scripts/deps installs it)")
        RoutedLab.counter += 1
        // "f", the pid's low 16 bits in hex, "x", the counter in base 36: ≤ 8 characters for the
        // first 36 labs of a process, and no other lab's tag starts with "f<hex>x".
        tag = "f\(String(getpid() & 0xFFFF, radix: 16))x\(String(RoutedLab.counter, radix: 36))"
        self.nodes = nodes
        workdir = "/tmp/vipd-routed-\(tag)"
        shell("rm -rf \(workdir); mkdir -p \(workdir)")
        let up = RoutedLab.spawnAndWait("\(script) up --routed --tag \(tag) --routers \(nodes) --bfd-interval \(bfdIntervalMs)",
                                        files: "\(workdir)/lab-up", timeout: 120)
        if up.status != 0 { teardown() }
        try #require(up.status == 0, "routed lab up failed: \(up.output)")
    }

    deinit { teardown() }

    /// Runs `command` with /bin/sh, its output and exit status in `files`.out/.rc, and waits for the
    /// status file. Not through Foundation's Process: `lab up` starts daemons (FRR) that detach, and
    /// a Process whose shell had done so was never seen to exit (the shell stayed a zombie and
    /// waitUntilExit never returned), so the test hung.
    static func spawnAndWait(_ command: String, files: String, timeout: TimeInterval) -> CommandResult {
        let (out, rc) = ("\(files).out", "\(files).rc")
        let script = "(\(command)) </dev/null >\(out) 2>&1; echo $? >\(rc).tmp; mv \(rc).tmp \(rc)"
        let words: [String] = ["/bin/sh", "-c", script]
        var arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &arguments, environ)
        guard spawned == 0 else { return CommandResult(status: -1, output: "posix_spawn failed: \(spawned)") }
        let finished = waitUntil(timeout, every: 0.05) { FileManager.default.fileExists(atPath: rc) }
        var status: Int32 = 0
        _ = waitpid(pid, &status, finished ? 0 : WNOHANG)   // reap it (ECHILD if already reaped)
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let code = (try? String(contentsOfFile: rc, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return CommandResult(status: finished ? (code ?? -1) : -1, output: finished ? output : "timed out after \(timeout) s: \(output)")
    }

    /// Kills what the test started (by pid), then `scripts/lab down` stops FRR (by pid) and deletes
    /// the namespaces.
    func teardown() {
        let started = others + vipds.values
        (others, vipds) = ([], [:])
        started.filter(\.isRunning).forEach { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() }
        shell("\(script) down --tag \(tag)")
        if ProcessInfo.processInfo.environment["VIPD_E2E_KEEP"] == nil { shell("rm -rf \(workdir)") }
    }

    func node(_ k: Int) -> String { "\(tag)-r\(k)" }
    var upstream: String { "\(tag)-u" }
    var client: String { "\(tag)-c" }
    var switchNS: String { "\(tag)-sw" }
    /// Node k's address on its /30 to the upstream (198.51.100.2, .6, .10, …) and IPv6 equivalent.
    func address4(_ k: Int) -> String { "198.51.100.\(4 * k - 2)" }
    func address6(_ k: Int) -> String { "2001:db8:0:\(k)::2" }
    /// Node k's files in the work directory: `sock` (control socket), `yaml`, `log`.
    func file(_ k: Int, _ suffix: String) -> String { "\(workdir)/r\(k).\(suffix)" }

    // MARK: vipd on the nodes

    /// Starts a process inside `ns` with its output appended to `logPath`; the lab kills it.
    private func spawn(_ ns: String, _ arguments: [String], log logPath: String) throws -> Process {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        output.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns] + arguments
        (process.standardOutput, process.standardError) = (output, output)
        try process.run()
        let piddir = "/run/vipd-lab/\(tag)"
        try? "\(process.processIdentifier)".write(toFile: "\(piddir)/p\(process.processIdentifier).pid",
                                                   atomically: true, encoding: .utf8)
        return process
    }

    /// Writes node k's config (control socket and node name added) and starts vipd with it.
    func startVipd(_ k: Int, instances: String...) throws {
        let yaml = "control_socket: \(file(k, "sock"))\nnode: r\(k)\ninstances:\n" + instances.joined()
        try yaml.write(toFile: file(k, "yaml"), atomically: true, encoding: .utf8)
        try relaunch(k)
    }

    /// Starts vipd on node k with the config file it has (after a crash: the restart).
    func relaunch(_ k: Int) throws {
        if let old = vipds[k], old.isRunning { kill(old.processIdentifier, SIGKILL); old.waitUntilExit() }
        let process = try spawn(node(k), [LabEnvironment.vipdBinary, "run", "--config", file(k, "yaml")], log: file(k, "log"))
        vipds[k] = process
        let answered = waitUntil(10) { status(k) != nil || !process.isRunning }
        try #require(answered && process.isRunning, "vipd on r\(k) did not start: \(log(k))")
    }

    func signal(_ k: Int, _ sig: Int32) {
        if let p = vipds[k] { kill(p.processIdentifier, sig) }
    }

    /// SIGKILL: the daemon cannot clean up, its addresses stay on lo.
    func crash(_ k: Int) {
        guard let p = vipds[k] else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func exitStatus(_ k: Int, within timeout: TimeInterval) -> Int32? {
        guard let p = vipds[k], waitUntil(timeout, { !p.isRunning }) else { return nil }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func status(_ k: Int) -> DaemonStatus? {
        (try? ControlClient.send(ControlRequest(command: .status), to: file(k, "sock"), timeout: .seconds(2)))?.status
    }

    func state(_ k: Int, _ instance: String) -> String? {
        status(k)?.instances.first { $0.name == instance }?.routers.first?.state
    }

    func vipd(_ k: Int, _ args: String) -> CommandResult {
        shell("\(LabEnvironment.vipdBinary) \(args) --socket \(file(k, "sock"))")
    }

    func log(_ k: Int) -> String { (try? String(contentsOfFile: file(k, "log"), encoding: .utf8)) ?? "" }

    /// vipd's logs, the upstream's routes and BGP view: what a failing expectation prints.
    func diagnostics() -> String {
        let logs = (1...nodes).map { "--- r\($0) vipd log:\n" + String(log($0).suffix(2500)) }.joined(separator: "\n")
        return logs + "\n--- upstream:\n" + shell("\(script) status --tag \(tag)").output.suffix(3000)
    }

    // MARK: What the network does

    /// Whether node k has `address` on lo (where `announce: route` puts it).
    func onLoopback(_ k: Int, _ address: String) -> Bool {
        shell("ip -n \(node(k)) -o addr show dev lo").output.contains(" \(address)/")
    }

    func loopbackHolders(_ address: String) -> [Int] { (1...nodes).filter { onLoopback($0, address) } }

    /// The nodes the upstream's kernel route for `address` leads to (its interface eK faces node K;
    /// several with ECMP), [] when it has no route.
    func upstreamPaths(_ address: String) -> [Int] {
        let family = address.contains(":") ? "-6" : "-4"
        let out = shell("ip -n \(upstream) \(family) -o route show \(address)").output
        let words = out.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\\" })
        var paths: [Int] = []
        for (i, word) in words.enumerated() where word == "dev" && i + 1 < words.count {
            let device = words[i + 1]
            if device.hasPrefix("e"), let k = Int(device.dropFirst()), !paths.contains(k) { paths.append(k) }
        }
        return paths.sorted()
    }

    /// Runs vtysh commands against the FRR of `ns` (a node or the upstream).
    func vtysh(_ ns: String, _ commands: String...) -> String {
        let quoted = commands.map { "'\($0)'" }.joined(separator: " ")
        return shell("\(script) vtysh --tag \(tag) \(ns) \(quoted)").output
    }

    /// BGP paths the upstream has for `prefix` (best or not), as node numbers, from `show bgp … json`.
    func bgpPaths(_ prefix: String) -> [Int] {
        let afi = prefix.contains(":") ? "ipv6" : "ipv4"
        let json = vtysh(upstream, "show bgp \(afi) unicast \(prefix) json")
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let paths = object["paths"] as? [[String: Any]] else { return [] }
        return paths.compactMap { path -> Int? in
            guard let peer = (path["peer"] as? [String: Any])?["peerId"] as? String else { return nil }
            return (1...nodes).first { peer == address4($0) || peer == address6($0) }
        }.sorted()
    }

    /// BFD sessions in state "up" at the upstream.
    func bfdSessionsUp() -> Int {
        let json = vtysh(upstream, "show bfd peers json")
        guard let peers = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return 0 }
        return peers.filter { $0["status"] as? String == "up" }.count
    }

    func ping(_ address: String) -> Bool {
        shell("ip netns exec \(client) ping -c 1 -W 1 \(address)").status == 0
    }

    /// Waits until exactly node k holds `address` on lo, the upstream routes it to k alone, and the
    /// client reaches it.
    func expectServedBy(_ address: String, _ k: Int, within timeout: TimeInterval = 15,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let settled = waitUntil(timeout) { loopbackHolders(address) == [k] && upstreamPaths(address) == [k] }
        #expect(settled, "expected r\(k) alone to hold and be routed \(address); lo: \(loopbackHolders(address)), upstream: \(upstreamPaths(address))\n\(diagnostics())",
                sourceLocation: sourceLocation)
        #expect(waitUntil(5) { ping(address) }, "client cannot reach \(address)", sourceLocation: sourceLocation)
    }

    // MARK: Failure injection and probes

    /// Carrier loss on node k's link (the node sees it; the upstream's side stays up, so only BFD
    /// or the hold timer tell the upstream).
    func cutLink(_ k: Int) { shell("ip -n \(switchNS) link set p\(k) down") }
    func restoreLink(_ k: Int) { shell("ip -n \(switchNS) link set p\(k) up") }
    /// Carrier up, nothing passes (a hung host): the bridge port stops forwarding.
    func blackhole(_ k: Int) { shell("ip netns exec \(switchNS) bridge link set dev p\(k) state 0") }
    func unblackhole(_ k: Int) { shell("ip netns exec \(switchNS) bridge link set dev p\(k) state 3") }

    /// A partition between the nodes in which each still reaches the upstream: the upstream stops
    /// forwarding VRRP (IP protocol 112) between them. nftables in the upstream's namespace.
    func partitionNodes() -> CommandResult {
        shell("""
            ip netns exec \(upstream) nft -f - <<'EOF'
            table inet lab_partition {
              chain forward { type filter hook forward priority 0; meta l4proto 112 drop; }
            }
            EOF
            """)
    }

    func healPartition() { shell("ip netns exec \(upstream) nft delete table inet lab_partition") }

    /// A 1 ms ping from the client in the background (`ping -D` timestamps each reply).
    func startPing(_ address: String, count: Int, name: String) throws -> PingProbe {
        let path = "\(workdir)/\(name).out"
        let process = try spawn(client, ["ping", "-D", "-n", "-i", "0.001", "-W", "0.05", "-c", "\(count)", address], log: path)
        others.append(process)
        return PingProbe(process: process, outputPath: path)
    }

    /// Runs `action` while a 1 ms ping to `address` is in flight (after its first replies) and
    /// returns what the ping saw.
    func probeAcross(_ address: String, count: Int = 4000, name: String,
                     sourceLocation: SourceLocation = #_sourceLocation, _ action: () -> Void) throws -> PingResult {
        let probe = try startPing(address, count: count, name: name)
        #expect(waitUntil(10, every: 0.01) { probe.replies >= 200 }, "ping did not start: \(probe.output.prefix(300))",
                sourceLocation: sourceLocation)
        action()
        return try #require(probe.finish(timeout: 60), "ping to \(address) did not finish", sourceLocation: sourceLocation)
    }
}

/// A VRRP instance announced by route between nodes 1 and 2 of the routed lab: unicast across the
/// upstream (TTL below 255, so no TTL check), fast adverts.
func routedInstance(_ lab: RoutedLab, node k: Int, name: String = "api", vrid: Int = 60, priority: Int,
                    family: String = "ipv4", releaseDelay: String = "1s", extra: String = "") -> String {
    let peers = (1...lab.nodes).filter { $0 != k }
    let v6 = family == "ipv6"
    let source = v6 ? lab.address6(k) : lab.address4(k)
    let peerList = peers.map { "\"\(v6 ? lab.address6($0) : lab.address4($0))\"" }.joined(separator: ", ")
    var yaml = """
      - name: \(name)
        interface: eth0
        vrid: \(vrid)
        priority: \(priority)
        advert_interval: 100ms
        unicast: { source: "\(source)", peers: [\(peerList)], ttl_check: false }
        addresses: ["\(v6 ? RoutedLab.vip6 + "/128" : RoutedLab.vip4 + "/32")"]
        announce: route
        route: { device: lo, release_delay: \(releaseDelay) }

    """
    for line in extra.split(separator: "\n") { yaml += "    \(line)\n" }
    return yaml
}
