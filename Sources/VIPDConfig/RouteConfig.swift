// How an instance publishes its addresses (`announce`, `route`) and whether it runs an election
// (`election`): the settings of routed VIPs and anycast (docs/routed.md). Parsed by ParseRoute.swift.

/// `announce`: where the Master puts the addresses and how the network learns about it.
public enum AnnounceMode: String, Hashable, Sendable, CaseIterable {
    /// On `interface` (or its virtual-MAC macvlan), followed by gratuitous ARP / unsolicited NA.
    case arp
    /// As host addresses (/32, /128) on `route.device`, for the host's routing daemon (FRR, BIRD)
    /// to redistribute; no ARP or NA is sent.
    case route
}

/// `route`: the settings of `announce: route`.
public struct RouteConfig: Hashable, Sendable {
    /// Where the Master adds each address as a host address (`lo` by default).
    public var device: String
    /// Planned handover or graceful stop: how long the old Master keeps its host addresses after it
    /// has heard the new Master, so that the upstream routers have switched before it withdraws.
    public var releaseDelay: Duration

    public static let defaultDevice = "lo"
    /// One second: on this project's measurements an eBGP peer changes its kernel route ~125 ms
    /// after a /32 appears or goes on `lo` (issue 13), so 1 s leaves room for slower upstreams and
    /// one lost update; see docs/routed.md for tuning.
    public static let defaultReleaseDelay: Duration = .seconds(1)

    public init(device: String = defaultDevice, releaseDelay: Duration = defaultReleaseDelay) {
        self.device = device; self.releaseDelay = releaseDelay
    }
}

/// `election`: whether the instance runs VRRP.
public enum ElectionMode: String, Hashable, Sendable, CaseIterable {
    /// One Master among the nodes, elected by VRRP.
    case vrrp
    /// Anycast: no VRRP; every node whose tracking passes holds the addresses (needs `announce: route`).
    case none
}

extension InstanceConfig {
    /// `announce`, derived from `route`: an instance with route settings announces by route.
    public var announce: AnnounceMode { route == nil ? .arp : .route }
    /// Whether the instance sends and hears VRRP advertisements.
    public var runsVRRP: Bool { election == .vrrp }
}

/// A configuration that loads but may not do what was meant: printed by check-config and logged
/// by `vipd run` and reload, with the position of the setting concerned.
public struct ConfigWarning: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    /// `FILE:LINE:COLUMN: warning: message`, as compilers print warnings.
    public var description: String { "\(file):\(line):\(column): warning: \(message)" }
}
