import Foundation
import Simulation
import Testing
import VRRP

// Plain `import` (no @testable) so `swift test -c release` builds these tests too.

@Suite("Deterministic simulation")
struct SimulationTests {
    /// Default seed count when VIPD_SIM_SEEDS is unset: small enough for a debug run.
    static let defaultSeeds = 500

    @Test("Random schedules keep the invariants (VIPD_SIM_SEED / VIPD_SIM_SEEDS / VIPD_SIM_SECONDS)")
    func randomSeeds() async {
        let request = SimulationRunner.Request.fromEnvironment(defaultCount: Self.defaultSeeds)
        let report = await SimulationRunner.run(request)
        print(report.summary)
        if let failure = report.failure {
            Issue.record(Comment(rawValue: failure.description))
        }
        #expect(report.stats.seeds >= 1)
        if report.stats.seeds >= 100 {
            // The checks must actually run, or a green result means nothing.
            #expect(report.stats.settledChecks > 0)
            #expect(report.stats.handoverChecks > 0)
            #expect(report.stats.transitions > 0)
            // auth_hmac and its adversary must have been exercised too.
            #expect(report.stats.signedAdvertisements > 0)
            #expect(report.stats.attacksRefused > 0)
        }
    }

    @Test("A seed replays identically")
    func deterministic() throws {
        for seed: UInt64 in [1, 42, 9_999] {
            var first = Simulation(seed: seed)
            var second = Simulation(seed: seed)
            let a = try first.run()
            let b = try second.run()
            #expect(a == b)
        }
    }

    @Test("The checker catches a data plane that keeps addresses (invariant A)")
    func catchesLeftoverAddresses() {
        var caught = 0
        for seed: UInt64 in 1...200 {
            var simulation = Simulation(seed: seed, sabotage: .ignoreRemoveAddresses)
            do { _ = try simulation.run() } catch {
                caught += 1
                #expect(error.message.contains("holds"))
                #expect(error.description.contains("VIPD_SIM_SEED=\(seed)"))
            }
        }
        #expect(caught > 0)
    }

    @Test("The checker catches split brain when no advertisement gets through (invariant B)")
    func catchesSplitBrain() {
        var caught = 0
        for seed: UInt64 in 1...200 {
            var simulation = Simulation(seed: seed, sabotage: .dropAllAdvertisements)
            do { _ = try simulation.run() } catch {
                caught += 1
            }
        }
        #expect(caught > 0)
    }

    @Test("The checker catches an auth_hmac receiver that lets unsigned adverts through an enforcing group (invariant D)")
    func catchesAcceptedForgery() {
        var caught = 0
        for seed: UInt64 in 1...200 {
            var simulation = Simulation(seed: seed, sabotage: .acceptUnsigned)
            do { _ = try simulation.run() } catch {
                caught += 1
                #expect(error.message.contains("adversary advert accepted"), "\(error.message)")
            }
        }
        #expect(caught > 0)
    }
}
