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
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),
        // Deterministic simulation of many Routers on a virtual LAN (test support only).
        .target(name: "Simulation", dependencies: ["VRRP"], path: "Tests/Simulation", exclude: ["README.md"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "VRRP"]),
    ],
    swiftLanguageModes: [.v6]
)
