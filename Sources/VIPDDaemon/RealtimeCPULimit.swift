// `realtime_cpu_limit` (keepalived's `vrrp_rlimit_rttime`): a guard for real-time scheduling. While
// the event loop is SCHED_RR, RLIMIT_RTTIME bounds the CPU time it may use without sleeping. At the
// soft limit the kernel sends SIGXCPU; its handler (CVIPDSystem) moves the loop back to SCHED_OTHER
// at once, and the daemon, when the loop next runs, reports it and stays on normal scheduling until
// the next reload. The hard limit, a second later, is the kernel's SIGKILL, reached only if that
// fallback failed. keepalived sets only a hard limit (and a warning at half of it) and dies there.
//
// The decisions are here, free of system calls; ProcessSettings sets the limit, the daemon
// (DaemonRealtimeCPULimit.swift) applies what this returns.

struct RealtimeCPULimit: Equatable, Sendable {
    /// How long after the soft limit the hard one comes: time for the handler to run. A loop that
    /// reaches it was not stopped by the fallback, and the kernel's SIGKILL is then the right end.
    static let killMargin: Duration = .seconds(1)

    /// RLIMIT_RTTIME for `limit`, in microseconds (its unit): soft = the limit, hard = a
    /// `killMargin` more.
    static func rlimit(_ limit: Duration) -> (soft: UInt64, hard: UInt64) {
        let soft = UInt64(max(limit.nanoseconds, 0) / 1_000)
        return (soft, soft + UInt64(killMargin.nanoseconds / 1_000))
    }

    /// Real-time scheduling was dropped since the start or the last reload that applied the
    /// configured scheduling.
    private(set) var dropped = false

    enum Outcome: Equatable, Sendable {
        /// The loop was real-time at this priority and is now on normal scheduling: report it
        /// (error log, counter, `vipd_realtime_priority` 0); `max_auto_priority` does not raise it
        /// again until the next reload.
        case fellBack(from: Int32)
        /// The loop was on normal scheduling already (a SIGXCPU sent by hand, or a second one):
        /// nothing to report.
        case alreadyNormal
    }

    /// SIGXCPU arrived while `priority` was the loop's SCHED_RR priority as the daemon knows it
    /// (0: normal scheduling).
    mutating func exceeded(atPriority priority: Int32) -> Outcome {
        guard priority > 0, !dropped else { return .alreadyNormal }
        dropped = true
        return .fellBack(from: priority)
    }

    /// The priority in force, given the one the configuration and `max_auto_priority` would have.
    func priority(configured: Int32) -> Int32 { dropped ? 0 : configured }

    /// On reload: the configured scheduling must be applied again even though no scheduling key
    /// changed, because the loop fell back from it.
    var reloadMustReapply: Bool { dropped }

    /// The configured scheduling has been applied again (a reload): the fallback is over.
    mutating func reapplied() { dropped = false }

    /// Whether the loop leaves normal scheduling when `max_auto_priority` raises it to `priority`
    /// (its first step without `realtime_priority`): the limit is set just before.
    static func raiseNeedsLimit(to priority: Int32) -> Bool { priority == 1 }
}
