// Hostile and malformed VRRP input from the lab's client namespace (inject.py) towards a vipd pair:
// each violation of an RFC 9568 §7.1 / RFC 3768 §7.1 check is dropped, counted under the codec's
// label in `vipd status` (interface drops or the router's counters) and in
// vipd_packets_dropped_total, and changes nobody's state. Every injected advert carries priority
// 254, above both routers, so one that got through would make the Master step down.

import Foundation
import Testing
import VIPDDaemon

/// Where a drop is counted: before an instance is known (interface), or by a virtual router.
enum DropScope: Sendable {
    case interface
    case router(instance: String, family: String)
}

struct HostileCase: Sendable, CustomStringConvertible {
    var name: String
    /// Codec / DropReason label.
    var label: String
    var scope: DropScope
    /// inject.py arguments, with {src4} {src6} placeholders for the client's addresses.
    var arguments: String
    /// Routers that receive it (multicast: both; unicast: the one addressed).
    var receivers: [Int] = [1, 2]
    var description: String { "\(name) → \(label)" }
}

enum HostileLab {
    static let metricsPort = 9651
    static let webVRID = 51   // v3, IPv4 + IPv6, multicast, 100 ms
    static let dbVRID = 52    // v2, auth_pass secret12, 1 s
    static let uniVRID = 53   // v3 unicast between r1 and r2
    static let vipDB = "192.0.2.101"
    static let vipUni = "192.0.2.102"

    static func yaml(priority: Int, router k: Int) -> String {
        let other = k == 1 ? 2 : 1
        return "metrics: { listen: \"127.0.0.1:\(metricsPort)\" }\n" + config(
            instanceYAML(name: "web", vrid: webVRID, priority: priority, addresses: [Lab.vip4, Lab.vip6]),
            instanceYAML(name: "db", vrid: dbVRID, priority: priority, interval: "1s", addresses: [vipDB],
                         extra: "version: 2\nauth_pass: secret12"),
            instanceYAML(name: "uni", vrid: uniVRID, priority: priority, addresses: [vipUni],
                         extra: "unicast: { source: 192.0.2.1\(k), peers: [192.0.2.1\(other)] }"))
    }

    static let v4 = "--src {src4} --priority 254 --addr \(Lab.vip4)"
    static let v6 = "--src {src6} --priority 254 --addr \(Lab.vip6)"
    static let v2 = "--src {src4} --vrid \(dbVRID) --version 2 --interval 1 --priority 254 --addr \(vipDB)"

