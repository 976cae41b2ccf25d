// Runs many simulation seeds, spread over the machine's cores, and reports the first failure. Shared
// by the core simulation (`SimulationRunner`) and the daemon simulation (Tests/DaemonSimulation).

import Foundation
import VRRP

/// What one seed's run adds up.
public protocol SeedStats: Sendable {
    init()
    var seeds: Int { get }
    mutating func add(_ other: Self)
}

/// A broken invariant, named by its seed.
public protocol SeedFailure: Error, Sendable {
    var seed: UInt64 { get }
}

/// Which seeds to run, from the environment: `<prefix>_SEED` (replay one seed), `<prefix>_SEEDS`
/// (how many, default `defaultCount`), `<prefix>_SEED_START` (first seed, default 1),
/// `<prefix>_SECONDS` (keep running consecutive seeds until this many seconds have passed; overrides
/// the count).
public struct SeedRequest: Sendable {
    public var firstSeed: UInt64
    public var count: Int?
    public var seconds: Double?

    public init(firstSeed: UInt64, count: Int?, seconds: Double?) {
        self.firstSeed = firstSeed; self.count = count; self.seconds = seconds
    }

    public static func fromEnvironment(prefix: String = "VIPD_SIM", defaultCount: Int) -> SeedRequest {
        let env = ProcessInfo.processInfo.environment
        if let text = env["\(prefix)_SEED"], let seed = UInt64(text) {
            return SeedRequest(firstSeed: seed, count: 1, seconds: nil)
        }
        let first = env["\(prefix)_SEED_START"].flatMap { UInt64($0) } ?? 1
        if let text = env["\(prefix)_SECONDS"], let seconds = Double(text), seconds > 0 {
            return SeedRequest(firstSeed: first, count: nil, seconds: seconds)
        }
        let count = env["\(prefix)_SEEDS"].flatMap { Int($0) } ?? defaultCount
        return SeedRequest(firstSeed: first, count: max(1, count), seconds: nil)
    }
}

public struct SeedReport<Stats: SeedStats, Failure: SeedFailure>: Sendable {
    public var stats = Stats()
    public var failure: Failure?
    public var elapsedSeconds: Double = 0
    public var firstSeed: UInt64 = 0

    public var seedsPerSecond: Double { elapsedSeconds > 0 ? Double(stats.seeds) / elapsedSeconds : 0 }
    /// "N seeds from F in S s (R seeds/s)".
    public var rate: String {
        "\(stats.seeds) seeds from \(firstSeed) in \(String(format: "%.2f", elapsedSeconds)) s (\(String(format: "%.0f", seedsPerSecond)) seeds/s)"
    }
}

public enum SeedRunner {
    /// Runs seeds `firstSeed, firstSeed + 1, …` on up to `workers` concurrent tasks; the lowest failing
    /// seed is reported.
    public static func run<Stats: SeedStats, Failure: SeedFailure>(
        _ request: SeedRequest, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        _ body: @escaping @Sendable (UInt64) throws(Failure) -> Stats
    ) async -> SeedReport<Stats, Failure> {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = request.seconds.map { started + .milliseconds(Int64($0 * 1000)) }
        let workerCount = max(1, min(workers, request.count ?? workers))
        let results = await withTaskGroup(of: (Stats, Failure?).self) { group in
            for worker in 0..<workerCount {
                group.addTask {
                    var stats = Stats()
                    var index = UInt64(worker)
                    while !Task.isCancelled {
                        if let count = request.count, index >= UInt64(count) { break }
                        if let deadline, clock.now >= deadline { break }
                        do throws(Failure) {
                            stats.add(try body(request.firstSeed &+ index))
                        } catch {
                            return (stats, error)
                        }
                        index += UInt64(workerCount)
                    }
                    return (stats, nil)
                }
            }
            var collected: [(Stats, Failure?)] = []
            for await result in group {
                if result.1 != nil { group.cancelAll() }
                collected.append(result)
            }
            return collected
        }
        var report = SeedReport<Stats, Failure>()
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

extension SimulationStats: SeedStats {}
extension SimulationFailure: SeedFailure {}

public typealias SimulationReport = SeedReport<SimulationStats, SimulationFailure>

extension SeedReport where Stats == SimulationStats {
    public var summary: String {
        "simulation: \(rate), "
            + "\(stats.steps) steps, \(stats.transitions) transitions, \(stats.advertisements) adverts, "
            + "\(stats.settledChecks) settled checks, \(stats.handoverChecks) handover checks, "
            + "\(stats.signedAdvertisements) signed adverts (\(stats.duplicatesRefused) duplicates refused), "
            + "\(stats.attacksRefused) adversary adverts refused, "
            + "\(stats.virtualNanoseconds / 1_000_000_000) virtual s"
    }
}

/// The core simulation's seeds (VIPD_SIM_SEED, VIPD_SIM_SEEDS, VIPD_SIM_SEED_START, VIPD_SIM_SECONDS).
public enum SimulationRunner {
    public typealias Request = SeedRequest

    public static func run(_ request: Request, workers: Int = ProcessInfo.processInfo.activeProcessorCount) async -> SimulationReport {
        await SeedRunner.run(request, workers: workers) { seed throws(SimulationFailure) in
            var simulation = Simulation(seed: seed)
            return try simulation.run()
        }
    }
}
