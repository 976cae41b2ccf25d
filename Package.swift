// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vipd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VRRP", targets: ["VRRP"]),
    ],
    targets: [
        // Pure protocol core: codec + state machine. No I/O, no clock, no Glibc.
        .target(name: "VRRP"),
        // The daemon's wiring: event loop, child processes, control socket, instances.
        .target(name: "CVIPDSystem"),
        .target(name: "VIPDDaemon", dependencies: ["VRRP", "CVIPDSystem"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),
        .testTarget(name: "VIPDDaemonTests", dependencies: ["VIPDDaemon", "VRRP"]),
    ],
    swiftLanguageModes: [.v6]
)
