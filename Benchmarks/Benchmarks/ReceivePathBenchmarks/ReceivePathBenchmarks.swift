// package-benchmark: one received advertisement through the daemon's receive path (decode, lookup,
// receive filter, Router.handle, Master_Down_Timer), with malloc counts (goal: 0 per advert).
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target ReceivePathBenchmarks

import Benchmark
import ReceivePath

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .memoryLeaked, .throughput],
        warmupIterations: 1_000,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    // The harness's own cost per iteration (its malloc count is not zero): subtract it.
    Benchmark("empty iteration (harness baseline)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(benchmark.currentIteration)
        }
    }

    Benchmark("receive one advert (255 Backups at 10 ms)") { benchmark, rig in
        for _ in benchmark.scaledIterations {
            rig.deliver(adverts: 1)
        }
    } setup: {
        try ReceivePathRig()
    }
}
