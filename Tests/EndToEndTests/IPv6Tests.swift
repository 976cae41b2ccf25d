import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// IPv6 virtual addresses (VRRPv3 over IPv6, RFC 9568) and dual-stack instances.
    @Suite
    struct IPv6Tests {
        static let vip6 = "\(Lab.vip6)/64"

        @Test func ipv6FailoverMovesTheVIPAndTheClientsNeighbourEntryFollows() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            try lab.start(1, config: config(instanceYAML(priority: 200, addresses: [Self.vip6])))
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: [Self.vip6])))
            lab.expectSoleHolder(Lab.vip6, 1)
            #expect(waitUntil(5) { lab.masters("web", family: "ipv6") == [1] && lab.state(2, "web", family: "ipv6") == "Backup" })
            // The client has a neighbour entry for the VIP: r1's MAC.
            #expect(lab.ping(Lab.vip6))
            #expect(lab.clientNeighborMAC6(Lab.vip6) == lab.mac(1))
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip6, 2)
            #expect(waitUntil(5) { lab.masters("web", family: "ipv6") == [2] })
            // The unsolicited NA updated the client's entry (not a new solicitation after it went stale:
            // the client's entry is checked right away, well within its reachable time).
            #expect(waitUntil(3) { lab.clientNeighborMAC6(Lab.vip6) == lab.mac(2) },
                    "client entry: \(String(describing: lab.clientNeighborMAC6(Lab.vip6))), r2: \(lab.mac(2))")
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip6, 1)
            #expect(waitUntil(3) { lab.clientNeighborMAC6(Lab.vip6) == lab.mac(1) })
        }

        @Test func dualStackInstanceMovesBothAddresses() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let both = ["\(Lab.vip4)/24", Self.vip6]
            try lab.start(1, config: config(instanceYAML(priority: 200, addresses: both)))
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: both)))
            lab.expectSoleHolder(Lab.vip4, 1)
            lab.expectSoleHolder(Lab.vip6, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.masters("web", family: "ipv6") == [1] })
            #expect(lab.status(1)?.instances.first?.state == "Master")
            lab.cutLink(1)
            lab.expectSoleHolder(Lab.vip4, 2)
            lab.expectSoleHolder(Lab.vip6, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.masters("web", family: "ipv6") == [2] })
            #expect(lab.status(2)?.instances.first?.state == "Master")
            lab.restoreLink(1)
            lab.expectSoleHolder(Lab.vip4, 1)
            lab.expectSoleHolder(Lab.vip6, 1)
        }
    }
}
