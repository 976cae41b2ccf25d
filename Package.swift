// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vipd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VRRP", targets: ["VRRP"]),
        .library(name: "VIPDObservability", targets: ["VIPDObservability"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure protocol core: codec + state machine. No I/O, no clock, no Glibc.
        .target(name: "VRRP"),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),

        // Metrics (Prometheus), the /metrics HTTP endpoint, systemd notify and the journald-friendly
        // log handler. Called from the daemon's event-loop thread; never blocks it.
        .target(name: "VIPDObservability", dependencies: [
            "VRRP",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "VIPDObservabilityTests", dependencies: ["VIPDObservability"]),
    ],
    swiftLanguageModes: [.v6]
)
