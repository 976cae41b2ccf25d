// "Timer batching" (docs/design.md): how early the daemon's loop may run a router's timer when it is
// awake anyway, so that a daemon with many routers wakes once for many of them instead of once each.
// Running a timer early is never a change of behaviour here: the core's `.timeout` before a deadline
// does nothing, except a Master's advertisement within the core's own `nextDeadlineSlack`.
//
// - A Master's Adver_Timer: the core's `nextDeadlineSlack` (1 % of the interval below 100 ms,
//   keeping the cadence; 5 ms from 100 ms on, where the next advertisement is due one interval
//   after the early one, so routers sent in one wakeup stay together).
// - A Backup's timer (the lazy Master_Down check): up to one Master_Adver_Interval early. The
//   daemon leaves its timer set at an old Master_Down deadline while advertisements move the
//   core's later; the check finds the deadline moved and sets the timer again. Early, it runs in a
//   wakeup the Backup has anyway (the Master's adverts arrive every interval) and costs none of
//   its own.
// - A timer that ran early and found its deadline where it was (nothing moved it: a Master_Down
//   that is about to expire for real) is set again without slack. The real expiry therefore runs
//   at its deadline exactly as without batching, and a timer cannot run early again and again.

import VRRP

public enum TimerBatching {
    /// The slack of the loop timer to set for `router.nextDeadline`. `earlyRunDeadline`: the
    /// deadline of the router's previous loop timer when that timer ran before it (nil when it ran
    /// on time or late, or when no timer ran).
    public static func slack(for router: Router, earlyRunDeadline: Instant?) -> Duration {
        guard let deadline = router.nextDeadline else { return .zero }
        if let earlyRunDeadline, earlyRunDeadline == deadline { return .zero }
        let core = router.nextDeadlineSlack
        if core > .zero { return core }
        return router.state == .backup ? router.masterAdvertInterval.duration : .zero
    }
}
