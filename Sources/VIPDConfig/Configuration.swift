import VRRP
import VRRPNode

/// The whole vipd configuration file, with every default filled in.
public struct VIPDConfiguration: Hashable, Sendable {
    /// Node name for logs and metrics labels (optional).
    public var node: String?
    /// Unix socket the `vipd` CLI talks to.
    public var controlSocket: String
    /// Prometheus endpoint; nil = no metrics listener.
    public var metrics: MetricsConfig?
    /// Bound on the graceful SIGTERM handover before the daemon exits anyway.
    public var shutdownTimeout: Duration
    public var logLevel: LogLevel
    /// SCHED_RR priority for the daemon (1...99), keepalived's `vrrp_rt_priority`; nil = normal
    /// scheduling (the default). Needs CAP_SYS_NICE.
    public var realtimePriority: Int?
    /// Highest SCHED_RR priority the daemon raises itself to when its timers run late (keepalived's
    /// `max_auto_priority`); nil = never (the default). Needs CAP_SYS_NICE.
    public var maxAutoPriority: Int?
    /// How late a timer must run before the priority is raised (keepalived's
    /// `min_auto_priority_delay`); nil = the default, `effectiveMinAutoPriorityDelay`.
    public var minAutoPriorityDelay: Duration?
    /// The most CPU time the real-time event loop may use without sleeping before it goes back to
    /// normal scheduling (RLIMIT_RTTIME's soft limit; keepalived's `vrrp_rlimit_rttime`); nil = the
    /// default, `defaultRealtimeCPULimit`. Used only with `realtimePriority` or `maxAutoPriority`.
    public var realtimeCPULimit: Duration?
    /// Lock all memory (mlockall), keepalived's `vrrp_no_swap`. Needs CAP_IPC_LOCK.
    public var lockMemory: Bool
    /// Refuse hooks and track scripts that anyone but root could change (keepalived's
    /// `enable_script_security`); checked by `load(path:)`, which check-config, run and reload share.
    public var enableScriptSecurity: Bool
    /// Who runs hooks and track scripts (keepalived's `script_user`); nil = the daemon's own user,
    /// root when vipd runs as root (see docs/config.md "Script user").
    public var scriptUser: ScriptUser?
    public var instances: [InstanceConfig]
    public var syncGroups: [SyncGroupConfig]

    public static let defaultControlSocket = "/run/vipd/vipd.sock"
    public static let defaultShutdownTimeout: Duration = .seconds(10)
    /// `realtime_cpu_limit`'s default: far above anything the event loop does between two sleeps,
    /// unlike keepalived's 10 ms, which got keepalived killed under load (docs/benchmarks.md).
    public static let defaultRealtimeCPULimit: Duration = .seconds(1)

    public init(node: String? = nil, controlSocket: String = defaultControlSocket, metrics: MetricsConfig? = nil,
                shutdownTimeout: Duration = defaultShutdownTimeout, logLevel: LogLevel = .info,
                realtimePriority: Int? = nil, lockMemory: Bool = false, enableScriptSecurity: Bool = true,
                scriptUser: ScriptUser? = nil, instances: [InstanceConfig], syncGroups: [SyncGroupConfig] = []) {
        self.node = node; self.controlSocket = controlSocket; self.metrics = metrics
        self.shutdownTimeout = shutdownTimeout; self.logLevel = logLevel
        self.realtimePriority = realtimePriority; self.lockMemory = lockMemory
        self.enableScriptSecurity = enableScriptSecurity; self.scriptUser = scriptUser
        self.instances = instances; self.syncGroups = syncGroups
    }

    /// `min_auto_priority_delay` as configured, or its default: half the shortest advert interval
    /// of the instances, at most 1 s (keepalived's default, 1 s, is longer than a Backup waits at
    /// 10 ms adverts), at least `minimumAutoPriorityDelay`.
    public var effectiveMinAutoPriorityDelay: Duration {
        if let minAutoPriorityDelay { return minAutoPriorityDelay }
        let shortest = instances.map { Duration.milliseconds(Int64($0.advertInterval.centiseconds) * 10) }.min() ?? .seconds(2)
        return max(Self.minimumAutoPriorityDelay, min(.seconds(1), shortest / 2))
    }

    /// `realtime_cpu_limit` as configured, or its default.
    public var effectiveRealtimeCPULimit: Duration { realtimeCPULimit ?? Self.defaultRealtimeCPULimit }

    /// The smallest `min_auto_priority_delay`: the event loop may hold a timer back by up to 1 ms on
    /// purpose while packets arrive faster than one per millisecond (read pacing).
    public static let minimumAutoPriorityDelay: Duration = .milliseconds(2)

    /// The instance with this name, if any.
    public func instance(named name: String) -> InstanceConfig? { instances.first { $0.name == name } }
}

