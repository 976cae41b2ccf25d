// "Overload never looks like failure" (docs/design.md, "Overload: drain before expiry"): a Backup
// must not declare its Master down while advertisements sit unread in its socket. When a router's
// timer fires and its Master_Down_Timer has expired, the daemon first reads everything queued on
// that router's socket (which serves every router sharing it) and feeds it in; only a timer that is
// still expired afterwards counts. A queued advertisement is taken as heard when it is read, like
// any other: after a long stall the takeover can come one Master_Down_Interval later than the
// Master's death, never earlier than its last advertisement the node had received.

import VRRP

public struct DrainBeforeExpiry: Hashable, Sendable {
    /// Off only in tests that show what the rule prevents (the daemon simulation's checker test).
    public var enabled: Bool

    public init(enabled: Bool = true) { self.enabled = enabled }

    /// Before giving `router` a `.timeout` at `now`: must its socket be drained first? Only when the
    /// timeout would act on an expired Master_Down_Timer (a takeover, or a request for approval);
    /// a Master's Adver_Timer and the other timers never wait for the socket.
    public func mustDrain(_ router: Router, now: Instant) -> Bool {
        enabled && router.masterDownExpired(at: now)
    }

    /// After the drain, at `now` (the time after reading): whether the expiry still stands.
    public func outcome(_ router: Router, now: Instant) -> ExpiryOutcome {
        router.masterDownExpired(at: now) ? .confirmed : .withdrawn
    }
}

public enum ExpiryOutcome: Hashable, Sendable {
    /// Nothing read restarted the timer: the Master is down as far as this node can tell.
    case confirmed
    /// The drained advertisements restarted (or ended) the timer: the Master was heard, the expiry
    /// was only the node being late.
    case withdrawn
}
