import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// `announce: route` without a routing daemon (the FRR lab is docs/routed.md's): the Master puts
    /// the VIP on `lo` as a host address and sends no ARP, the Backup holds nothing, a crash leftover
    /// is removed by the restarted daemon, and SIGTERM leaves nothing on `lo`; a planned handover's
    /// second release phase holds a local route, which goes after release_delay (or at restart).
    @Suite
    struct RoutedAddressTests {
        static let vip = "203.0.113.10"
        static let vip6 = "2001:db8:1::10"

        /// r1 (200) and r2 (150), both `preempt: false` so a restarted r1 stays Backup. r1 starts
        /// first and is Master.
        private func routedPair(releaseDelay: String = "300ms") throws -> Lab {
            let lab = try Lab(routers: 2)
            for (k, p) in [(1, 200), (2, 150)] {
                try lab.start(k, config: config(instanceYAML(
                    priority: p, addresses: ["\(Self.vip)/32", "\(Self.vip6)/128"],
                    extra: "preempt: false\nannounce: route\nroute: { device: lo, release_delay: \(releaseDelay) }")))
                if k == 1 { #expect(waitUntil(10) { lab.state(1, "web") == "Master" }, "\(lab.logs())") }
            }
            #expect(waitUntil(10) { lab.state(2, "web") == "Backup" && lab.state(2, "web", family: "ipv6") == "Backup" }, "\(lab.logs())")
            return lab
        }

        /// Where router k has `address`: "lo", "eth0", ... (from `ip -o addr`), with its prefix.
        private func placements(_ lab: Lab, _ k: Int, _ address: String) -> [String] {
            shell("ip -n \(lab.ns(k)) -o addr show").output.split(separator: "\n").compactMap { line in
                let words = line.split(separator: " ")
                guard words.count > 3, words[3].hasPrefix("\(address)/") else { return nil }
                return "\(words[1]) \(words[3])"
            }
        }

        /// vipd's local routes on router k's `lo` (protocol 98 in table local), one address a line.
        private func localRoutes(_ lab: Lab, _ k: Int) -> [String] {
            ["-4", "-6"].flatMap { family in
                shell("ip -n \(lab.ns(k)) \(family) route show table local proto 98").output
                    .split(separator: "\n").map { String($0) }
            }
        }

        private func hasLocalRoutes(_ lab: Lab, _ k: Int) -> Bool {
            let routes = localRoutes(lab, k)
            return routes.contains { $0.hasPrefix("local \(Self.vip) dev lo") } && routes.contains { $0.hasPrefix("local \(Self.vip6) dev lo") }
        }

        /// The two release phases of a planned handover: the address goes once the new Master is
        /// heard and release_delay has passed; a local route of ours keeps the VIP accepted for
        /// another release_delay (it survives the removal of the address's own local route), then goes.
        @Test func aPlannedHandoverKeepsALocalRouteForAnotherReleaseDelay() throws {
            let lab = try routedPair(releaseDelay: "1s")
            defer { lab.teardown() }
            #expect(localRoutes(lab, 1).isEmpty)
            let out = lab.vipdCommand(1, "handover web")
            #expect(out.status == 0, "\(out.output)")
            #expect(waitUntil(10) { placements(lab, 1, Self.vip).isEmpty && placements(lab, 1, Self.vip6).isEmpty }, "\(lab.logs())")
            #expect(hasLocalRoutes(lab, 1), "phase 2 without local routes: \(localRoutes(lab, 1))")
            // The kernel still delivers the VIP locally there (the address is gone).
            #expect(shell("ip -n \(lab.ns(1)) route get \(Self.vip)").output.hasPrefix("local \(Self.vip) dev lo"))
            #expect(waitUntil(5) { localRoutes(lab, 1).isEmpty }, "\(localRoutes(lab, 1))")
            #expect(lab.holders(Self.vip) == [2] && lab.state(1, "web") == "Backup", "\(lab.logs())")
        }

        /// A daemon killed during the second phase leaves its local routes; restarted, it removes them.
        @Test func aKilledMastersLeftoverLocalRoutesAreRemovedWhenItRestarts() throws {
            let lab = try routedPair(releaseDelay: "3s")
            defer { lab.teardown() }
            #expect(lab.vipdCommand(1, "handover web").status == 0)
            #expect(waitUntil(10) { placements(lab, 1, Self.vip).isEmpty && hasLocalRoutes(lab, 1) }, "\(localRoutes(lab, 1))\n\(lab.logs())")
            lab.crash(1)
            #expect(hasLocalRoutes(lab, 1))
            try lab.restart(1)
            #expect(waitUntil(10) { lab.state(1, "web") == "Backup" }, "\(lab.logs())")
            #expect(localRoutes(lab, 1).isEmpty, "\(localRoutes(lab, 1))")
        }

        @Test func theMasterHoldsAHostAddressOnLoWithoutARPAndTheBackupNothing() throws {
            let lab = try routedPair()
            defer { lab.teardown() }
            #expect(waitUntil(5) { placements(lab, 1, Self.vip) == ["lo \(Self.vip)/32"] }, "\(placements(lab, 1, Self.vip))")
            #expect(placements(lab, 2, Self.vip).isEmpty)
            // IPv6 the same: a /128 on lo, elected over eth0's link-local addresses.
            #expect(waitUntil(5) { placements(lab, 1, Self.vip6) == ["lo \(Self.vip6)/128"] }, "\(placements(lab, 1, Self.vip6))")
            #expect(placements(lab, 2, Self.vip6).isEmpty)
            for family in ["ipv4", "ipv6"] {
                let master = try #require(lab.routerStatus(1, "web", family: family))
                #expect(master.holdsAddresses && master.counters.announcements == 0)
            }
            // Scope global, so that a routing daemon's `redistribute connected` takes it.
            #expect(shell("ip -n \(lab.ns(1)) -o addr show dev lo").output.contains("\(Self.vip)/32 scope global"))
        }

        @Test func aKilledMastersLeftoverOnLoIsRemovedWhenItRestarts() throws {
            let lab = try routedPair()
            defer { lab.teardown() }
            #expect(waitUntil(5) { lab.holders(Self.vip) == [1] })
            lab.crash(1)
            #expect(waitUntil(10) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            // A dead process removes nothing: both have it on lo now.
            #expect(waitUntil(5) { lab.holders(Self.vip) == [1, 2] })
            #expect(placements(lab, 1, Self.vip) == ["lo \(Self.vip)/32"])
            try lab.restart(1)
            // The restarted daemon removes the leftover and stays Backup (preempt: false).
            #expect(waitUntil(10) { lab.state(1, "web") == "Backup" && lab.holders(Self.vip) == [2] }, "\(lab.logs())")
            #expect(waitUntil(5) { lab.holders(Self.vip6) == [2] }, "\(lab.logs())")
        }

        @Test func sigtermHandsOverAndLeavesNothingOnLo() throws {
            let lab = try routedPair()
            defer { lab.teardown() }
            lab.signal(1, SIGTERM)
            #expect(lab.waitForExit(1, timeout: 10) == 0, "\(lab.logs())")
            #expect(placements(lab, 1, Self.vip).isEmpty && placements(lab, 1, Self.vip6).isEmpty)
            // Both release phases ran before the exit, and the second one's local routes went too.
            #expect(lab.log(1).contains("handover to") && localRoutes(lab, 1).isEmpty, "\(localRoutes(lab, 1))")
            #expect(waitUntil(5) { lab.holders(Self.vip) == [2] && lab.state(2, "web") == "Master" }, "\(lab.logs())")
            #expect(lab.log(1).contains("handover to"), "r1 did not wait for the new Master: \(lab.log(1))")
            // The last one stops with nobody to hand over to: it withdraws too.
            lab.signal(2, SIGTERM)
            #expect(lab.waitForExit(2, timeout: 10) == 0, "\(lab.logs())")
            #expect(lab.holders(Self.vip).isEmpty && lab.holders(Self.vip6).isEmpty)
            #expect(localRoutes(lab, 2).isEmpty, "\(localRoutes(lab, 2))")
        }

        /// `election: none`: both routers hold the address while their track script passes; a
        /// failing one withdraws it there only; no VRRP is involved, so `vipd handover` refuses.
        @Test func anycastHoldsWhileTrackingPasses() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let healthy = { (k: Int) in "\(lab.workdir)/healthy-r\(k)" }
            for k in 1...2 {
                shell("touch \(healthy(k))")
                try lab.start(k, config: """
                    instances:
                      - name: anycast
                        interface: eth0
                        election: none
                        announce: route
                        addresses: ["\(Self.vip)/32"]
                        track:
                          scripts: [ { name: health, run: "/usr/bin/test -e \(healthy(k))", interval: 100ms, fall: 2, rise: 2 } ]

                    """)
            }
            #expect(waitUntil(10) { lab.holders(Self.vip) == [1, 2] }, "\(lab.logs())")
            #expect(lab.state(1, "anycast") == "Master" && lab.state(2, "anycast") == "Master")
            #expect(lab.routerStatus(1, "anycast")?.master == nil)
            let text = lab.vipdCommand(1, "status").output
            #expect(text.contains("anycast: Master  (eth0, election: none, announce: route on lo)") && !text.contains("priority"), "\(text)")
            #expect(lab.routerStatus(1, "anycast")?.counters.advertsSent == 0)
            shell("rm -f \(healthy(1))")
            #expect(waitUntil(10) { lab.holders(Self.vip) == [2] && lab.state(1, "anycast") == "Fault" }, "\(lab.logs())")
            shell("touch \(healthy(1))")
            #expect(waitUntil(10) { lab.holders(Self.vip) == [1, 2] && lab.state(1, "anycast") == "Master" }, "\(lab.logs())")
            let handover = lab.vipdCommand(1, "handover anycast")
            #expect(handover.status != 0 && handover.output.contains("election: none"), "\(handover.output)")
            lab.signal(1, SIGTERM)
            #expect(lab.waitForExit(1, timeout: 10) == 0, "\(lab.logs())")
            #expect(lab.holders(Self.vip) == [2])
            // Straight from Master to stopped: no FAULT for notify hooks to misread.
            #expect(lab.log(1).contains("anycast/ipv4: Master -> Initialize"), "\(lab.log(1))")
        }
    }
}