    static let cases: [HostileCase] = [
        HostileCase(name: "version 4", label: "bad_version", scope: .interface, arguments: "\(v4) --version 4"),
        HostileCase(name: "version 1", label: "bad_version", scope: .interface, arguments: "\(v4) --version 1"),
        HostileCase(name: "type 2", label: "bad_type", scope: .interface, arguments: "\(v4) --type 2"),
        HostileCase(name: "higher priority with TTL 254", label: "bad_ttl", scope: .interface, arguments: "\(v4) --ttl 254"),
        HostileCase(name: "TTL 1", label: "bad_ttl", scope: .interface, arguments: "\(v4) --ttl 1"),
        HostileCase(name: "bad checksum", label: "bad_checksum", scope: .interface, arguments: "\(v4) --checksum bad"),
        HostileCase(name: "count 2, one address", label: "length_mismatch", scope: .interface, arguments: "\(v4) --count 2"),
        HostileCase(name: "count 1, two addresses", label: "length_mismatch", scope: .interface,
                    arguments: "\(v4) --count 1 --addr 192.0.2.99"),
        HostileCase(name: "count 0", label: "no_addresses", scope: .interface, arguments: "\(v4) --count 0"),
        HostileCase(name: "interval 0", label: "zero_interval", scope: .interface, arguments: "\(v4) --interval 0"),
        HostileCase(name: "VRID 0", label: "bad_vrid", scope: .interface, arguments: "\(v4) --vrid 0"),
        HostileCase(name: "VRID nobody runs", label: "unknown_vrid", scope: .interface, arguments: "\(v4) --vrid 77"),
        HostileCase(name: "6 bytes", label: "truncated", scope: .interface, arguments: "\(v4) --truncate 6"),
        // Longer than the longest message plus an auth_hmac trailer (4116 bytes): 8 + 4 + 4200.
        HostileCase(name: "4 KiB (fragmented)", label: "oversize", scope: .interface, arguments: "\(v4) --pad 4200"),
        HostileCase(name: "v2 advert to a v3 router", label: "version_mismatch", scope: .router(instance: "web", family: "ipv4"),
                    arguments: "--src {src4} --version 2 --interval 1 --priority 254 --addr \(Lab.vip4)"),
        HostileCase(name: "unicast to a multicast router", label: "not_a_peer", scope: .router(instance: "web", family: "ipv4"),
                    arguments: "\(v4) --dst 192.0.2.11", receivers: [1]),
        // IPv6
        HostileCase(name: "v2 over IPv6", label: "bad_version", scope: .interface,
                    arguments: "\(v6) --version 2 --interval 1"),
        HostileCase(name: "IPv6 higher priority with hop limit 254", label: "bad_ttl", scope: .interface, arguments: "\(v6) --ttl 254"),
        HostileCase(name: "IPv6 bad checksum", label: "bad_checksum", scope: .interface, arguments: "\(v6) --checksum bad"),
        HostileCase(name: "IPv6 checksum without pseudo-header", label: "bad_checksum", scope: .interface,
                    arguments: "\(v6) --checksum plain"),
        HostileCase(name: "IPv6 count 2, one address", label: "length_mismatch", scope: .interface, arguments: "\(v6) --count 2"),
        HostileCase(name: "IPv6 4 KiB (fragmented)", label: "oversize", scope: .interface, arguments: "\(v6) --pad 4100"),
        // VRRPv2 with a password
        HostileCase(name: "v2 wrong password", label: "auth_mismatch", scope: .router(instance: "db", family: "ipv4"),
                    arguments: "\(v2) --auth wrongpw1"),
        HostileCase(name: "v2 no authentication", label: "auth_mismatch", scope: .router(instance: "db", family: "ipv4"),
                    arguments: v2),
        HostileCase(name: "v2 auth type 2 (AH)", label: "bad_auth_type", scope: .interface,
                    arguments: "\(v2) --auth secret12 --auth-type 2"),
        HostileCase(name: "v2 other interval", label: "interval_mismatch", scope: .router(instance: "db", family: "ipv4"),
                    arguments: "--src {src4} --vrid \(dbVRID) --version 2 --interval 3 --priority 254 --addr \(vipDB) --auth secret12"),
        HostileCase(name: "v2 bad checksum", label: "bad_checksum", scope: .interface, arguments: "\(v2) --auth secret12 --checksum bad"),
        // Unicast
        HostileCase(name: "unicast from a non-peer", label: "not_a_peer", scope: .router(instance: "uni", family: "ipv4"),
                    arguments: "--src {src4} --vrid \(uniVRID) --priority 254 --addr \(vipUni) --dst 192.0.2.12", receivers: [2]),
        HostileCase(name: "multicast to a unicast router from a non-peer", label: "not_a_peer",
                    scope: .router(instance: "uni", family: "ipv4"),
                    arguments: "--src {src4} --vrid \(uniVRID) --priority 254 --addr \(vipUni)"),
    ]
}

/// The Master/Backup picture that hostile input must leave alone.
struct ElectionSnapshot: Equatable, CustomStringConvertible {
    /// "rK instance/family" → (state, transitions)
    var routers: [String: String]
    var description: String { routers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }

