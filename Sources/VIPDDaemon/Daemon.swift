// The daemon: configuration → routers → event loop → actions carried out on the kernel.
// Everything here runs on the event loop's thread; the only other thread is the metrics server's.
//
// This file holds the daemon's state and its construction. The rest is split by responsibility:
// DaemonLifecycle (run, stop), DaemonInstances (instances → routers, sockets), DaemonActions (the
// core's actions carried out), DaemonAnnouncements (GARP/NA), DaemonVirtualMAC (macvlans and their
// sysctls), DaemonReceive (the receive path), DaemonLinkEvents (links and addresses), DaemonTracking,
// DaemonControl (control requests) and DaemonReload (configuration reload).

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import VIPDConfig
import VIPDLinux
import VIPDObservability
import VRRP
import VRRPNode

public enum DaemonError: Error, CustomStringConvertible {
    case startup(String)
    public var description: String {
        switch self { case .startup(let why): why }
    }
}

public final class Daemon {
    /// The signals the daemon handles on its loop; block them with `EventLoop.blockSignals` before
    /// starting any thread. Not SIGXCPU: it has a handler of its own and stays unblocked
    /// (DaemonRealtimeCPULimit.swift).
    public static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// The kernel (or, in the daemon simulation, a virtual one): see DataPlane.swift.
    let plane: any DataPlane
    let loop: any DaemonLoop
    let children: any ChildSpawner
    let configPath: String
    var config: VIPDConfiguration {
        didSet { configuredAddressesCache = nil }
    }
    private var configuredAddressesCache: Set<IPAddress>?
    var logger: Logger
    let metrics: VIPDMetrics
    var metricsServer: MetricsHTTPServer?
    let notifier: SystemdNotifier
    var control: ControlServer?

    /// Routers in configuration order (an instance contributes one per family).
    var routers: [RouterRuntime] = [] {
        didSet { reindexRouters() }
    }
    /// Receive-path lookup: (interface, family, VRID) → router; interface index → name.
    var routerIndex: [RouterLookupKey: RouterRuntime] = [:]
    var interfaceNames: [Int32: String] = [:]
    var sockets: [SocketKey: any VRRPEndpoint] = [:]
    var hookQueues: [String: HookQueue] = [:]
    /// Sync groups' notify programs, and the state each group's were last run for.
    var groupHookQueues: [String: HookQueue] = [:]
    var groupNotifyStates: [String: String] = [:]
    var scriptTrackers: [String: [ScriptTracker]] = [:]
    /// Macvlans we created, by name, so we delete only our own.
    var createdMacvlans: [String: Int32] = [:]
    /// Every sysctl we changed, as it was before; restored when the daemon stops.
    let sysctls: SysctlJournal
    /// `conf/all.rp_filter` has been handed to the interfaces (see keepReversePathFilteringPerInterface).
    var reversePathFilterMoved = false
    var interfaceDrops: [String: [String: Int]] = [:]
    var dropCounters: [DropCounterKey: VIPDMetrics.Counter] = [:]
    /// Where received advertisements are decoded (DaemonReceive): reused, so decoding allocates nothing.
    var receiveScratch = DecodedAdvertisement(
        advertisement: Advertisement(version: .v3, vrid: 0, priority: 0, interval: AdvertInterval(centiseconds: 0), addresses: []),
        checksumForm: .withPseudoHeader)
    /// The rule "drain before expiry" (docs/design.md). Test-only switch: the daemon simulation
    /// turns it off to show that its invariant catches takeovers made from unread advertisements.
    @_spi(Testing) public var drainBeforeExpiry = DrainBeforeExpiry()
    let startedAt: Instant
    var stopping = false
    /// A systemd status update is scheduled (see `systemdStatusChanged`).
    var systemdStatusPending = false
    var forcedExitTimer: TimerID?
    var watchdogTimer: TimerID?
    /// `max_auto_priority`'s state (nil: off); see DaemonAutoPriority.swift.
    var autoPriority: AutoPriority?
    /// `realtime_cpu_limit`'s state: whether the loop fell back to normal scheduling since the last
    /// start or reload (see DaemonRealtimeCPULimit.swift).
    var realtimeLimit = RealtimeCPULimit()
    /// When the "timers ran late" warning (with `max_auto_priority` off) may next be logged: a
    /// minute after the last one, and not during the daemon's own start or reload work.
    var nextLateWarning: Instant = .zero
    public private(set) var exitCode: Int32 = 0

    /// A daemon on `plane`; nothing is touched until `run()` (or `start()`).
    public init(configPath: String, config: VIPDConfiguration, logger: Logger, plane: any DataPlane,
                notifier: SystemdNotifier = SystemdNotifier()) {
        self.configPath = configPath
        self.config = config
        self.logger = logger
        self.plane = plane
        loop = plane.loop
        children = plane.children
        sysctls = SysctlJournal(plane: plane)
        metrics = VIPDMetrics(node: config.node, version: vipdVersion)
        self.notifier = notifier
        startedAt = loop.now()
    }

    /// systemd notifications are best effort: a failure is logged, never fatal.
    func tellSystemd(_ body: (SystemdNotifier) throws -> Void) {
        do { try body(notifier) } catch {
            logger.warning("systemd notify: \(error)")
        }
    }

    /// Every address that some instance of the configuration names. Built once per configuration
    /// (any change of `config`, as reload makes, drops it): `primaryAddress` needs it for each
    /// instance, and building it there made starting 255 instances quadratic (docs/benchmarks.md,
    /// "Start-up time").
    var configuredAddresses: Set<IPAddress> {
        if let cached = configuredAddressesCache { return cached }
        let all = Set(config.instances.flatMap { $0.addresses.map(\.address) })
        configuredAddressesCache = all
        return all
    }

    // MARK: Summary

    func summary() -> String {
        routers.map { "\($0.key) \($0.router.state)" }.joined(separator: ", ")
    }
}
