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

        /// Unicast and a virtual MAC together (keepalived's `unicast_peer` with `use_vmac`): peers'
        /// adverts are addressed to the router's own address on eth0, so they arrive on eth0 and never
        /// on the macvlan. The two tests above have one or the other only; with a VRRP socket on the
        /// macvlan every router here heard no peer and all three were Master at once.
        @Test func unicastWithVirtualMACElectsOneMaster() throws {
            let lab = try Lab(routers: 3)
            defer { lab.teardown() }
            let vmac = "00:00:5e:00:01:33"
            func body(_ k: Int, _ priority: Int) -> String {
                let peers = (1...3).filter { $0 != k }.map { lab.routerAddress($0) }.joined(separator: ", ")
                return config(instanceYAML(priority: priority, addresses: ["\(Lab.vip4)/24"],
                                           extra: "virtual_mac: true\nunicast: { source: \(lab.routerAddress(k)), peers: [\(peers)] }"))
            }
            // The lowest first: it is Master alone until the others hear it and preempt it.
            for (k, priority) in [(3, 100), (2, 150), (1, 200)] { try lab.start(k, config: body(k, priority)) }
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" && lab.state(3, "web") == "Backup" },
                    "masters: \(lab.masters("web"))\n\(lab.logs())")
            // Each Backup names r1 once it has heard r1's advert (r3 may still name r2 for an interval).
            #expect(waitUntil(3) { (2...3).allSatisfy { lab.routerStatus($0, "web")?.master == lab.routerAddress(1) } },
                    "r2 and r3 name \((2...3).map { lab.routerStatus($0, "web")?.master ?? "nothing" }) as Master")
            #expect(lab.clientNeighborMAC(Lab.vip4) == vmac)
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(3, "web") == "Backup" }, "masters: \(lab.masters("web"))")
            #expect(lab.clientNeighborMAC(Lab.vip4) == vmac)
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" && lab.state(3, "web") == "Backup" },
                    "masters: \(lab.masters("web"))\n\(lab.logs())")
        }

        /// A host with `net.ipv4.conf.all.rp_filter=1` (strict): the kernel would filter the VMAC with
        /// the larger of `all` and its own 0, drop the client's ARP and pings to the VIP (checked by
        /// hand: 100 % loss, neighbour INCOMPLETE). vipd moves `all`'s value onto `default` and the
        /// interfaces, clears `all`, and puts everything back on exit, as keepalived does; so are the
        /// parent's accept_local and ARP settings (vipd's sysctl journal).
        @Test func virtualMACWorksOnAHostWithStrictReversePathFiltering() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            func sysctl(_ k: Int, _ name: String, _ key: String) -> String {
                shell("ip netns exec \(lab.ns(k)) cat /proc/sys/net/ipv4/conf/\(name)/\(key)")
                    .output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func rpFilter(_ k: Int, _ name: String) -> String { sysctl(k, name, "rp_filter") }
            // Every other sysctl vipd changes on the parent (accept_local for an owner's return,
            // the VMAC's ARP settings): what they are before, to compare with after the exit.
            let parentKeys = ["accept_local", "arp_ignore", "arp_filter", "arp_announce"]
            for k in 1...2 {
                shell("ip netns exec \(lab.ns(k)) sysctl -qw net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.all.rp_filter=1")
                #expect(rpFilter(k, "all") == "1")
            }
            let parentBefore = parentKeys.map { sysctl(1, "eth0", $0) }
            #expect(parentBefore == ["0", "0", "0", "0"])
            try lab.start(1, config: config(instanceYAML(priority: 200, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true")))
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true")))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(lab.ping(Lab.vip4), "VIP unreachable through the VMAC\n\(lab.logs())")
            for k in 1...2 {
                #expect([rpFilter(k, "all"), rpFilter(k, "default"), rpFilter(k, "eth0"), rpFilter(k, "vrrp.51")] == ["0", "1", "1", "0"])
                #expect(lab.log(k).contains("net.ipv4.conf.all.rp_filter was 1"))
                #expect(parentKeys.map { sysctl(k, "eth0", $0) } == ["1", "1", "1", "2"])
            }
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(lab.ping(Lab.vip4), "VIP unreachable through r2's VMAC\n\(lab.logs())")
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip4, 1)
            lab.signal(1, SIGTERM)
            #expect(lab.waitForExit(1, timeout: 10) == 0, "vipd on r1 did not exit cleanly\n\(lab.logs())")
            #expect([rpFilter(1, "all"), rpFilter(1, "default"), rpFilter(1, "eth0")] == ["1", "0", "0"])
            #expect(parentKeys.map { sysctl(1, "eth0", $0) } == parentBefore, "sysctls vipd changed on eth0 not restored")
        }
    }
}
