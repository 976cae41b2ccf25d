// Mixed groups with keepalived 2.2.7: vipd in r1, keepalived in r2, same VRID and addresses.
// For every wire flavour and both orders of priority: the higher priority holds the VIP alone and
// the client reaches it; stopping that Master hands the VIP to the other; restarting it preempts.
// Neither side may drop the other's adverts (vipd's drop counters, keepalived's log).

import Foundation
import Testing
import VIPDDaemon

struct InteropScenario: Sendable, CustomStringConvertible {
    var name: String
    var vip: String
    var family: String
    /// The vipd instance (priority filled in per order).
    var vipd: @Sendable (Int) -> String
    var keepalived: @Sendable (Int) -> KeepalivedInstance
    var description: String { name }

    static let vipdHigh = 200
    static let keepalivedHigh = 150
    static let low = 100

    static let all: [InteropScenario] = [
        InteropScenario(
            name: "VRRPv3 IPv4 multicast, 100 ms", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "100ms") },
            keepalived: { KeepalivedInstance(priority: $0, version: 3, advertInt: "0.1") }),
        InteropScenario(
            name: "VRRPv3 IPv4 multicast, 1 s", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "1s") },
            keepalived: { KeepalivedInstance(priority: $0, version: 3, advertInt: "1") }),
        InteropScenario(
            name: "VRRPv3 IPv6, 100 ms", vip: Lab.vip6, family: "ipv6",
            vipd: { instanceYAML(priority: $0, interval: "100ms", addresses: [Lab.vip6 + "/64"]) },
            keepalived: { KeepalivedInstance(priority: $0, version: 3, advertInt: "0.1", addresses: [Lab.vip6 + "/64"]) }),
        InteropScenario(
            name: "VRRPv2 without authentication, 1 s", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "1s", extra: "version: 2") },
            // keepalived's default version for IPv4 is 2: say nothing, as most configs do.
            keepalived: { KeepalivedInstance(priority: $0, version: nil, advertInt: "1") }),
        InteropScenario(
            name: "VRRPv2 with auth_type PASS, 1 s", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "1s", extra: "version: 2\nauth_pass: secret12") },
            keepalived: { KeepalivedInstance(priority: $0, version: nil, advertInt: "1", authPass: "secret12") }),
        InteropScenario(
            name: "VRRPv3 IPv4 unicast, 100 ms", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "100ms",
                                 extra: "unicast: { source: 192.0.2.11, peers: [192.0.2.12] }") },
            keepalived: { KeepalivedInstance(priority: $0, version: 3, advertInt: "0.1",
                                             unicastSource: "192.0.2.12", unicastPeers: ["192.0.2.11"]) }),
        InteropScenario(
            name: "VRRPv2 unicast with auth_type PASS, 1 s", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "1s",
                                 extra: "version: 2\nauth_pass: secret12\nunicast: { source: 192.0.2.11, peers: [192.0.2.12] }") },
            keepalived: { KeepalivedInstance(priority: $0, version: 2, advertInt: "1", authPass: "secret12",
                                             unicastSource: "192.0.2.12", unicastPeers: ["192.0.2.11"]) }),
        InteropScenario(
            // keepalived < 1.3.6 computed the v3 unicast IPv4 checksum over a pseudo-header with the
            // multicast group as destination; 2.2.7 keeps that form behind `old_unicast_checksum`.
            name: "VRRPv3 IPv4 unicast, keepalived old_unicast_checksum", vip: Lab.vip4, family: "ipv4",
            vipd: { instanceYAML(priority: $0, interval: "100ms",
                                 extra: "unicast: { source: 192.0.2.11, peers: [192.0.2.12] }") },
            keepalived: { KeepalivedInstance(priority: $0, version: 3, advertInt: "0.1", unicastSource: "192.0.2.12",
                                             unicastPeers: ["192.0.2.11"], extra: ["old_unicast_checksum"]) }),
    ]
}

