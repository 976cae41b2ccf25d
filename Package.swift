// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vipd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VRRP", targets: ["VRRP"]),
        .library(name: "VIPDLinux", targets: ["VIPDLinux"]),
    ],
    targets: [
        // Pure protocol core: codec + state machine. No I/O, no clock, no Glibc.
        .target(name: "VRRP"),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),

        // Linux data plane: the only code that touches the kernel.
        .systemLibrary(name: "CLibmnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // Functions for the C macros/inline helpers Swift cannot import (NLMSG_*, CMSG_*, ...).
        .target(name: "CVIPDShim"),
        .target(name: "VIPDLinux", dependencies: ["VRRP", "CLibmnl", "CVIPDShim"], exclude: ["README.md"]),
        // Internal tool the namespace tests run with `ip netns exec` (one JSON object per line).
        .executableTarget(name: "vipd-netprobe", dependencies: ["VIPDLinux", "VRRP"]),
        .testTarget(name: "VIPDLinuxTests", dependencies: ["VIPDLinux", "VRRP"]),
    ],
    swiftLanguageModes: [.v6]
)
