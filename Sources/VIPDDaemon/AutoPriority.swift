// keepalived's `max_auto_priority`: a daemon that finds its timers running late — it was not given
// the CPU in time — raises itself to real-time scheduling, one SCHED_RR priority step at a time, up
// to the configured maximum. The decision is here, free of system calls; the daemon applies what it
// returns (`Daemon.timersRanLate`), the event loop measures the lateness.

import VRRP

struct AutoPriority: Equatable, Sendable {
    /// The priority the configuration starts from: `realtime_priority`, 0 for normal scheduling.
    let base: Int32
    /// `max_auto_priority`: never above this.
    let maximum: Int32
    /// `min_auto_priority_delay`: lateness below this is ignored (a reload may change it, keeping
    /// the priority reached).
    var threshold: Duration
    /// After a raise, lateness is ignored this long: the timers that fell due during the stall
    /// that caused the raise all run late while the loop catches up, and must not count as further
    /// stalls (which would take the daemon straight to `maximum`).
    static let holdOff: Duration = .seconds(1)

    /// The SCHED_RR priority now in force (0: normal scheduling).
    private(set) var current: Int32
    private var raisedAt: Instant?
    /// Set when a raise failed, or `realtime_cpu_limit` moved the loop back to normal scheduling:
    /// no further attempts (the daemon logged why).
    private(set) var gaveUp = false

    /// `quietUntil`: lateness before this is ignored — the daemon's own start or reload work, not
    /// a CPU it was denied (the same hold-off as after a raise).
    init(base: Int32, maximum: Int32, threshold: Duration, quietUntil: Instant) {
        self.base = base
        self.maximum = maximum
        self.threshold = threshold
        current = base
        raisedAt = quietUntil - Self.holdOff
    }

    /// A timer ran `lateness` after its deadline, noticed at `now`. Returns the priority to switch
    /// to, or nil when nothing changes.
    mutating func timerRan(late lateness: Duration, at now: Instant) -> Int32? {
        guard !gaveUp, lateness >= threshold, current < maximum else { return nil }
        if let raisedAt, now - raisedAt < Self.holdOff { return nil }
        current += 1
        raisedAt = now
        return current
    }

    /// The raise `timerRan` asked for could not be applied: stay where we were and stop trying.
    mutating func raiseFailed() {
        current -= 1
        gaveUp = true
    }

    /// `realtime_cpu_limit` moved the loop back to normal scheduling: no raise until the next
    /// reload (a loop that ran that long without sleeping would only do it again).
    mutating func fellBack() {
        current = 0
        gaveUp = true
    }
}