    init(_ lab: Lab) {
        var routers: [String: String] = [:]
        for k in 1...2 {
            for instance in lab.status(k)?.instances ?? [] {
                for r in instance.routers {
                    routers["r\(k) \(instance.name)/\(r.family)"] = "\(r.state) t\(r.counters.transitions)"
                }
            }
        }
        self.routers = routers
    }
}

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct HostileInputTests {
    static let repeats = 3

    @Test func everyMalformedOrForeignAdvertIsDroppedCountedAndIgnored() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: HostileLab.yaml(priority: 200, router: 1))
        try lab.start(2, config: HostileLab.yaml(priority: 100, router: 2))
        lab.expectSoleHolder(Lab.vip4, 1)
        let settled = waitUntil(15) {
            let s = ElectionSnapshot(lab)
            return s.routers.count == 8 && s.routers.allSatisfy { $0.key.hasPrefix("r1") ? $0.value.hasPrefix("Master") : $0.value.hasPrefix("Backup") }
        }
        try #require(settled, "pair did not settle: \(ElectionSnapshot(lab))\n\(lab.logs())")
        let src6 = try #require(lab.linkLocal(lab.client))

        for hostile in HostileLab.cases {
            let before = ElectionSnapshot(lab)
            let counted = { (k: Int) -> Int in
                switch hostile.scope {
                case .interface: lab.interfaceDrops(k, hostile.label)
                case .router(let instance, let family): lab.routerDrops(k, instance, hostile.label, family: family)
                }
            }
            let statusBefore = [1: counted(1), 2: counted(2)]
            let metricBefore = [1, 2].map {
                metricValue(lab.scrapeMetrics($0, port: HostileLab.metricsPort), "vipd_packets_dropped_total",
                            labels: ["interface": "eth0", "reason": hostile.label]) ?? 0
            }
            let args = hostile.arguments.replacingOccurrences(of: "{src4}", with: "192.0.2.200")
                .replacingOccurrences(of: "{src6}", with: src6)
            lab.inject(from: lab.client, "\(args) --repeat \(Self.repeats)")

            for k in hostile.receivers {
                let expected = statusBefore[k]! + Self.repeats
                let seen = waitUntil(5) { counted(k) >= expected }
                #expect(seen && counted(k) == expected,
                        "\(hostile): r\(k) counted \(counted(k) - statusBefore[k]!) of \(Self.repeats) under \(hostile.label); status drops: \(String(describing: lab.status(k)?.interfaces)) \(String(describing: lab.status(k)?.instances.map { ($0.name, $0.routers.map(\.counters.drops)) }))")
                let metric = metricValue(lab.scrapeMetrics(k, port: HostileLab.metricsPort), "vipd_packets_dropped_total",
                                         labels: ["interface": "eth0", "reason": hostile.label]) ?? 0
                #expect(metric - metricBefore[k - 1] == Double(Self.repeats),
                        "\(hostile): r\(k) metric vipd_packets_dropped_total{reason=\"\(hostile.label)\"} went \(metricBefore[k - 1]) → \(metric)")
            }
            for k in [1, 2] where !hostile.receivers.contains(k) {
                #expect(counted(k) == statusBefore[k]!, "\(hostile): r\(k) was not addressed but counted it")
            }
            // Let a packet that wrongly got through act (a Master steps down at once on priority 254).
            usleep(300_000)
            let after = ElectionSnapshot(lab)
            #expect(after == before, "\(hostile) changed the election: \(before) → \(after)")
            #expect(lab.holders(Lab.vip4) == [1], "\(hostile): holders of \(Lab.vip4): \(lab.holders(Lab.vip4))")
        }

        // Control: the same advert, well formed, does move the Master (so the checks above can fail).
        let webBefore = lab.transitions(1, "web") ?? 0
        lab.inject(from: lab.client, "--src 192.0.2.200 --priority 254 --addr \(Lab.vip4) --repeat 1")
        #expect(waitUntil(5) { (lab.transitions(1, "web") ?? 0) > webBefore },
                "a valid priority-254 advert should make r1 step down\n\(lab.logs())")
        lab.expectSoleHolder(Lab.vip4, 1, within: 10)
    }
}
