// Tracked interfaces and scripts adjust a router's effective priority (keepalived's track_interface
// and vrrp_script semantics): a negative weight is subtracted while the item is down, a positive
// weight is added while it is up, and weight 0 puts the instance in Fault while the item is down.
// Sync groups make their members move together (see `SyncGroupRules`).

import VRRP

public enum TrackedItemKind: Hashable, Sendable {
    case interface(String)
    /// A track script, by the name it is shown and labelled with.
    case script(String)

    /// `interface` or `script` (status output).
    public var label: String {
        switch self {
        case .interface: "interface"
        case .script: "script"
        }
    }
}

public struct TrackedItem: Hashable, Sendable, CustomStringConvertible {
    public var kind: TrackedItemKind
    public var weight: Int
    public var up: Bool

    public init(kind: TrackedItemKind, weight: Int, up: Bool) {
        self.kind = kind; self.weight = weight; self.up = up
    }

    /// How logs, status and metrics name it: `interface eth1`, or the script's name.
    public var description: String {
        switch kind {
        case .interface(let name): "interface \(name)"
        case .script(let name): name
        }
    }

    /// Weight 0 and down: the instance is in Fault.
    public var demandsFault: Bool { weight == 0 && !up }

    /// What this item adds to the configured priority now.
    public var priorityOffset: Int {
        if weight < 0 && !up { return weight }
        if weight > 0 && up { return weight }
        return 0
    }
}

/// Where tracking leaves one instance.
public enum TrackingResult: Hashable, Sendable {
    /// Effective priority: the configured one adjusted, clamped to 1...254 (255 for the owner).
    case priority(UInt8)
    /// A weight-0 item is down.
    case fault

    public var priority: UInt8? {
        if case .priority(let p) = self { return p }
        return nil
    }
}

public enum Tracking {
    /// The instance's tracking result. The address owner (255) is never changed by tracking
    /// (RFC 9568 §6.1); tracking never makes a router an owner nor takes it out of the election.
    public static func result(configured: UInt8, items: [TrackedItem]) -> TrackingResult {
        if items.contains(where: \.demandsFault) { return .fault }
        if RouterConfig.isAddressOwner(priority: configured) { return .priority(configured) }
        return .priority(Router.clampBackup(Int(configured) + items.reduce(0) { $0 + $1.priorityOffset }))
    }
}

/// Rise/fall counting of a check's results (keepalived's `rise` / `fall`): `fall` failures in a
/// row take an up item down, `rise` successes in a row bring a down item up.
public struct RiseFallCounter: Hashable, Sendable {
    public let rise: Int
    public let fall: Int
    public private(set) var up: Bool
    private var successes = 0
    private var failures = 0

    /// Starts up (keepalived's default, unlike its `init_fail`). Counts below 1 count as 1.
    public init(rise: Int, fall: Int, up: Bool = true) {
        self.rise = max(rise, 1); self.fall = max(fall, 1); self.up = up
    }

    /// Records one result; returns true when `up` changed.
    public mutating func record(succeeded: Bool) -> Bool {
        if succeeded {
            successes += 1
            failures = 0
            guard !up, successes >= rise else { return false }
            up = true
        } else {
            failures += 1
            successes = 0
            guard up, failures >= fall else { return false }
            up = false
        }
        return true
    }
}
