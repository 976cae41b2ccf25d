import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Planned handovers lose nothing: the Master advertises priority 0 and keeps the VIP until it
    /// hears the new Master. A 1 ms ping from the client runs across the handover and must get every
    /// reply.
    @Suite
    struct HandoverTests {
        static let probes = 3000

        private func twoRouters() throws -> Lab {
            let lab = try Lab(routers: 2)
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            // The client's ARP entry exists before the probe starts, as for a client in service.
            #expect(lab.ping(Lab.vip4))
            return lab
        }

        /// Runs `action` while a 1 ms ping is in flight (after its first replies), returns the result.
        private func probeAcross(_ lab: Lab, _ action: () -> Void) throws -> PingResult? {
            let probe = try lab.startPing(Lab.vip4, count: Self.probes)
            #expect(waitUntil(10, every: 0.01) { probe.replies >= 200 }, "ping did not start: \(probe.output.prefix(500))")
            action()
            return probe.finish(timeout: 60)
        }

        @Test func sigtermOnTheMasterHandsOverWithoutLoss() throws {
            let lab = try twoRouters()
            defer { lab.teardown() }
            let result = try probeAcross(lab) {
                lab.signal(1, SIGTERM)
                #expect(waitUntil(10) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            }
            let r = try #require(result, "ping did not finish")
            #expect(r.received == Self.probes && r.transmitted == Self.probes, "lost probes: \(r)\n\(lab.logs())")
            #expect(lab.waitForExit(1, timeout: 10) == 0, "vipd on r1 did not exit cleanly")
            lab.expectSoleHolder(Lab.vip4, 2)
        }

        @Test func vipdHandoverLosesNothingHoldsAndCancelLetsTheOldMasterPreemptBack() throws {
            let lab = try twoRouters()
            defer { lab.teardown() }
            let result = try probeAcross(lab) {
                let out = lab.vipdCommand(1, "handover web")
                #expect(out.status == 0, "\(out.output)")
                #expect(waitUntil(10) { lab.state(2, "web") == "Master" && lab.state(1, "web") == "Backup" }, "\(lab.logs())")
            }
            let r = try #require(result, "ping did not finish")
            #expect(r.received == Self.probes && r.transmitted == Self.probes, "lost probes: \(r)\n\(lab.logs())")
            lab.expectSoleHolder(Lab.vip4, 2)
            // The hold: r1 (200) hears r2 (100) and must not preempt. Proving a non-event takes time:
            // a few advert intervals and Master_Down_Intervals.
            #expect(lab.routerStatus(1, "web")?.handoverHold == true)
            usleep(1_500_000)
            #expect(lab.masters("web") == [2])
            #expect(lab.holders(Lab.vip4) == [2])
            let cancel = lab.vipdCommand(1, "handover web --cancel")
            #expect(cancel.status == 0, "\(cancel.output)")
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.routerStatus(1, "web")?.handoverHold == false)
        }

        @Test func handoverHoldEndsByItself() throws {
            let lab = try twoRouters()
            defer { lab.teardown() }
            let out = lab.vipdCommand(1, "handover web --hold 2s")
            #expect(out.status == 0, "\(out.output)")
            #expect(waitUntil(10) { lab.masters("web") == [2] })
            lab.expectSoleHolder(Lab.vip4, 2)
            // After the 2 s hold r1 preempts again.
            lab.expectSoleHolder(Lab.vip4, 1, within: 10)
            #expect(waitUntil(5) { lab.masters("web") == [1] })
        }
    }
}
