// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vipd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VRRP", targets: ["VRRP"]),
        .library(name: "VIPDConfig", targets: ["VIPDConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Pure protocol core: codec + state machine. No I/O, no clock, no Glibc.
        .target(name: "VRRP"),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),
        // The YAML configuration file: parsing, validation with file:line:column errors, rendering.
        .target(name: "VIPDConfig", dependencies: ["VRRP", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "VIPDConfigTests", dependencies: ["VIPDConfig", .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)
