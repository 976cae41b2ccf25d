// Inputs, outputs and settings of the per-virtual-router state machine (`Router`).
//
// Vocabulary: vipd says Master/Backup like keepalived and RFC 3768/5798. RFC 9568 renamed Master to
// "Active"; the behaviour is the same.

/// Protocol state of one virtual router.
public enum RouterState: String, Hashable, Sendable, CustomStringConvertible {
    /// Not started, or stopped (RFC 9568 §6.4.1).
    case initialize
    /// Listening for the Master (§6.4.2).
    case backup
    /// Holding the addresses and advertising (§6.4.3, "Active" in RFC 9568).
    case master
    /// Not participating because the interface is down or a tracked item demands it (keepalived's
    /// FAULT). Holds nothing and sends nothing; leaves when the fault clears.
    case fault

    public var description: String {
        switch self {
        case .initialize: "Initialize"
        case .backup: "Backup"
        case .master: "Master"
        case .fault: "Fault"
        }
    }
}

/// Whether a Backup may take the addresses by itself.
public enum TakeoverMode: String, Hashable, Sendable {
    /// RFC behaviour.
    case auto
    /// A Backup that would take over (Master gone or outranked) waits for an operator's approval.
    case manual
}

/// Settings of one virtual router, as the protocol needs them.
public struct RouterConfig: Hashable, Sendable {
    public var version: VRRPVersion
    public var vrid: UInt8
    /// Configured priority, 1...255. 255 makes this router the address owner.
    public var priority: UInt8
    /// Advertisement_Interval we send with as Master.
    public var advertInterval: AdvertInterval
    /// Our primary address of the family (IPv4 primary or IPv6 link-local), used for the
    /// equal-priority tie-break (RFC 9568 §6.4.3) and to recognise our own packets.
    public var primaryAddress: IPAddress
    /// Virtual addresses (prefix lengths matter only to the data plane).
    public var addresses: [AddressPrefix]
    public var preempt: Bool
    /// keepalived's `preempt_delay`: how long a Backup tolerates a lower-priority Master before preempting.
    public var preemptDelay: Duration
    /// Accept_Mode (RFC 9568 §6.1). Carried for the data plane; the protocol itself does not change.
    public var acceptMode: Bool
    /// v2 only.
    public var authentication: Authentication
    public var takeover: TakeoverMode
    /// How long a stepping-aside Master keeps its addresses after it hears the new Master, so that
    /// packets already in flight towards it are still answered (vipd's zero-loss handover).
    public var handoverReleaseDelay: Duration
    /// Packets already in flight on the LAN take far less than this.
    public static let defaultHandoverReleaseDelay: Duration = .milliseconds(20)

    public init(version: VRRPVersion = .v3, vrid: UInt8, priority: UInt8 = ProtocolConstants.defaultPriority,
                advertInterval: AdvertInterval = AdvertInterval(centiseconds: 100), primaryAddress: IPAddress,
                addresses: [AddressPrefix], preempt: Bool = true, preemptDelay: Duration = .zero,
                acceptMode: Bool = false, authentication: Authentication = .none, takeover: TakeoverMode = .auto,
                handoverReleaseDelay: Duration = defaultHandoverReleaseDelay) {
        self.version = version; self.vrid = vrid; self.priority = priority
        self.advertInterval = advertInterval; self.primaryAddress = primaryAddress
        self.addresses = addresses; self.preempt = preempt; self.preemptDelay = preemptDelay
        self.acceptMode = acceptMode; self.authentication = authentication; self.takeover = takeover
        self.handoverReleaseDelay = handoverReleaseDelay
    }

    public var isAddressOwner: Bool { Self.isAddressOwner(priority: priority) }
    /// Priority 255 makes a router the owner of its virtual addresses (RFC 9568 §1, §6.1).
    public static func isAddressOwner(priority: UInt8) -> Bool { priority == ProtocolConstants.ownerPriority }
    public var family: AddressFamily { primaryAddress.family }
}

/// Why a state changed; shown in logs, status and notify hooks.
public enum TransitionReason: Hashable, Sendable, CustomStringConvertible {
    case startup
    case addressOwner
    case masterDown
    case masterStopped
    case preempting(lowerPriority: UInt8)
    case higherPriorityMaster(priority: UInt8, from: IPAddress)
    case equalPriorityHigherAddress(from: IPAddress)
    case handoverComplete(newMaster: IPAddress)
    case handoverTimedOut
    case handoverCancelled
    case takeoverApproved
    case fault(String)
    case faultCleared
    case shutdown

