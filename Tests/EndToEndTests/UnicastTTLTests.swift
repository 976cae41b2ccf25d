// Issue 11: unicast mode accepted any advertisement whose source was a listed peer, at any TTL, so
// anyone who could route protocol 112 to a node could force its Master down with a forged peer
// source. With `unicast.ttl_check` (on by default when every peer is on a connected subnet) such a
// packet, which crossed a router and so arrives with TTL < 255, is dropped as `bad_ttl`, counted in
// `vipd status` and vipd_packets_dropped_total, and changes nothing.

import Foundation
import Testing
import VIPDDaemon

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct UnicastTTLTests {
    static let metricsPort = 9652
    static let checkedVRID = 53, openVRID = 54, checked6VRID = 55
    static let checkedVIP = "192.0.2.102", openVIP = "192.0.2.103", checked6VIP = "2001:db8::105"

    /// r1 (192.0.2.11) and r2 (192.0.2.12) speak unicast on 192.0.2.0/24: `checked` leaves
    /// ttl_check unset (on: the peer is connected), `open` turns it off. `checked6` is IPv6 unicast
    /// with ttl_check unset; its peers are the other router and the client (2001:db8::200), which
    /// stands for a listed peer whose packets crossed a router.
    static func yaml(router k: Int, priority: Int) -> String {
        let other = k == 1 ? 2 : 1
        return "metrics: { listen: \"127.0.0.1:\(metricsPort)\" }\n" + config(
            instanceYAML(name: "checked", vrid: checkedVRID, priority: priority, addresses: [checkedVIP],
                         extra: "unicast: { source: 192.0.2.1\(k), peers: [192.0.2.1\(other)] }"),
            instanceYAML(name: "open", vrid: openVRID, priority: priority, addresses: [openVIP],
                         extra: "unicast: { source: 192.0.2.1\(k), peers: [192.0.2.1\(other)], ttl_check: false }"),
            instanceYAML(name: "checked6", vrid: checked6VRID, priority: priority, addresses: ["\(checked6VIP)/64"],
                         extra: "unicast: { source: \"2001:db8::1\(k)\", peers: [\"2001:db8::1\(other)\", \"2001:db8::200\"] }"))
    }

    /// A priority-254 advert forged from the client with r2's source address, sent to r1 (the Master).
    static func forged(vrid: Int, address: String, ttl: Int, repeats: Int) -> String {
        "--spoof --src 192.0.2.12 --dst 192.0.2.11 --vrid \(vrid) --priority 254 --addr \(address) --ttl \(ttl) --repeat \(repeats)"
    }

    @Test func forgedPeerAdvertWithTTLBelow255IsDroppedCountedAndIgnored() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: Self.yaml(router: 1, priority: 200))
        try lab.start(2, config: Self.yaml(router: 2, priority: 100))
        lab.expectSoleHolder(Self.checkedVIP, 1)
        lab.expectSoleHolder(Self.openVIP, 1)
        try #require(waitUntil(10) { lab.state(1, "checked") == "Master" && lab.state(2, "checked") == "Backup" },
                     "pair did not settle\n\(lab.logs())")

        let repeats = 3
        let transitions = lab.transitions(1, "checked") ?? 0
        let counted = lab.routerDrops(1, "checked", "bad_ttl")
        let labels = ["interface": "eth0", "reason": "bad_ttl"]
        let metric = metricValue(lab.scrapeMetrics(1, port: Self.metricsPort), "vipd_packets_dropped_total", labels: labels) ?? 0
        lab.inject(from: lab.client, Self.forged(vrid: Self.checkedVRID, address: Self.checkedVIP, ttl: 64, repeats: repeats))
        #expect(waitUntil(5) { lab.routerDrops(1, "checked", "bad_ttl") >= counted + repeats })
        #expect(lab.routerDrops(1, "checked", "bad_ttl") == counted + repeats,
                "status counters: \(String(describing: lab.routerStatus(1, "checked")?.counters.drops))\n\(lab.logs())")
        let metricAfter = metricValue(lab.scrapeMetrics(1, port: Self.metricsPort), "vipd_packets_dropped_total", labels: labels) ?? 0
        #expect(metricAfter - metric == Double(repeats), "vipd_packets_dropped_total{reason=\"bad_ttl\"} went \(metric) → \(metricAfter)")
        // A forged priority 254 that got through would make r1 step down at once.
        usleep(300_000)
        #expect(lab.transitions(1, "checked") == transitions, "r1 changed state\n\(lab.logs())")
        #expect(lab.holders(Self.checkedVIP) == [1])

        // The same forgery with ttl_check: false is heard: the check above is what protects.
        let openTransitions = lab.transitions(1, "open") ?? 0
        lab.inject(from: lab.client, Self.forged(vrid: Self.openVRID, address: Self.openVIP, ttl: 64, repeats: 1))
        #expect(waitUntil(5) { (lab.transitions(1, "open") ?? 0) > openTransitions },
                "with ttl_check: false a forged TTL-64 advert should make r1 step down\n\(lab.logs())")
        #expect(lab.routerDrops(1, "open", "bad_ttl") == 0)

        // And on the checked instance only TTL 255 gets through (the forgery itself works in this lab).
        lab.inject(from: lab.client, Self.forged(vrid: Self.checkedVRID, address: Self.checkedVIP, ttl: 255, repeats: 1))
        #expect(waitUntil(5) { (lab.transitions(1, "checked") ?? 0) > transitions },
                "a forged TTL-255 advert should make r1 step down\n\(lab.logs())")

        // IPv6: the routers' own unicast adverts arrive with hop limit 255 (the pair elected one
        // Master), a listed peer's with 64 is dropped and counted, with 255 it is heard.
        #expect(lab.state(1, "checked6", family: "ipv6") == "Master" && lab.state(2, "checked6", family: "ipv6") == "Backup")
        let transitions6 = lab.transitions(1, "checked6", family: "ipv6") ?? 0
        let fromClient = "--src 2001:db8::200 --dst 2001:db8::11 --vrid \(Self.checked6VRID) --priority 254 --addr \(Self.checked6VIP)"
        lab.inject(from: lab.client, "\(fromClient) --ttl 64 --repeat \(repeats)")
        #expect(waitUntil(5) { lab.routerDrops(1, "checked6", "bad_ttl", family: "ipv6") == repeats },
                "IPv6 drops: \(String(describing: lab.routerStatus(1, "checked6", family: "ipv6")?.counters.drops))")
        usleep(300_000)
        #expect(lab.transitions(1, "checked6", family: "ipv6") == transitions6)
        lab.inject(from: lab.client, "\(fromClient) --ttl 255 --repeat 1")
        #expect(waitUntil(5) { (lab.transitions(1, "checked6", family: "ipv6") ?? 0) > transitions6 },
                "an IPv6 hop-limit-255 advert from a listed peer should make r1 step down\n\(lab.logs())")
    }
}