/// Daemon log threshold (names as in swift-log, minus `critical`).
public enum LogLevel: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case trace, debug, info, notice, warning, error
    public var description: String { rawValue }
}

/// Where the Prometheus endpoint listens: an address already resolved by the loader (`localhost`
/// becomes 127.0.0.1), so the daemon binds exactly what check-config showed and parses nothing.
public struct MetricsConfig: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }
    /// `ADDRESS:PORT` (IPv6 in brackets), as the file may write it.
    public var listen: String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// One VRRP instance: a VRID on an interface with its virtual addresses. A dual-stack v3 instance
/// becomes one virtual router per family, both with this VRID (VRRPv3 VRIDs are per family).
public struct InstanceConfig: Hashable, Sendable {
    public var name: String
    public var interface: String
    public var vrid: UInt8
    public var priority: UInt8
    public var advertInterval: AdvertInterval
    public var version: VRRPVersion
    /// VRRPv2 simple password (at most 8 bytes); nil = no authentication.
    public var authPass: String?
    /// HMAC-SHA256 trailers on advertisements (`auth_hmac`); nil = none. Excludes `authPass`.
    public var authHMAC: HMACAuthConfig?
    public var preempt: Bool
    public var preemptDelay: Duration
    public var accept: Bool
    public var addresses: [AddressPrefix]
    public var unicast: UnicastConfig?
    public var virtualMAC: Bool
    public var garp: GARPConfig
    public var track: TrackConfig
    /// Absolute path of a program run on every state change.
    public var notify: String?
    /// Words configured after the `notify` program (`notify_style: keepalived` only; keepalived
    /// appends its four arguments after them).
    public var notifyArguments: [String]
    /// What `notify` is given, and whether TAKEOVER_PENDING is reported (see `NotifyStyle`).
    public var notifyStyle: NotifyStyle
    /// keepalived's `notify_master` / `notify_backup` / `notify_fault` / `notify_stop`.
    public var stateCommands: StateCommands
    public var takeover: TakeoverMode
    /// Send VRRPv3 IPv4 checksums without the IPv4 pseudo-header, the way VRRPv2 computes them, for
    /// peers that do so (`v3_checksum_as_v2`). IPv4 only; v3 only.
    public var v3ChecksumAsV2: Bool
    /// `announce: route` settings; nil = `announce: arp` (RouteConfig.swift).
    public var route: RouteConfig?
    /// `election`: VRRP, or none (anycast; needs `route`).
    public var election: ElectionMode

    public static let defaultPriority: UInt8 = ProtocolConstants.defaultPriority
    public static let defaultAdvertInterval = AdvertInterval(centiseconds: 100)

    public init(name: String, interface: String, vrid: UInt8, priority: UInt8 = defaultPriority,
                advertInterval: AdvertInterval = defaultAdvertInterval, version: VRRPVersion = .v3,
                authPass: String? = nil, preempt: Bool = true, preemptDelay: Duration = .zero, accept: Bool = false,
                addresses: [AddressPrefix], unicast: UnicastConfig? = nil, virtualMAC: Bool = false,
                garp: GARPConfig = GARPConfig(), track: TrackConfig = TrackConfig(), notify: String? = nil,
                takeover: TakeoverMode = .auto, v3ChecksumAsV2: Bool = false, authHMAC: HMACAuthConfig? = nil) {
        self.name = name; self.interface = interface; self.vrid = vrid; self.priority = priority
        self.advertInterval = advertInterval; self.version = version; self.authPass = authPass
        self.preempt = preempt; self.preemptDelay = preemptDelay; self.accept = accept
        self.addresses = addresses; self.unicast = unicast; self.virtualMAC = virtualMAC; self.garp = garp
        self.track = track; self.notify = notify; self.notifyArguments = []; self.notifyStyle = .vipd
        self.stateCommands = StateCommands(); self.takeover = takeover; self.v3ChecksumAsV2 = v3ChecksumAsV2
        self.authHMAC = authHMAC; self.route = nil; self.election = .vrrp
    }

    /// Families present in `addresses`, IPv4 first.
    public var families: [AddressFamily] {
        [AddressFamily.ipv4, .ipv6].filter { f in addresses.contains { $0.family == f } }
    }

    /// The virtual addresses of one family, in configuration order.
    public func addresses(of family: AddressFamily) -> [AddressPrefix] {
        addresses.filter { $0.family == family }
    }