    public var description: String {
        switch self {
        case .startup: "startup"
        case .addressOwner: "address owner (priority 255)"
        case .masterDown: "master down timer expired"
        case .masterStopped: "master sent priority 0"
        case .preempting(let p): "preempting lower-priority master (priority \(p))"
        case .higherPriorityMaster(let p, let from): "higher-priority master \(from) (priority \(p))"
        case .equalPriorityHigherAddress(let from): "equal-priority master \(from) has the higher address"
        case .handoverComplete(let to): "handover to \(to) complete"
        case .handoverTimedOut: "handover timed out with no new master"
        case .handoverCancelled: "handover cancelled"
        case .takeoverApproved: "takeover approved by operator"
        case .fault(let why): "fault: \(why)"
        case .faultCleared: "fault cleared"
        case .shutdown: "shutdown"
        }
    }
}

/// Why a received packet was not used. Parse errors come from the codec; the rest from the
/// virtual router's own checks (RFC 9568 §7.1, RFC 3768 §7.1). The node's receive rules (unicast
/// peers, TTL) have their own reasons: VRRPNode's `ReceiveDrop`.
public enum DropReason: Hashable, Sendable, CustomStringConvertible {
    case malformed(ParseError)
    /// v2: the packet's authentication differs from ours (RFC 3768 §7.1).
    case authenticationMismatch
    /// v2: Adver Int differs from ours (RFC 3768 §7.1 requires dropping it).
    case intervalMismatch
    /// The version differs from the virtual router's.
    case versionMismatch
    /// The address family differs from the virtual router's.
    case familyMismatch
    /// A packet we sent ourselves (looped back).
    case ownPacket
    /// No virtual router with this VRID on the interface.
    case unknownVRID

    /// Stable label for metrics and status (`snake_case`).
    public var label: String {
        switch self {
        case .malformed(let e): e.label
        case .authenticationMismatch: "auth_mismatch"
        case .intervalMismatch: "interval_mismatch"
        case .versionMismatch: "version_mismatch"
        case .familyMismatch: "family_mismatch"
        case .ownPacket: "own_packet"
        case .unknownVRID: "unknown_vrid"
        }
    }
    public var description: String { label }
}

/// An event for the state machine. `now` travels beside it.
public enum RouterInput: Hashable, Sendable {
    /// Startup event (RFC 9568 §6.4.1).
    case start
    /// A decoded advertisement for this VRID from `source` (the IP source address).
    case advertisement(Advertisement, source: IPAddress)
    /// Called when `nextDeadline` has passed; calling it early is a harmless no-op.
    case timeout
    /// A fault condition (link down, tracked item) starts or ends. Faults are keyed by `reason`;
    /// while any is active the router is in Fault. `linkDown` says the link can no longer carry
    /// packets: a Master entering Fault then skips its farewell priority-0 advertisement (it could
    /// not be sent). For a tracked item on a working link leave it false, so the Backups take over
    /// after Skew_Time instead of Master_Down_Interval. Ignored when `active` is false.
    case fault(active: Bool, reason: String, linkDown: Bool = false)
    /// The effective priority changed (tracking). Ignored for the address owner.
    case priorityChanged(UInt8)
    /// Graceful stop: a Master advertises priority 0 and keeps its addresses until the new Master
    /// is heard (or Master_Down_Interval passes), then releases them and stops (Initialize).
    case shutdown
    /// Planned handover: like shutdown, but the router then stays Backup without preempting until
    /// `holdUntil` (nil = until `cancelHandover`).
    case handover(holdUntil: Instant?)
    case cancelHandover
    /// Operator approval for a pending manual takeover.
    case approveTakeover
}

/// What the caller must do, in order.
public enum RouterAction: Hashable, Sendable {
    /// Send an advertisement with this priority (everything else comes from the config).
    case sendAdvertisement(priority: UInt8)
    /// Put the virtual addresses on the interface.
    case addAddresses
    /// Take the virtual addresses off the interface.
    case removeAddresses
    /// Announce the addresses (gratuitous ARP / unsolicited NA burst).
    case announce
    /// The state changed.
    case stateChanged(from: RouterState, to: RouterState, reason: TransitionReason)
    /// Manual takeover: waiting for approval began (true) or ended (false).
    case takeoverPending(Bool)
    /// A received advertisement was not used.
    case dropped(DropReason)
}
