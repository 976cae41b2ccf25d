import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Unplanned failures of the Master: each a different signal to the protocol (lab.md "Failure
    /// injections"). After settling exactly one router holds the VIP, it is the one `vipd status`
    /// calls Master, and the client reaches the VIP.
    @Suite
    struct FailoverTests {
        /// r1 (200) Master, r2 (150) and r3 (100) Backups.
        private func threeRouters(preempt: Bool = true) throws -> Lab {
            let lab = try Lab(routers: 3)
            for (k, p) in [(1, 200), (2, 150), (3, 100)] {
                try lab.start(k, config: config(instanceYAML(priority: p, extra: preempt ? "" : "preempt: false")))
            }
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] })
            return lab
        }

        @Test func blackholeWithCarrierUpFailsOverAndTheMasterWinsBackWhenHealed() throws {
            let lab = try threeRouters()
            defer { lab.teardown() }
            lab.blackhole(1)
            // r1 keeps its link and hears nobody: it stays Master (it cannot know). The others elect r2.
            #expect(waitUntil(10) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            #expect(lab.state(1, "web") == "Master")
            #expect(lab.state(3, "web") == "Backup")
            #expect(lab.ping(Lab.vip4, timeout: 2), "client cannot reach the VIP on the new Master")
            lab.unblackhole(1)
            // Healed: r2 hears the higher priority 200 and steps back; r1 remains.
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] })
        }

        @Test func sigkillOfTheMasterFailsOverToTheNextPriority() throws {
            let lab = try threeRouters()
            defer { lab.teardown() }
            lab.crash(1)
            // The VIP stays configured on r1's interface (nobody removed it), but r1 no longer answers
            // VRRP: r2 takes over. Only the live routers are checked here.
            #expect(waitUntil(10) { lab.masters("web") == [2] }, "\(lab.logs())")
            // r1's interface keeps the VIP (a dead process removes nothing); r2 took it too.
            #expect(waitUntil(5) { lab.holders(Lab.vip4) == [1, 2] })
            #expect(lab.state(3, "web") == "Backup")
            // The client follows r2's gratuitous ARP.
            #expect(waitUntil(5) { lab.ping(Lab.vip4) && lab.clientNeighborMAC(Lab.vip4) == lab.mac(2) })
        }

        @Test func sigstoppedMasterIsReplacedAndWinsBackAfterSigcontWithPreempt() throws {
            let lab = try threeRouters()
            defer { lab.teardown() }
            lab.signal(1, SIGSTOP)
            #expect(waitUntil(10) { lab.holders(Lab.vip4).contains(2) }, "\(lab.logs())")
            lab.signal(1, SIGCONT)
            // r1 wakes up as Master with stale timers; r2 hears 200 > 150 and yields. One holder.
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
        }

        @Test func sigstoppedMasterWithoutPreemptStillWinsAsAMasterMeetingALowerOne() throws {
            let lab = try threeRouters(preempt: false)
            defer { lab.teardown() }
            lab.signal(1, SIGSTOP)
            #expect(waitUntil(10) { lab.holders(Lab.vip4).contains(2) && lab.state(2, "web") == "Master" }, "\(lab.logs())")
            lab.signal(1, SIGCONT)
            // r1 never left Master in its own view: it resumes advertising 200. Preempt governs a
            // Backup only; two Masters meeting keep the higher priority (RFC 9568 §6.4.3, and
            // keepalived's nopreempt does the same). So r1 stays, r2 steps back: one holder.
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.clientNeighborMAC(Lab.vip4) == lab.mac(1))
        }

        /// The crashed Master restarts: the stale VIP it left behind is removed, it rejoins, and takes
        /// the VIP back only when it should.
        @Test(arguments: [true, false])
        func crashedMasterRestartsRemovesTheStaleVIPAndPreemptsOnlyIfConfigured(preempt: Bool) throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            try lab.start(1, config: config(instanceYAML(priority: 200, extra: preempt ? "" : "preempt: false")))
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            lab.crash(1)
            #expect(waitUntil(10) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            // The crash leaves the VIP on r1's eth0: two holders now, the situation the restart must fix.
            #expect(lab.holders(Lab.vip4) == [1, 2])
            try lab.restart(1)
            let expected = preempt ? 1 : 2
            lab.expectSoleHolder(Lab.vip4, expected)
            #expect(waitUntil(5) { lab.masters("web") == [expected] })
            if !preempt {
                // Proving a non-event: r1 must not take the VIP back over a few Master_Down_Intervals.
                usleep(1_500_000)
                #expect(lab.holders(Lab.vip4) == [2])
                #expect(lab.state(1, "web") == "Backup")
            }
            let expectedMAC = lab.mac(expected)
            #expect(lab.arpingMACs(Lab.vip4) == [expectedMAC], "only r\(expected) may answer ARP for the VIP")
        }

        @Test func vipRemovedBySomeoneElseIsRestoredAndCounted() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let vip = ["\(Lab.vip4)/24"]
            try lab.start(1, config: config(instanceYAML(priority: 200, addresses: vip)))
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: vip)))
            lab.expectSoleHolder(Lab.vip4, 1)
            let before = lab.routerStatus(1, "web")?.counters.addressesRestored ?? -1
            #expect(before == 0)
            let removed = Date()
            let del = shell("ip -n \(lab.ns(1)) addr del \(Lab.vip4)/24 dev eth0")
            #expect(del.status == 0, "\(del.output)")
            #expect(waitUntil(1, every: 0.01) { lab.holders(Lab.vip4) == [1] }, "VIP not restored within a second\n\(lab.logs())")
            #expect(Date().timeIntervalSince(removed) < 1.5)
            #expect(waitUntil(2) { lab.routerStatus(1, "web")?.counters.addressesRestored == 1 },
                    "addresses_restored: \(String(describing: lab.routerStatus(1, "web")?.counters.addressesRestored))\n\(lab.logs())")
            #expect(lab.state(1, "web") == "Master")
            #expect(lab.ping(Lab.vip4))
        }

        @Test func linkFlapOnTheMasterSettlesWithOneHolder() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            // Down and up in quick succession, a few times (a flapping cable), from r1's side.
            for _ in 0..<3 {
                shell("ip -n \(lab.ns(1)) link set eth0 down; ip -n \(lab.ns(1)) link set eth0 up")
            }
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
        }
    }
}
