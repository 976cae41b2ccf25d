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
        // Golden/ holds captured packets read via #filePath, not bundled resources.
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
