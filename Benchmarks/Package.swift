// swift-tools-version:6.1
// The receive-path microbenchmark (docs/benchmarks.md, "Per-advert receive cost"). A package of its
// own so that the main package — and `swift build --build-tests`, which CI runs — never resolves or
// builds ordo-one/benchmark; this one depends on the main package by path.
//
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target ReceivePathBenchmarks
//   cd Benchmarks && swift build -c release --product receive-cost && \
//     valgrind --tool=callgrind --toggle-collect='*ReceivePathRig*measure*' .build/release/receive-cost 25500
import PackageDescription

let package = Package(
    name: "vipd-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "vipd", path: ".."),
        // MallocInterposer: package-benchmark counts mallocs by interposing malloc (no jemalloc);
        // the default RuntimeInterposer trait is left off (it needs a package not available here).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // A daemon on a fake data plane fed with 255 instances' adverts, shared by both drivers.
        .target(name: "ReceivePath", dependencies: [
            .product(name: "VIPDDaemon", package: "vipd"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Time, timers and (under callgrind) instructions per advert: `receive-cost N` feeds N adverts.
        .executableTarget(name: "receive-cost", dependencies: ["ReceivePath"]),
        .executableTarget(
            name: "ReceivePathBenchmarks",
            dependencies: [
                "ReceivePath",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ReceivePathBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
