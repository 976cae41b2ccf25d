// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vipd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vipd", targets: ["vipd"]),
        .library(name: "VRRP", targets: ["VRRP"]),
        // The daemon on a data plane of one's own: what Benchmarks/ (its own package) builds on.
        .library(name: "VIPDDaemon", targets: ["VIPDDaemon", "VIPDConfig", "VIPDLinux", "VIPDObservability", "VRRPNode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Pure protocol core: codec + state machine. No I/O, no clock, no Glibc.
        .target(name: "VRRP"),
        // What a node decides around the core: receive filtering, tracking, sync groups, faults,
        // operator requests. Pure like VRRP.
        .target(name: "VRRPNode", dependencies: ["VRRP"]),

        // The YAML configuration file: parsing, validation with file:line:column errors, rendering.
        .target(name: "VIPDConfig", dependencies: ["VRRP", "VRRPNode", .product(name: "Yams", package: "Yams")]),

        // System calls (EINTR, typed errors, capability advice), clocks, Unix socket addresses and
        // threads, for everything above; its C half wraps what Swift's Glibc module lacks
        // (epoll, timerfd, signalfd, pidfd, accept4, SO_PEERCRED, RLIMIT_RTTIME's SIGXCPU handler).
        .target(name: "CVIPDSystem"),
        .target(name: "VIPDSystem", dependencies: ["CVIPDSystem"]),

        // Linux data plane: the only code that touches the kernel for networking.
        .systemLibrary(name: "CLibmnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // Functions for the C macros/inline helpers Swift cannot import (NLMSG_*, CMSG_*, ...).
        .target(name: "CVIPDShim"),
        .target(name: "VIPDLinux", dependencies: ["VRRP", "VIPDSystem", "CLibmnl", "CVIPDShim"], exclude: ["README.md"]),

        // Prometheus metrics (a store and exposition of its own), the /metrics HTTP endpoint, systemd notify and the journald-friendly
        // log handler. Called from the daemon's event-loop thread; never blocks it.
        .target(name: "VIPDObservability", dependencies: [
            "VRRP", "VIPDSystem",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The daemon's wiring: event loop, child processes, control socket, instances.
        .target(name: "VIPDDaemon", dependencies: [
            "VRRP", "VRRPNode", "VIPDConfig", "VIPDLinux", "VIPDObservability", "VIPDSystem", "CVIPDSystem",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // keepalived.conf → vipd YAML (`vipd import-keepalived`): keepalived's parser and a converter,
        // pure (files come through an injected reader).
        .target(name: "KeepalivedImport"),
        // The `vipd` command.
        .executableTarget(name: "vipd", dependencies: [
            "VIPDDaemon", "VIPDConfig", "VIPDObservability", "VRRP", "KeepalivedImport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["link"]),
        // Internal tool the namespace tests run with `ip netns exec` (one JSON object per line).
        .executableTarget(name: "vipd-netprobe", dependencies: ["VIPDLinux", "VIPDSystem", "VRRP"]),

        // Deterministic multi-node simulation of the core (test support) and its seeds.
        .target(name: "Simulation", dependencies: ["VRRP", "VRRPNode"], path: "Tests/Simulation", exclude: ["README.md"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "VRRP"]),
        // The whole daemon in the simulation: N real `Daemon`s over a fake data plane (test support).
        .target(name: "DaemonSimulation", dependencies: [
            "Simulation", "VIPDDaemon", "VIPDConfig", "VIPDLinux", "VIPDObservability", "VRRP",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/DaemonSimulation", exclude: ["README.md"]),
        .testTarget(name: "DaemonSimulationTests", dependencies: ["DaemonSimulation"]),
        // Golden/ holds captured packets read via #filePath, not bundled resources.
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"], exclude: ["Golden"]),
        .testTarget(name: "VRRPNodeTests", dependencies: ["VRRPNode", "VRRP"]),
        .testTarget(name: "VIPDSystemTests", dependencies: ["VIPDSystem"]),
        .testTarget(name: "VIPDLinuxTests", dependencies: ["VIPDLinux", "VIPDSystem", "VRRP"]),
        .testTarget(name: "VIPDConfigTests", dependencies: ["VIPDConfig", .product(name: "Yams", package: "Yams")]),
        // keepalived/: the corpus of configurations with their expected YAML and notes.
        .testTarget(name: "KeepalivedImportTests", dependencies: ["KeepalivedImport", "VIPDConfig"], exclude: ["keepalived"]),
        .testTarget(name: "VIPDObservabilityTests", dependencies: ["VIPDObservability", "VIPDSystem"]),
        .testTarget(name: "VIPDDaemonTests", dependencies: [
            "VIPDDaemon", "VIPDSystem", "VRRP", "VRRPNode", .product(name: "Logging", package: "swift-log"),
        ]),
        // inject.py: the packet injector the hostile-input tests run in a lab namespace.
        .testTarget(name: "EndToEndTests", dependencies: ["VIPDDaemon", "VRRP"], exclude: ["inject.py"]),
    ],
    swiftLanguageModes: [.v6]
)

// `scripts/fuzz SECONDS config` builds the configuration loader's libFuzzer harness. It has no `main`
// of its own (libFuzzer's), so it exists only in that build.
if Context.environment["VIPD_FUZZ"] == "1" {
    package.products.append(.executable(name: "vipd-fuzz-config", targets: ["vipd-fuzz-config"]))
    package.targets.append(.executableTarget(name: "vipd-fuzz-config", dependencies: ["VIPDConfig"], path: "Fuzz/ConfigHarness"))
}

// Release builds skip Swift's dynamic exclusivity checks (swift_beginAccess on every access to a
// class's `var`): they were measured as a large share of the per-advert instructions
// (docs/benchmarks.md, "Footprint"). The static checks stay; debug builds and tests keep them all.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}

// The release `vipd` (what scripts/build-release links with the static Swift runtime, packaged and
// benchmarked) is linked by lld with packed relative relocations (DT_RELR; glibc ≥ 2.36, Debian 12)
// and without exporting its symbols: the dynamic loader's 1.8 MiB relocation table and the exported
// symbol table were resident in every daemon (docs/benchmarks.md, "Footprint": RSS 23.1 → 21.3 MiB at 255 instances).
// Its functions are laid out in the order of Sources/vipd/link/order.txt (`scripts/order-symbols`),
// and those without a symbol together (link/layout.ld): the functions a running daemon executes side
// by side, so that the 64 KiB the kernel maps around each page fault holds code that runs, not its
// neighbours. It takes scripts/build-release's -function-sections to have a section per function to
// move. GCC's C++ runtime is linked statically (link/libstdc++.so is a linker script found before the
// shared library). RSS 18.5 -> 11.5 MiB at 255 instances: docs/benchmarks.md, "Memory (RSS)".
for target in package.targets where target.name == "vipd" {
    let link = Context.packageDirectory + "/Sources/vipd/link"
    target.linkerSettings = (target.linkerSettings ?? []) + [
        .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
                      "-Xlinker", "--symbol-ordering-file=" + link + "/order.txt", "-Xlinker", "--no-warn-symbol-ordering",
                      "-Xlinker", "-T", "-Xlinker", link + "/layout.ld", "-L" + link],
                     .when(configuration: .release)),
    ]
}