extension InteropScenario {
    /// Flavours for the timer-driven failover (one per wire format, not every interval).
    static let timerFailover = all.filter {
        ["VRRPv3 IPv4 multicast, 100 ms", "VRRPv3 IPv6, 100 ms", "VRRPv2 with auth_type PASS, 1 s",
         "VRRPv3 IPv4 unicast, 100 ms", "VRRPv3 IPv4 unicast, keepalived old_unicast_checksum"].contains($0.name)
    }
}

/// Lines in keepalived's log that mean it refused or distrusted a packet of vipd's.
let keepalivedComplaints = ["Invalid", "invalid", "mismatch", "not present", "unexpected", "Expected", "not a unicast peer"]

func complaints(in log: String) -> [String] {
    log.split(separator: "\n").filter { line in keepalivedComplaints.contains { line.contains($0) } }.map(String.init)
}

/// Every drop vipd counted, by router and interface (empty when it used every packet it got).
func allDrops(_ lab: Lab, _ k: Int) -> [String: Int] {
    guard let status = lab.status(k) else { return [:] }
    var drops: [String: Int] = [:]
    for instance in status.instances {
        for router in instance.routers {
            for (label, n) in router.counters.drops { drops["\(instance.name)/\(router.family) \(label)", default: 0] += n }
        }
    }
    for interface in status.interfaces {
        for (label, n) in interface.drops { drops["\(interface.name) \(label)", default: 0] += n }
    }
    return drops
}

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct InteropTests {
    @Test(arguments: InteropScenario.all, [true, false])
    func mixedGroupElectsFailsOverAndPreempts(_ scenario: InteropScenario, vipdHigher: Bool) throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        let ka = KeepalivedPeer(lab: lab, router: 2)
        defer { ka.stop(); lab.teardown() }
        let vipdPriority = vipdHigher ? InteropScenario.vipdHigh : InteropScenario.low
        let kaPriority = vipdHigher ? InteropScenario.low : InteropScenario.keepalivedHigh
        let vipdConfig = config(scenario.vipd(vipdPriority))
        let kaConfig = keepalivedConfig(router: 2, scenario.keepalived(kaPriority))
        try ka.start(config: kaConfig)
        try lab.start(1, config: vipdConfig)
        let (high, low) = vipdHigher ? (1, 2) : (2, 1)
        let context = { "\(scenario), vipd \(vipdHigher ? "higher" : "lower")\n\(lab.logs())\n--- keepalived:\n\(String(ka.log.suffix(3000)))" }

        // Election: the higher priority holds the VIP alone; both agree on who is Master.
        lab.expectSoleHolder(scenario.vip, high, within: 15)
        let vipdState = vipdHigher ? "Master" : "Backup"
        let kaState = vipdHigher ? "BACKUP" : "MASTER"
        #expect(waitUntil(10) { lab.state(1, "web", family: scenario.family) == vipdState && ka.state == kaState },
                "vipd \(String(describing: lab.state(1, "web", family: scenario.family))), keepalived \(String(describing: ka.state))\n\(context())")
        // Both sides hear each other: vipd counts the peer's adverts and drops none of them.
        let received = lab.routerStatus(1, "web", family: scenario.family)?.counters.advertsReceived ?? 0
        #expect(waitUntil(5) { (lab.routerStatus(1, "web", family: scenario.family)?.counters.advertsReceived ?? 0) > received }
                || vipdHigher, "vipd (Backup) hears no adverts from keepalived\n\(context())")

        #expect(allDrops(lab, 1).isEmpty, "vipd dropped keepalived's packets: \(allDrops(lab, 1))\n\(context())")

        // Failover: stop the Master (SIGTERM: priority 0, then release) → the other takes over.
        if vipdHigher {
            lab.signal(1, SIGTERM)
            #expect(lab.waitForExit(1, timeout: 15) == 0, "vipd did not stop cleanly\n\(context())")
        } else {
            ka.stop(SIGTERM)
        }
        lab.expectSoleHolder(scenario.vip, low, within: 15)

        // Bring it back: it preempts.
        if vipdHigher { try lab.start(1, config: vipdConfig) } else { try ka.start(config: kaConfig) }
        lab.expectSoleHolder(scenario.vip, high, within: 15)
        #expect(waitUntil(10) { lab.state(1, "web", family: scenario.family) == vipdState && ka.state == kaState },
                "after preemption: vipd \(String(describing: lab.state(1, "web", family: scenario.family))), keepalived \(String(describing: ka.state))\n\(context())")

        #expect(allDrops(lab, 1).isEmpty, "vipd dropped keepalived's packets: \(allDrops(lab, 1))\n\(context())")
        let fullLog = (try? String(contentsOfFile: ka.logPath, encoding: .utf8)) ?? ""
        #expect(complaints(in: fullLog).isEmpty, "keepalived complained: \(complaints(in: fullLog))\n\(context())")
    }

    /// The Master is cut off with carrier up (bridge port blocked): only the peer's timers can see
    /// it, so the Backup must have learned the other implementation's advert interval. It takes
    /// over and the client reaches the VIP through it; when the link heals, the higher priority
    /// keeps or takes back the VIP and the other returns to Backup.
    @Test(arguments: InteropScenario.timerFailover, [true, false])
    func blackholedMasterIsDetectedByTheOthersTimers(_ scenario: InteropScenario, vipdHigher: Bool) throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        let ka = KeepalivedPeer(lab: lab, router: 2)
        defer { ka.stop(); lab.teardown() }
        try ka.start(config: keepalivedConfig(router: 2, scenario.keepalived(vipdHigher ? InteropScenario.low : InteropScenario.keepalivedHigh)))
        try lab.start(1, config: config(scenario.vipd(vipdHigher ? InteropScenario.vipdHigh : InteropScenario.low)))
        let (high, low) = vipdHigher ? (1, 2) : (2, 1)
        let context = { "\(scenario), vipd \(vipdHigher ? "higher" : "lower")\n\(lab.logs())\n--- keepalived:\n\(String(ka.log.suffix(3000)))" }
        let vipdIs = { (state: String) in lab.state(1, "web", family: scenario.family) == state }
        let kaIs = { (state: String) in ka.state == state.uppercased() }
        lab.expectSoleHolder(scenario.vip, high, within: 15)
        #expect(waitUntil(10) { vipdHigher ? vipdIs("Master") && kaIs("Backup") : vipdIs("Backup") && kaIs("Master") }, "\(context())")

        shell("ip netns exec \(lab.switchNS) bridge link set dev p\(high) state 0")
        let lowBecameMaster = waitUntil(15) { vipdHigher ? kaIs("Master") : vipdIs("Master") }
        #expect(lowBecameMaster, "the Backup did not detect the silent Master\n\(context())")
        #expect(waitUntil(10) { lab.holders(scenario.vip).contains(low) && lab.ping(scenario.vip) },
                "client cannot reach \(scenario.vip) through r\(low)\n\(context())")

        shell("ip netns exec \(lab.switchNS) bridge link set dev p\(high) state 3")
        lab.expectSoleHolder(scenario.vip, high, within: 15)
        #expect(waitUntil(10) { vipdHigher ? vipdIs("Master") && kaIs("Backup") : vipdIs("Backup") && kaIs("Master") },
                "after healing\n\(context())")
        #expect(allDrops(lab, 1).isEmpty, "vipd dropped keepalived's packets: \(allDrops(lab, 1))\n\(context())")
        let fullLog = (try? String(contentsOfFile: ka.logPath, encoding: .utf8)) ?? ""
        #expect(complaints(in: fullLog).isEmpty, "keepalived complained: \(complaints(in: fullLog))\n\(context())")
    }
}
