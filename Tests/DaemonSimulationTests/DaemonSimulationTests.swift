import DaemonSimulation
import Testing

// Plain `import` (no @testable) so `swift test -c release` builds these tests too.

@Suite("Daemon simulation")
struct DaemonSimulationTests {
    /// Default seed count when VIPD_DAEMON_SIM_SEEDS is unset: small enough for a debug run.
    static let defaultSeeds = 200

    @Test("N real daemons over the fake plane keep the invariants (VIPD_DAEMON_SIM_SEED / _SEEDS / _SECONDS)")
    func randomSeeds() async {
        let request = DaemonSimulationRunner.request(defaultCount: Self.defaultSeeds)
        let report = await DaemonSimulationRunner.run(request)
        print(report.summary)
        if let failure = report.failure {
            Issue.record(Comment(rawValue: failure.description))
        }
        #expect(report.stats.seeds >= 1)
        if report.stats.seeds >= 100 {
            // The scenarios must actually do what they claim, or a green result means nothing.
            #expect(report.stats.settledChecks > 0)
            #expect(report.stats.crashes > 0)
            #expect(report.stats.stops > 0)
            #expect(report.stats.reloads > 0)
            #expect(report.stats.handovers > 0)
            #expect(report.stats.approvals > 0)
            #expect(report.stats.unicastInstances > 0)
            #expect(report.stats.virtualMACInstances > 0)
            #expect(report.stats.unicastVirtualMACInstances > 0)
            #expect(report.stats.hooks > 0)
            #expect(report.stats.coalescedHooks > 0)
            #expect(report.stats.starvations > 0)
            #expect(report.stats.withdrawnExpiries > 0)
            #expect(report.stats.routedInstances > 0)
            #expect(report.stats.anycastInstances > 0)
        }
    }

    @Test("A seed replays identically")
    func deterministic() throws {
        for seed: UInt64 in [1, 7, 4_242] {
            let first = DaemonScenario(seed: seed)
            let second = DaemonScenario(seed: seed)
            let a = try first.run()
            let b = try second.run()
            #expect(a == b)
            #expect(first.trace == second.trace)
            #expect(first.hookLog == second.hookLog)
            #expect(first.trace.count > 5)
        }
    }

    @Test("The checker catches a plane that forgets to remove addresses")
    func catchesForgottenRemoval() {
        var caught = 0
        for seed: UInt64 in 1...20 {
            do {
                _ = try DaemonScenario(seed: seed, forgetAddressRemoval: true).run()
            } catch {
                caught += 1
                #expect(error.description.contains("VIPD_DAEMON_SIM_SEED=\(seed)"))
            }
        }
        #expect(caught == 20)
    }

    @Test("The checker catches takeovers from queued advertisements when the daemon does not drain before expiry")
    func catchesTakeoverFromQueuedAdvertisements() throws {
        var caught: [UInt64] = []
        var example = ""
        for seed: UInt64 in 1...40 {
            do {
                _ = try DaemonScenario(seed: seed, drainBeforeExpiry: false).run()
            } catch {
                guard error.message.contains("sat unread in its socket") else { continue }
                if caught.isEmpty { example = error.message }
                caught.append(seed)
            }
        }
        print("without drain before expiry, invariant 6 caught \(caught.count) of 40 seeds: \(caught); first: \(example)")
        #expect(caught.count >= 5, "seeds caught: \(caught)")
        // The same seeds with the rule: no such takeover.
        for seed in caught.prefix(5) {
            #expect(throws: Never.self) { try DaemonScenario(seed: seed).run() }
        }
    }
}
