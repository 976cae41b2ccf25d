import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Partitions and a lossy, slow network.
    @Suite
    struct SplitBrainTests {
        @Test func splitBrainHealsToOneMasterAndTheClientFollowsWithinAnInterval() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            try lab.start(2, config: config(instanceYAML(priority: 150)))
            lab.expectSoleHolder(Lab.vip4, 1)
            // Partition r1 from everybody, both ways (carrier stays up): r2 takes over for the
            // client's side of the partition, r1 still believes it is Master. Two Masters.
            lab.blackhole(1)
            #expect(waitUntil(10) { lab.masters("web") == [1, 2] }, "\(lab.logs())")
            #expect(lab.holders(Lab.vip4) == [1, 2])
            #expect(waitUntil(5) { lab.ping(Lab.vip4) && lab.clientNeighborMAC(Lab.vip4) == lab.mac(2) },
                    "client entry \(String(describing: lab.clientNeighborMAC(Lab.vip4)))")
            let healed = Date()
            lab.unblackhole(1)
            // r1 (200) remains; r2 hears it and steps down, r1 hears r2 and re-announces. The
            // client's entry moves within one advert interval (100 ms) plus a margin for polling.
            let followed = waitUntil(3, every: 0.01) { lab.clientNeighborMAC(Lab.vip4) == lab.mac(1) }
            let took = Date().timeIntervalSince(healed)
            #expect(followed && took < 0.1 + 0.4, "client entry moved after \(took) s: \(String(describing: lab.clientNeighborMAC(Lab.vip4)))\n\(lab.logs())")
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
        }

        /// VIPD_E2E_NETEM_SECONDS (default 60, what the issue asks and CI runs).
        static let netemSeconds = Double(ProcessInfo.processInfo.environment["VIPD_E2E_NETEM_SECONDS"] ?? "") ?? 60

        /// Loss (20 %) and delay (5 ms ± 2 ms) on every port, towards the routers, at 100 ms adverts.
        ///
        /// A Backup declares the Master down after Master_Down_Interval = 3 × 100 ms + Skew_Time,
        /// i.e. when 3 advertisements in a row are lost: probability p³ = 0.8 % per advertisement at
        /// 20 %, about 4 brief takeovers per Backup per minute for any RFC 9568 implementation
        /// (keepalived included), more when delay jitter eats the Skew_Time margin (41 ms at
        /// priority 150). Those are the protocol's, not spurious. What must hold: the Master never
        /// changes state (a Backup's brief takeover is answered at once by the Master's higher
        /// priority and the Backup steps back), keeps the VIP throughout, and is the only holder
        /// at the end. The Backups' counts are printed.
        @Test func lossAndDelayNeverMoveTheMaster() throws {
            let lossPercent = 20
            let lab = try Lab(routers: 3)
            defer { lab.teardown() }
            for (k, p) in [(1, 200), (2, 150), (3, 100)] {
                try lab.start(k, config: config(instanceYAML(priority: p)))
            }
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" && lab.state(3, "web") == "Backup" })
            let before = (1...3).map { lab.transitions($0, "web") ?? -1 }
            var method = ""
            for k in 1...3 { method = try lab.impair(k, lossPercent: lossPercent, delayMs: 5, jitterMs: 2) }
            // Time must pass on purpose: the impairment runs for the whole window; the Master is
            // checked throughout.
            let end = Date().addingTimeInterval(Self.netemSeconds)
            var masterLost = 0
            while Date() < end {
                if lab.state(1, "web") != "Master" || !lab.holders(Lab.vip4).contains(1) { masterLost += 1 }
                usleep(500_000)
            }
            for k in 1...3 { lab.unimpair(k) }
            let after = (1...3).map { lab.transitions($0, "web") ?? -1 }
            let report = "loss \(lossPercent)%, \(method), \(Self.netemSeconds) s: transitions before \(before), after \(after)"
            print("netem scenario: \(report)")
            #expect(masterLost == 0, "r1 was not Master holding the VIP \(masterLost) times; \(report)")
            #expect(after[0] == before[0], "the Master changed state; \(report)\n\(lab.logs())")
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" && lab.state(3, "web") == "Backup" })
        }
    }
}
