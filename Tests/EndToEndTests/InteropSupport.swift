// Support for the hostile-input and keepalived interop tests: the packet injector (inject.py), drop
// counters from `vipd status` and from /metrics, keepalived as a lab peer, and tshark captures.
// Same lab rules as LabSupport.swift: documentation addresses, processes killed by pid, bounded waits.

import Foundation
import Testing
import VIPDDaemon

enum InteropEnvironment {
    static var injectScript: String {
        LabEnvironment.packageRoot.appendingPathComponent("Tests/EndToEndTests/inject.py").path
    }
    static let keepalived = "/usr/sbin/keepalived"
    static let tshark = "/usr/bin/tshark"
    static var hasKeepalived: Bool { FileManager.default.isExecutableFile(atPath: keepalived) }
    static var hasTshark: Bool { FileManager.default.isExecutableFile(atPath: tshark) }
}

/// Quotes a string for /bin/sh.
func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

extension Lab {
    /// Runs inject.py in namespace `ns` (e.g. `client`) with `arguments`; fails the test if it fails.
    @discardableResult
    func inject(from ns: String, _ arguments: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let result = shell("ip netns exec \(ns) python3 \(InteropEnvironment.injectScript) \(arguments)", timeout: 20)
        #expect(result.status == 0, "inject.py \(arguments) failed: \(result.output)", sourceLocation: sourceLocation)
        return result.status == 0
    }

    /// The IPv6 link-local address of eth0 in namespace `ns`.
    func linkLocal(_ ns: String) -> String? {
        let out = shell("ip -n \(ns) -6 -o addr show dev eth0 scope link").output
        guard let field = out.split(separator: " ").first(where: { $0.hasPrefix("fe80:") }) else { return nil }
        return String(field.split(separator: "/")[0])
    }

    /// `/metrics` of the vipd in router k, scraped from inside its namespace.
    func scrapeMetrics(_ k: Int, port: Int) -> String {
        shell("ip netns exec \(ns(k)) curl -s --max-time 3 http://127.0.0.1:\(port)/metrics", timeout: 10).output
    }

    /// Drops counted before an instance was found (malformed, unknown VRID), per interface.
    func interfaceDrops(_ k: Int, _ label: String, interface: String = "eth0") -> Int {
        status(k)?.interfaces.first { $0.name == interface }?.drops[label] ?? 0
    }

    /// Drops counted by the virtual router (not a peer, auth mismatch, ...).
    func routerDrops(_ k: Int, _ name: String, _ label: String, family: String = "ipv4") -> Int {
        routerStatus(k, name, family: family)?.counters.drops[label] ?? 0
    }
}

/// One sample of a Prometheus text exposition: `name{labels} value`, nil when absent.
func metricValue(_ exposition: String, _ name: String, labels: [String: String]) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        let text = String(line)
        guard let space = text.lastIndex(of: " "), let value = Double(text[text.index(after: space)...]) else { continue }
        let head = text[..<space]
        let labelText: Substring
        if let open = head.firstIndex(of: "{"), let close = head.lastIndex(of: "}") {
            guard head[..<open] == name else { continue }
            labelText = head[head.index(after: open)..<close]
        } else {
            guard head == name else { continue }
            labelText = ""
        }
        var found: [String: String] = [:]
        // Label values in our metrics contain no commas or escaped quotes.
        for pair in labelText.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            found[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        if labels.allSatisfy({ found[$0.key] == $0.value }) { return value }
    }
    return nil
}

// MARK: keepalived as a lab peer

/// keepalived 2.2.7 running in a lab router namespace as a child process, logging to a file.
final class KeepalivedPeer {
    let lab: Lab
    let router: Int
    let dir: String
    private(set) var process: Process?
    /// Log lines already seen before the current start (restarts append to the same file).
    private var logOffset = 0

    init(lab: Lab, router: Int) {
        self.lab = lab
        self.router = router
        dir = "\(lab.workdir)/ka-r\(router)"
        shell("mkdir -p \(dir)")
    }

    var configPath: String { "\(dir)/keepalived.conf" }
    var logPath: String { "\(dir)/keepalived.log" }

    /// Everything keepalived logged since the last `start`.
    var log: String {
        let all = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return String(all.utf8.dropFirst(logOffset)) ?? all
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// keepalived's state from its log: the last "Entering X STATE" since the last start.
    var state: String? {
        let lines = log.split(separator: "\n").filter { $0.contains("Entering ") && $0.contains(" STATE") }
        guard let last = lines.last, let range = last.range(of: "Entering ") else { return nil }
        return last[range.upperBound...].split(separator: " ").first.map(String.init)
    }

    /// `checkFirst: false` for a config naming interfaces only the router's namespace has (`-t`
    /// checks in the host's namespace); keepalived then refuses a bad config at start instead.
    func start(config: String, checkFirst: Bool = true) throws {
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        if checkFirst {
            let check = shell("\(InteropEnvironment.keepalived) -t -f \(configPath)")
            try #require(check.status == 0, "keepalived refuses its config: \(check.output)\n\(config)")
        }
        if !FileManager.default.fileExists(atPath: logPath) {
            try #require(FileManager.default.createFile(atPath: logPath, contents: nil))
        }
        logOffset = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        handle.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", lab.ns(router), InteropEnvironment.keepalived, "-n", "-l", "-D",
                       "-f", configPath, "-p", "\(dir)/ka.pid", "-r", "\(dir)/ka-vrrp.pid", "-c", "\(dir)/ka-chk.pid"]
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        let piddir = shell("\(LabEnvironment.packageRoot.path)/scripts/lab piddir --tag \(lab.tag)").output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try? "\(p.processIdentifier)".write(toFile: "\(piddir)/keepalived-r\(router).pid", atomically: true, encoding: .utf8)
        // Running once its VRRP child has written its pid file (and registered it with the lab too).
        let up = waitUntil(10) { self.vrrpChildPid != nil || !p.isRunning }
        try #require(up && p.isRunning, "keepalived on r\(router) did not start:\n\(log)")
        if let child = vrrpChildPid {
            try? "\(child)".write(toFile: "\(piddir)/keepalived-vrrp-r\(router).pid", atomically: true, encoding: .utf8)
        }
    }

