// Sync group rules (vipd): a member's own fault (link down, interface gone, a weight-0 tracked item
// down) puts every member in Fault; and the group's worst tracking penalty applies to every
// non-owner member, so a tracked failure that moves one member's VIP moves all of them.

import VRRP

public struct SyncGroup: Hashable, Sendable {
    public var name: String
    public var members: [String]

    public init(name: String, members: [String]) { self.name = name; self.members = members }
}

/// One instance as the sync-group rules see it.
public struct TrackedInstance: Hashable, Sendable {
    public var name: String
    public var configuredPriority: UInt8
    public var tracking: TrackingResult

    public init(name: String, configuredPriority: UInt8, tracking: TrackingResult) {
        self.name = name; self.configuredPriority = configuredPriority; self.tracking = tracking
    }
}

public enum SyncGroupRules {
    /// Every instance's tracking result with its group's worst penalty applied to each non-owner
    /// member that is not in Fault. Instances in no group keep their own result.
    public static func apply(_ groups: [SyncGroup], to instances: [TrackedInstance]) -> [String: TrackingResult] {
        var results: [String: TrackingResult] = [:]
        for instance in instances { results[instance.name] = instance.tracking }
        for group in groups {
            let members = instances.filter { group.members.contains($0.name) && !RouterConfig.isAddressOwner(priority: $0.configuredPriority) }
            let penalties = members.compactMap { member in
                member.tracking.priority.map { Int($0) - Int(member.configuredPriority) }
            }
            guard let worst = penalties.min() else { continue }
            for member in members where member.tracking != .fault {
                results[member.name] = .priority(Router.clampBackup(Int(member.configuredPriority) + worst))
            }
        }
        return results
    }

    /// Which members must carry the group's fault (`FaultReason.syncGroup`): all but those in
    /// Fault by their own reasons, when any member is. `faults` gives each member's active
    /// fault reasons as the core holds them (routers of one instance may share a name).
    public static func groupFault<Member: Hashable>(_ group: SyncGroup, faults: [(member: Member, faults: Set<String>)]) -> [Member: Bool] {
        let reason = FaultReason.syncGroup(group.name).description
        let own = faults.map { ($0.member, !$0.faults.subtracting([reason]).isEmpty) }
        let anyOwnFault = own.contains { $0.1 }
        var result: [Member: Bool] = [:]
        for (member, hasOwn) in own { result[member] = anyOwnFault && !hasOwn }
        return result
    }
}
