// Routed VIPs and anycast (`announce: route`, `election: none`; docs/routed.md): what changes in a
// node's decisions when the addresses are host routes for the host's routing daemon instead of
// addresses on a shared link.
//
// - Release: the old Master of a planned handover (or a graceful stop) keeps its host addresses
//   until it has heard the new Master and `release_delay` has passed, so that the upstream routers
//   have moved to the new Master's route before the old one is withdrawn. The core's graceful
//   release already works that way; `RoutedRelease` gives it the configured delay.
// - Then a second phase, carried out by the daemon: before the address goes, a local route for it
//   is added, so that the node keeps accepting the VIP's packets while the route's withdrawal
//   reaches the upstream routers (which keep sending here until then); `localRouteHold` says how
//   long — `release_delay` again.
// - No gratuitous ARP or unsolicited NA: nobody on `route.device` needs them, and the addresses are
//   not on the link where they would be sent.
// - Anycast (`election: none`): no VRRP at all; the node holds its addresses exactly while its
//   tracking passes. It is run by the same `Router` as an election, configured so that it can only
//   be Master (holding) or Fault (withdrawn): as an address owner that nobody hears, whose tracked
//   items all have fault semantics. `Anycast` gives that configuration and filters the inputs that
//   belong to an election (handover, approval, priority).

import VRRP

public enum RoutedRelease {
    /// The core's release delay for an instance: the configured `release_delay` when it announces
    /// by route, otherwise the link-local default (packets already in flight on the LAN only).
    public static func handoverReleaseDelay(routeReleaseDelay: Duration?) -> Duration {
        routeReleaseDelay ?? RouterConfig.defaultHandoverReleaseDelay
    }

    /// How long a routed VIP is still accepted through a local route once its address is removed
    /// (the second release phase: the route's withdrawal reaches the upstream routers meanwhile,
    /// which keep sending to this node until then); nil: no second phase. `release_delay` again,
    /// for a VRRP instance; an anycast instance withdraws at once.
    public static func localRouteHold(routeReleaseDelay: Duration?, runsVRRP: Bool) -> Duration? {
        guard runsVRRP, let delay = routeReleaseDelay, delay > .zero else { return nil }
        return delay
    }

    /// Whether the core's `.announce` sends frames: only when the addresses are on the link.
    public static func sendsAnnouncements(routed: Bool) -> Bool { !routed }
}

public enum Anycast {
    /// How often the core's Adver_Timer fires for an anycast instance: the longest interval VRRPv3
    /// can express (RFC 9568 §5.2.7). Nothing is sent when it fires (an anycast instance has no
    /// socket); the longest interval keeps the idle wakeups to one every 41 s.
    public static let idleInterval = AdvertInterval(centiseconds: 4095)

    /// The core's settings for one family of an anycast instance: an address owner (it takes its
    /// addresses at start and whenever its faults clear, with no one to ask) with `addresses`.
    /// `placeholder` is an address no peer can have; nothing is ever sent from it.
    public static func routerConfig(addresses: [AddressPrefix], placeholder: IPAddress) -> RouterConfig {
        RouterConfig(version: .v3, vrid: 0, priority: ProtocolConstants.ownerPriority, advertInterval: idleInterval,
                     primaryAddress: placeholder, addresses: addresses, preempt: true, takeover: .auto,
                     handoverReleaseDelay: .zero)
    }

    /// The inputs the core gets for `input` in an anycast instance, in order:
    /// - a graceful stop withdraws at once (there is no new Master to wait for): the stop, which
    ///   would wait for a new Master, then a fault, which ends a stopping Master's wait and takes it
    ///   straight to Initialize (hooks see MASTER then STOP, no FAULT in between);
    /// - advertisements, handover, its cancellation, takeover approval and priority changes belong
    ///   to an election and are dropped;
    /// - start, timeouts and faults pass unchanged.
    public static func inputs(for input: RouterInput) -> [RouterInput] {
        switch input {
        case .start, .timeout, .fault:
            return [input]
        case .shutdown:
            return [.shutdown, .fault(active: true, reason: stopFault, linkDown: true)]
        case .advertisement, .priorityChanged, .handover, .cancelHandover, .approveTakeover:
            return []
        }
    }

    /// The fault reason a graceful stop raises (never shown: the stop follows at once).
    public static let stopFault = "stopping"

    /// How a state change of an anycast instance is explained in logs, status and hooks: the core
    /// enters Master as an address owner, which here means "tracking passes".
    public static func describe(_ reason: TransitionReason) -> String {
        switch reason {
        case .addressOwner: "tracking passes (election: none)"
        case .faultCleared: "fault cleared: tracking passes (election: none)"
        case .fault(let why) where why == stopFault: "stopping (election: none withdraws at once)"
        default: reason.description
        }
    }
}
