// Runs many simulation seeds, spread over the machine's cores, and reports the first failure.

import Foundation
import VRRP

public struct SimulationReport: Sendable {
    public var stats = SimulationStats()
    public var failure: SimulationFailure?
    public var elapsedSeconds: Double = 0
    public var firstSeed: UInt64 = 0

    public var seedsPerSecond: Double { elapsedSeconds > 0 ? Double(stats.seeds) / elapsedSeconds : 0 }
    public var summary: String {
        let rate = String(format: "%.0f", seedsPerSecond)
        let seconds = String(format: "%.2f", elapsedSeconds)
        return "simulation: \(stats.seeds) seeds from \(firstSeed) in \(seconds) s (\(rate) seeds/s), "
            + "\(stats.steps) steps, \(stats.transitions) transitions, \(stats.advertisements) adverts, "
            + "\(stats.settledChecks) settled checks, \(stats.handoverChecks) handover checks, "
            + "\(stats.virtualNanoseconds / 1_000_000_000) virtual s"
    }
}

public enum SimulationRunner {
    /// What the environment asks for: VIPD_SIM_SEED (replay one seed), VIPD_SIM_SEEDS (how many,
    /// default `defaultCount`), VIPD_SIM_SEED_START (first seed, default 1), VIPD_SIM_SECONDS (keep
    /// running consecutive seeds until this many seconds have passed; overrides the count).
    public struct Request: Sendable {
        public var firstSeed: UInt64
        public var count: Int?
        public var seconds: Double?

        public static func fromEnvironment(defaultCount: Int) -> Request {
            let env = ProcessInfo.processInfo.environment
            if let text = env["VIPD_SIM_SEED"], let seed = UInt64(text) {
                return Request(firstSeed: seed, count: 1, seconds: nil)
            }
            let first = env["VIPD_SIM_SEED_START"].flatMap { UInt64($0) } ?? 1
            if let text = env["VIPD_SIM_SECONDS"], let seconds = Double(text), seconds > 0 {
                return Request(firstSeed: first, count: nil, seconds: seconds)
            }
            let count = env["VIPD_SIM_SEEDS"].flatMap { Int($0) } ?? defaultCount
            return Request(firstSeed: first, count: max(1, count), seconds: nil)
        }
    }

    /// Runs seeds `firstSeed, firstSeed + 1, …` on up to `workers` concurrent tasks.
    public static func run(_ request: Request, workers: Int = ProcessInfo.processInfo.activeProcessorCount) async -> SimulationReport {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = request.seconds.map { started + .milliseconds(Int64($0 * 1000)) }
        let workerCount = max(1, min(workers, request.count ?? workers))
        let results = await withTaskGroup(of: (SimulationStats, SimulationFailure?).self) { group in
            for worker in 0..<workerCount {
                group.addTask {
                    var stats = SimulationStats()
                    var index = UInt64(worker)
                    while !Task.isCancelled {
                        if let count = request.count, index >= UInt64(count) { break }
                        if let deadline, clock.now >= deadline { break }
                        let seed = request.firstSeed &+ index
                        var simulation = Simulation(seed: seed)
                        do throws(SimulationFailure) {
                            stats.add(try simulation.run())
                        } catch {
                            return (stats, error)
                        }
                        index += UInt64(workerCount)
                    }
                    return (stats, nil)
                }
            }
            var collected: [(SimulationStats, SimulationFailure?)] = []
            for await result in group {
                if result.1 != nil { group.cancelAll() }
                collected.append(result)
            }
            return collected
        }
        var report = SimulationReport()
        report.firstSeed = request.firstSeed
        for (stats, failure) in results {
            report.stats.add(stats)
            if let failure, report.failure == nil || failure.seed < report.failure!.seed { report.failure = failure }
        }
        let elapsed = clock.now - started
        report.elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }
}
