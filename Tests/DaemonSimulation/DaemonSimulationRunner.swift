// The daemon simulation's seeds, run by the core simulation's SeedRunner: VIPD_DAEMON_SIM_SEED
// replays one seed; VIPD_DAEMON_SIM_SEEDS runs that many from VIPD_DAEMON_SIM_SEED_START (default 1);
// VIPD_DAEMON_SIM_SECONDS runs consecutive seeds for that long instead.

import Foundation
import Simulation

extension DaemonSimulationStats: SeedStats {}
extension DaemonSimulationFailure: SeedFailure {}

public typealias DaemonSimulationReport = SeedReport<DaemonSimulationStats, DaemonSimulationFailure>

extension SeedReport where Stats == DaemonSimulationStats {
    public var summary: String {
        "daemon simulation: \(rate), \(stats.phases) chaos phases, \(stats.settledChecks) settled checks, "
            + "\(stats.crashes) crashes, \(stats.stops) stops, \(stats.reloads) reloads, \(stats.handovers) handovers, \(stats.approvals) approvals, "
            + "\(stats.unicastInstances) unicast, \(stats.virtualMACInstances) virtual-MAC, \(stats.routedInstances) routed and \(stats.anycastInstances) anycast instances, "
            + "\(stats.hooks) hooks (\(stats.coalescedHooks) transitions coalesced), \(stats.starvations) CPU starvations "
            + "(\(stats.withdrawnExpiries) Master_Down_Timer expiries withdrawn by the drain), \(stats.virtualNanoseconds / 1_000_000_000) virtual s"
    }
}

public enum DaemonSimulationRunner {
    public static func request(defaultCount: Int) -> SeedRequest {
        SeedRequest.fromEnvironment(prefix: "VIPD_DAEMON_SIM", defaultCount: defaultCount)
    }

    public static func run(_ request: SeedRequest, workers: Int = ProcessInfo.processInfo.activeProcessorCount) async -> DaemonSimulationReport {
        await SeedRunner.run(request, workers: workers) { seed throws(DaemonSimulationFailure) in
            try DaemonScenario(seed: seed).run()
        }
    }
}
