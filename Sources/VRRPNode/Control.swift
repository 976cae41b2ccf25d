// Operator requests on one virtual router (planned handover, its cancellation, takeover approval):
// decided here and returned as values; the daemon performs the actions and shows the results.

import VRRP

public enum HandoverResult: Hashable, Sendable, CustomStringConvertible {
    /// The Master steps aside; it does not take back until `holdSeconds` pass (nil: until cancelled).
    case steppingAside(holdSeconds: Double?)
    case cancelled
    /// Not Master here (or already stepping aside): nothing to hand over.
    case notMaster(RouterState)
    case nothingToCancel

    /// The request changed something.
    public var acted: Bool {
        switch self {
        case .steppingAside, .cancelled: true
        case .notMaster, .nothingToCancel: false
        }
    }

    public var description: String {
        switch self {
        case .steppingAside(let hold):
            "stepping aside for the best Backup" + (hold.map { "; not taking back for \($0) s" } ?? "; not taking back until `vipd handover --cancel`")
        case .cancelled: "handover cancelled; normal election resumes"
        case .notMaster(let state): "not Master here (\(state)); nothing to hand over"
        case .nothingToCancel: "no handover to cancel"
        }
    }
}

public enum ApprovalResult: Hashable, Sendable, CustomStringConvertible {
    /// The pending takeover was approved; the router is now in this state.
    case approved(now: RouterState)
    case notPending(RouterState)

    public var acted: Bool {
        if case .approved = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .approved(let state): "takeover approved (now \(state))"
        case .notPending(let state): "no takeover pending (\(state))"
        }
    }
}

public enum OperatorRequests {
    /// `vipd handover`: a Master not already stepping aside begins a planned handover, held
    /// until `holdUntil` (nil: until cancelled). Returns the core's actions and the result.
    public static func handover(_ router: inout Router, holdUntil: Instant?, holdSeconds: Double?,
                                now: Instant) -> (actions: [RouterAction], result: HandoverResult) {
        guard router.state == .master, !router.isReleasing else { return ([], .notMaster(router.state)) }
        let actions = router.handle(.handover(holdUntil: holdUntil), now: now)
        return (actions, .steppingAside(holdSeconds: holdSeconds))
    }

    /// `vipd handover --cancel`: ends a hold or a handover in progress.
    public static func cancelHandover(_ router: inout Router, now: Instant) -> (actions: [RouterAction], result: HandoverResult) {
        guard router.handoverHold || router.isReleasing else { return ([], .nothingToCancel) }
        return (router.handle(.cancelHandover, now: now), .cancelled)
    }

    /// `vipd approve`: a pending manual takeover happens.
    public static func approve(_ router: inout Router, now: Instant) -> (actions: [RouterAction], result: ApprovalResult) {
        guard router.takeoverPending else { return ([], .notPending(router.state)) }
        let actions = router.handle(.approveTakeover, now: now)
        return (actions, .approved(now: router.state))
    }

    /// The response to a request over several routers: it succeeded when any router acted.
    public static func succeeded(_ results: [some OperatorResult]) -> Bool {
        results.contains { $0.acted }
    }
}

/// A result that says whether the request changed anything.
public protocol OperatorResult {
    var acted: Bool { get }
}
extension HandoverResult: OperatorResult {}
extension ApprovalResult: OperatorResult {}