    /// Settings of the virtual router this instance runs for `family`. `primaryAddress` is the
    /// interface's primary address of that family (IPv4 primary or IPv6 link-local), or the
    /// unicast source.
    public func routerConfig(family: AddressFamily, primaryAddress: IPAddress) -> RouterConfig {
        if election == .none { return Anycast.routerConfig(addresses: addresses(of: family), placeholder: primaryAddress) }
        return RouterConfig(version: version, vrid: vrid, priority: priority, advertInterval: advertInterval,
                     primaryAddress: primaryAddress, addresses: addresses(of: family), preempt: preempt,
                     preemptDelay: preemptDelay, acceptMode: accept,
                     authentication: authPass.map { Authentication.password($0) } ?? .none, takeover: takeover,
                            handoverReleaseDelay: RoutedRelease.handoverReleaseDelay(routeReleaseDelay: route?.releaseDelay))
    }
}

/// Unicast advertisements instead of multicast: our source and the peers we send to / accept from.
public struct UnicastConfig: Hashable, Sendable {
    public var source: IPAddress
    public var peers: [IPAddress]
    /// `ttl_check`: drop peers' advertisements whose TTL / Hop Limit is not 255. nil (not set):
    /// on when every peer is on a connected subnet, decided by the daemon from the interface's
    /// addresses (`UnicastTTLCheck` in VRRPNode).
    public var ttlCheck: Bool?
    public init(source: IPAddress, peers: [IPAddress], ttlCheck: Bool? = nil) {
        self.source = source; self.peers = peers; self.ttlCheck = ttlCheck
    }
}

/// Gratuitous ARP / unsolicited Neighbor Advertisement announcements on becoming Master.
public struct GARPConfig: Hashable, Sendable {
    /// Messages per burst (keepalived `garp_master_repeat`).
    public var count: Int
    /// Gap between messages of a burst (keepalived `garp_interval` / `gna_interval`).
    public var interval: Duration
    /// Delay before a second burst after becoming Master; 0 = none (keepalived `garp_master_delay`).
    public var repeatAfter: Duration
    /// Period of refresh bursts while Master; 0 = none (keepalived `garp_master_refresh`).
    public var refresh: Duration

    public init(count: Int = 5, interval: Duration = .zero, repeatAfter: Duration = .seconds(5),
                refresh: Duration = .zero) {
        self.count = count; self.interval = interval; self.repeatAfter = repeatAfter; self.refresh = refresh
    }
}

/// What the instance's priority depends on.
public struct TrackConfig: Hashable, Sendable {
    public var interfaces: [TrackedInterface]
    public var scripts: [TrackedScript]
    public init(interfaces: [TrackedInterface] = [], scripts: [TrackedScript] = []) {
        self.interfaces = interfaces; self.scripts = scripts
    }
    public var isEmpty: Bool { interfaces.isEmpty && scripts.isEmpty }
}

/// An interface whose link state changes the priority.
public struct TrackedInterface: Hashable, Sendable {
    public var name: String
    /// Added to the priority while the interface is down (-254...254); 0 = the instance goes to
    /// Fault while it is down.
    public var weight: Int
    public init(name: String, weight: Int = 0) { self.name = name; self.weight = weight }
}

/// A health-check program run periodically; exit status 0 = up.
public struct TrackedScript: Hashable, Sendable {
    /// What logs, metrics labels and status call this script: configured, or its 1-based position
    /// in `track.scripts`. Never the command line, which may carry secrets.
    public var name: String
    /// The command to run.
    public var run: String
    public var interval: Duration
    /// Killed and counted as a failure after this long (≤ interval).
    public var timeout: Duration
    /// Applied while failing (negative) or while succeeding (positive), keepalived-style; 0 = Fault
    /// while failing.
    public var weight: Int
    /// Consecutive successes before a failing script counts as up again.
    public var rise: Int
    /// Consecutive failures before a passing script counts as down.
    public var fall: Int
    /// Who runs it (keepalived's vrrp_script `user`); nil = the global `script_user`.
    public var user: ScriptUser?

    public init(name: String, run: String, interval: Duration = .seconds(1), timeout: Duration? = nil, weight: Int = 0,
                rise: Int = 1, fall: Int = 1) {
        self.name = name; self.run = run; self.interval = interval; self.timeout = timeout ?? interval
        self.weight = weight; self.rise = rise; self.fall = fall; self.user = nil
    }
}

/// Instances that change state together (keepalived `vrrp_sync_group`).
public struct SyncGroupConfig: Hashable, Sendable {
    public var name: String
    public var instances: [String]
    /// keepalived's group `notify`: the program and its configured words; it is run with
    /// `GROUP NAME STATE 0` appended, as keepalived does.
    public var notify: [String]?
    /// The group's `notify_master` / `notify_backup` / `notify_fault` / `notify_stop`.
    public var stateCommands: StateCommands
    public init(name: String, instances: [String], notify: [String]? = nil, stateCommands: StateCommands = StateCommands()) {
        self.name = name; self.instances = instances; self.notify = notify; self.stateCommands = stateCommands
    }
}