    private var vrrpChildPid: Int32? {
        guard let text = try? String(contentsOfFile: "\(dir)/ka-vrrp.pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    /// Sends `signal` to keepalived (SIGTERM: it advertises priority 0 and removes its addresses)
    /// and waits for it and its VRRP child to exit; SIGKILL for what is left after `timeout`.
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 10) {
        guard let p = process else { return }
        let child = vrrpChildPid
        if p.isRunning { kill(p.processIdentifier, signal) }
        if !waitUntil(timeout, { !p.isRunning && (child.map { kill($0, 0) != 0 } ?? true) }) {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            if let child { kill(child, SIGKILL) }
        }
        p.waitUntilExit()
        process = nil
    }
}

/// A keepalived vrrp_instance. `addresses` as keepalived writes them (`192.0.2.100/24`).
struct KeepalivedInstance {
    var name = "VI_1"
    var vrid = 51
    var priority: Int
    var version: Int? = 3
    /// keepalived's `advert_int` text: seconds, fractions allowed for v3.
    var advertInt = "1"
    var addresses = ["\(Lab.vip4)/24"]
    var authPass: String?
    var unicastSource: String?
    var unicastPeers: [String] = []
    var extra: [String] = []

    var text: String {
        var lines = [
            "vrrp_instance \(name) {", "    state BACKUP", "    interface eth0",
            "    virtual_router_id \(vrid)", "    priority \(priority)", "    advert_int \(advertInt)",
        ]
        if let version { lines.append("    version \(version)") }
        if let authPass {
            lines += ["    authentication {", "        auth_type PASS", "        auth_pass \(authPass)", "    }"]
        }
        if let unicastSource { lines.append("    unicast_src_ip \(unicastSource)") }
        if !unicastPeers.isEmpty {
            lines.append("    unicast_peer {")
            lines += unicastPeers.map { "        \($0)" }
            lines.append("    }")
        }
        lines += extra.map { "    \($0)" }
        lines.append("    virtual_ipaddress {")
        lines += addresses.map { "        \($0)" }
        lines += ["    }", "}"]
        return lines.joined(separator: "\n") + "\n"
    }
}

func keepalivedConfig(router: Int, _ instances: KeepalivedInstance...) -> String {
    // No scripts, no checkers: only VRRP. Its own router_id so logs say which node spoke.
    "global_defs {\n    router_id ka-r\(router)\n}\n\n" + instances.map(\.text).joined(separator: "\n")
}

// MARK: tshark

struct DissectedPacket {
    var source: String
    var version: Int
    var vrid: Int
    var checksumStatus: String
    var expertMessages: String
    var malformed: Bool
}

/// Starts capturing VRRP on the lab switch's bridge for `seconds` into `file` (tshark stops itself).
func captureVRRP(_ lab: Lab, seconds: Int, file: String) -> Process? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    p.arguments = ["netns", "exec", lab.switchNS, InteropEnvironment.tshark, "-q", "-i", "br0",
                   "-f", "ip proto 112 or ip6 proto 112", "-a", "duration:\(seconds)", "-w", file]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    return p
}

/// Dissects a capture; `preferences` are `-o name:value` settings.
func dissectVRRP(_ file: String, preferences: [String] = []) -> [DissectedPacket] {
    let prefs = preferences.map { "-o \(shellQuote($0))" }.joined(separator: " ")
    let fields = ["ip.src", "ipv6.src", "vrrp.version", "vrrp.virt_rtr_id", "vrrp.checksum.status", "_ws.expert.message",
                  "_ws.malformed"]
    let out = shell("\(InteropEnvironment.tshark) -r \(file) \(prefs) -Y vrrp -T fields -E separator=/t -E occurrence=a "
        + fields.map { "-e \($0)" }.joined(separator: " ") + " 2>/dev/null", timeout: 30).output
    return out.split(separator: "\n").compactMap { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 7 else { return nil }
        return DissectedPacket(source: f[0].isEmpty ? f[1] : f[0], version: Int(f[2]) ?? 0, vrid: Int(f[3]) ?? 0,
                               checksumStatus: f[4], expertMessages: f[5], malformed: !f[6].isEmpty)
    }
}
