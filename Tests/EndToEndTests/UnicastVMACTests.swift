import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Unicast advertisements where multicast does not pass, and the RFC's virtual MAC.
    @Suite
    struct UnicastVMACTests {
        @Test func unicastWorksWithMulticastBlockedOnTheSwitch() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            // Multicast is blocked by the bridge itself (`mcast_flood off` on every port): this
            // kernel has neither netem nor tc classifiers nor ebtables, and the bridge's own flag is
            // what a switch without multicast forwarding does.
            lab.blockMulticast()
            // Two instances per router: "web" in unicast mode, and "control" in multicast mode, which
            // shows the block works (with no advertisements passing both routers become its Master).
            func body(_ k: Int, _ priority: Int) -> String {
                let peer = lab.routerAddress(3 - k)
                return config(
                    instanceYAML(priority: priority, extra: "unicast: { source: \(lab.routerAddress(k)), peers: [\(peer)] }"),
                    instanceYAML(name: "control", vrid: 52, priority: priority, addresses: ["192.0.2.101"]))
            }
            try lab.start(1, config: body(1, 200))
            try lab.start(2, config: body(2, 100))
            #expect(waitUntil(10) { lab.masters("control") == [1, 2] }, "multicast is not blocked\n\(lab.logs())")
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.routerStatus(2, "web")?.master == lab.routerAddress(1))
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] })
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
        }

        @Test func virtualMACIsWhatTheClientSeesAndItStaysAcrossFailover() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let vmac = "00:00:5e:00:01:33"   // RFC 9568 §7.3: 00-00-5E-00-01-{VRID}, VRID 51 = 0x33
            try lab.start(1, config: config(instanceYAML(priority: 200, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true")))
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true")))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] })
            #expect(lab.ping(Lab.vip4))
            #expect(lab.clientNeighborMAC(Lab.vip4) == vmac)
            #expect(lab.arpingMACs(Lab.vip4) == [vmac])
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] })
            #expect(lab.clientNeighborMAC(Lab.vip4) == vmac)
            #expect(lab.arpingMACs(Lab.vip4) == [vmac])
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(lab.clientNeighborMAC(Lab.vip4) == vmac)
        }
    }
}
