import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Preemption: a higher-priority router joining a running virtual router.
    @Suite
    struct PreemptTests {
        /// r1 (100) alone is Master; the caller then starts r2.
        private func lowMasterRunning() throws -> Lab {
            let lab = try Lab(routers: 2)
            try lab.start(1, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] })
            return lab
        }

        @Test func higherPriorityRouterJoiningTakesOver() throws {
            let lab = try lowMasterRunning()
            defer { lab.teardown() }
            try lab.start(2, config: config(instanceYAML(priority: 200)))
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(1, "web") == "Backup" })
            #expect(lab.routerStatus(1, "web")?.master == lab.routerAddress(2))
        }

        @Test func preemptDelayHoldsTheTakeoverForTheDelay() throws {
            let lab = try lowMasterRunning()
            defer { lab.teardown() }
            let delay: TimeInterval = 3
            try lab.start(2, config: config(instanceYAML(priority: 200, extra: "preempt_delay: 3s")))
            let joined = Date()
            // Proving a non-event: r2 must stay Backup for (almost) the whole delay. Polled, so any
            // early takeover is seen.
            let early = waitUntil(delay - 0.5, every: 0.05) { lab.state(2, "web") == "Master" || lab.holders(Lab.vip4) != [1] }
            #expect(!early, "r2 took over \(Date().timeIntervalSince(joined)) s after joining, before preempt_delay")
            #expect(lab.state(2, "web") == "Backup")
            lab.expectSoleHolder(Lab.vip4, 2, within: 5)
            #expect(waitUntil(5) { lab.masters("web") == [2] })
            let took = Date().timeIntervalSince(joined)
            #expect(took >= delay - 0.5 && took < delay + 5, "took over after \(took) s")
            #expect(lab.routerStatus(2, "web")?.lastTransition?.reason.contains("preempt") == true,
                    "\(String(describing: lab.routerStatus(2, "web")?.lastTransition))")
        }

        @Test func preemptFalseLeavesTheLowerMasterInPlace() throws {
            let lab = try lowMasterRunning()
            defer { lab.teardown() }
            try lab.start(2, config: config(instanceYAML(priority: 200, extra: "preempt: false")))
            #expect(waitUntil(5) { lab.state(2, "web") == "Backup" && lab.routerStatus(2, "web")?.master == lab.routerAddress(1) })
            // Proving a non-event: no takeover across several Master_Down_Intervals.
            usleep(1_500_000)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(lab.masters("web") == [1])
            #expect(lab.transitions(2, "web") == 1, "r2 should have gone Initialize → Backup only")
        }

        /// keepalived users write `priority 255` for "this one is always Master": it starts as Master
        /// without waiting (RFC 9568 §6.4.1) and preempts whoever holds the VIP.
        @Test func priority255BecomesMasterAtOnceAndPreempts() throws {
            let lab = try lowMasterRunning()
            defer { lab.teardown() }
            try lab.start(2, config: config(instanceYAML(priority: 255)))
            // At once: Initialize → Master directly, never Backup.
            let s = try #require(lab.routerStatus(2, "web"))
            #expect(s.state == "Master" && s.counters.transitions == 1, "\(s)")
            #expect(s.lastTransition?.from == "Initialize")
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(1, "web") == "Backup" })
            #expect(lab.routerStatus(1, "web")?.masterPriority == 255)
        }

        /// The RFC's address owner: the VIP is the owner's own interface address (192.0.2.11 on r1).
        /// r1 is Master at once; when it fails r2 serves r1's address; when it returns it takes it back.
        @Test func addressOwnerWithTheVIPAsItsRealAddress() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let owned = lab.routerAddress(1)
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: ["\(owned)/24"])))
            try lab.start(1, config: config(instanceYAML(priority: 255, addresses: ["\(owned)/24"])))
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" }, "\(lab.logs())")
            lab.expectSoleHolder(owned, 1)
            #expect(lab.routerStatus(2, "web")?.master == owned)
            lab.cutLink(1)
            lab.expectSoleHolder(owned, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] })
            lab.restoreLink(1)
            lab.expectSoleHolder(owned, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.arpingMACs(owned) == [lab.mac(1)])
        }
    }
}
