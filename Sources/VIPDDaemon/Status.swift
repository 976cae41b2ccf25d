// What `vipd status` shows: a snapshot of the daemon, encoded as JSON over the control socket.

public struct DaemonStatus: Codable, Equatable, Sendable {
    public var node: String?
    public var pid: Int32
    public var configPath: String
    public var uptimeSeconds: Double
    public var instances: [InstanceStatus]
    /// Drops counted before a packet could be given to an instance (malformed, unknown VRID, ...).
    public var interfaces: [InterfaceStatus]

    enum CodingKeys: String, CodingKey {
        case node, pid, configPath = "config_path", uptimeSeconds = "uptime_seconds", instances, interfaces
    }
}

public struct InstanceStatus: Codable, Equatable, Sendable {
    public var name: String
    public var interface: String
    public var vrid: Int
    public var version: Int
    /// The instance's state: the routers' common state, or the worst of them (Fault < Backup < Master).
    public var state: String
    public var syncGroup: String?
    public var routers: [RouterStatus]
    public var trackers: [TrackerStatus]
    /// Notify hooks running or waiting (at most 1 + one per router: the queue is bounded).
    public var notifyQueued = 0
    /// Transitions whose waiting hook a newer transition of the same router replaced, since start.
    public var notifyCoalesced = 0
    /// `election: none` (anycast) instances say "none"; nil = VRRP.
    public var election: String?
    /// `announce: route` instances name their `route.device`; nil = on the interface (arp).
    public var routeDevice: String?

    enum CodingKeys: String, CodingKey {
        case name, interface, vrid, version, state, syncGroup = "sync_group", routers, trackers
        case notifyQueued = "notify_queued", notifyCoalesced = "notify_coalesced"
        case election, routeDevice = "route_device"
    }
}

public struct RouterStatus: Codable, Equatable, Sendable {
    public var family: String
    public var state: String
    public var configuredPriority: Int
    public var effectivePriority: Int
    public var master: String?
    public var masterPriority: Int?
    public var advertIntervalMs: Int
    public var addresses: [String]
    public var holdsAddresses: Bool
    public var releasing: Bool
    public var takeoverPending: Bool
    public var handoverHold: Bool
    public var lastTransition: TransitionStatus?
    public var counters: RouterCounters

    enum CodingKeys: String, CodingKey {
        case family, state, master, addresses, releasing, counters
        case configuredPriority = "configured_priority", effectivePriority = "effective_priority"
        case masterPriority = "master_priority", advertIntervalMs = "advert_interval_ms"
        case holdsAddresses = "holds_addresses", takeoverPending = "takeover_pending"
        case handoverHold = "handover_hold", lastTransition = "last_transition"
    }
}

public struct TransitionStatus: Codable, Equatable, Sendable {
    public var from: String
    public var to: String
    public var reason: String
    public var secondsAgo: Double

    enum CodingKeys: String, CodingKey { case from, to, reason, secondsAgo = "seconds_ago" }
}

public struct RouterCounters: Codable, Equatable, Sendable {
    public var advertsSent = 0
    public var advertsReceived = 0
    public var transitions = 0
    public var announcements = 0
    public var addressesRestored = 0
    /// Master_Down_Timer expiries withdrawn because the advertisements read before acting on them
    /// showed the Master alive (the node was late, not the Master: see DrainBeforeExpiry).
    public var masterDownWithdrawn = 0
    public var drops: [String: Int] = [:]

    public init() {}
    enum CodingKeys: String, CodingKey {
        case advertsSent = "adverts_sent", advertsReceived = "adverts_received", transitions, announcements
        case addressesRestored = "addresses_restored", masterDownWithdrawn = "master_down_withdrawn", drops
    }
}

public struct TrackerStatus: Codable, Equatable, Sendable {
    public var name: String
    public var kind: String
    public var up: Bool
    public var weight: Int
}

public struct InterfaceStatus: Codable, Equatable, Sendable {
    public var name: String
    public var drops: [String: Int]
}
