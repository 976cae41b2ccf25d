// Why a virtual router is in Fault, as a value. The core keys its active faults by text; these
// render that text (the same words logs, status and notify hooks have always shown).

import VRRP

public enum FaultReason: Hashable, Sendable, CustomStringConvertible {
    /// The instance's interface is not operational.
    case linkDown(interface: String)
    /// The interface (or the macvlan holding the addresses) was deleted.
    case interfaceGone(interface: String)
    /// No usable primary address of the family on the interface yet.
    case noAddress(AddressFamily, interface: String)
    /// A tracked item with weight 0 is down.
    case trackedItemDown
    /// Another member of this sync group is in Fault by its own reason.
    case syncGroup(String)

    public var description: String {
        switch self {
        case .linkDown(let interface): "link \(interface) down"
        case .interfaceGone(let interface): "interface \(interface) gone"
        case .noAddress(.ipv4, let interface): "no IPv4 address on \(interface)"
        case .noAddress(.ipv6, let interface): "no IPv6 link-local address on \(interface)"
        case .trackedItemDown: "a tracked item with weight 0 is down"
        case .syncGroup(let group): "sync group \(group): a member is in fault"
        }
    }

    /// The link can no longer carry packets, so a Master entering Fault skips its farewell
    /// priority-0 advertisement. Tracking and sync-group faults leave the link working: the
    /// Backups then take over after Skew_Time instead of Master_Down_Interval.
    public var linkCannotCarryPackets: Bool {
        switch self {
        case .linkDown, .interfaceGone, .noAddress: true
        case .trackedItemDown, .syncGroup: false
        }
    }

    /// The core's input that raises (`active`) or clears this fault.
    public func input(active: Bool) -> RouterInput {
        .fault(active: active, reason: description, linkDown: linkCannotCarryPackets)
    }

    /// Whether `router` currently has this fault.
    public func isActive(in router: Router) -> Bool {
        router.activeFaults.contains(description)
    }

    /// The router's fault set changes (the input to feed), or nil when it already agrees.
    public func change(in router: Router, active: Bool) -> RouterInput? {
        isActive(in: router) == active ? nil : input(active: active)
    }
}
