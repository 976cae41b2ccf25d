import Testing
@testable import VIPDDaemon
import VRRP

/// realtime_cpu_limit: what the daemon decides after SIGXCPU, and when it may be real-time again.
@Suite struct RealtimeCPULimitTests {
    private let t0 = Instant(nanoseconds: 1_000_000_000_000)

    @Test(arguments: [(Duration.milliseconds(10), UInt64(10_000), UInt64(1_010_000)),
                      (.milliseconds(200), 200_000, 1_200_000), (.seconds(1), 1_000_000, 2_000_000),
                      (.seconds(60), 60_000_000, 61_000_000)])
    func softIsTheLimitAndTheKernelKillsOnlyASecondLater(_ limit: Duration, _ soft: UInt64, _ hard: UInt64) {
        let rlimit = RealtimeCPULimit.rlimit(limit)
        #expect(rlimit.soft == soft)
        #expect(rlimit.hard == hard)
    }

    @Test func aRealTimeLoopFallsBackOnceAndIsReportedOnce() {
        var limit = RealtimeCPULimit()
        #expect(limit.priority(configured: 10) == 10)
        #expect(limit.exceeded(atPriority: 10) == .fellBack(from: 10))
        #expect(limit.priority(configured: 10) == 0)
        // A second SIGXCPU (sent by hand, or from before the fallback) reports nothing new.
        #expect(limit.exceeded(atPriority: limit.priority(configured: 10)) == .alreadyNormal)
        #expect(limit.exceeded(atPriority: 10) == .alreadyNormal)
    }

    @Test func onNormalSchedulingThereIsNothingToUndo() {
        var limit = RealtimeCPULimit()
        #expect(limit.exceeded(atPriority: 0) == .alreadyNormal)
        #expect(!limit.reloadMustReapply)
        #expect(limit.priority(configured: 0) == 0)
    }

    /// Until the next reload, which applies the configured scheduling again even though nothing in
    /// the file changed.
    @Test func aReloadMakesTheLoopRealTimeAgain() {
        var limit = RealtimeCPULimit()
        #expect(!limit.reloadMustReapply, "nothing to reapply before a fallback")
        _ = limit.exceeded(atPriority: 5)
        #expect(limit.reloadMustReapply)
        limit.reapplied()
        #expect(!limit.reloadMustReapply)
        #expect(limit.priority(configured: 5) == 5)
        #expect(limit.exceeded(atPriority: 5) == .fellBack(from: 5), "and the guard holds again")
    }

    /// max_auto_priority after a fallback: no raise however late the timers run, until a reload
    /// starts a new AutoPriority from the configured scheduling.
    @Test func maxAutoPriorityDoesNotRaiseAfterAFallback() {
        var auto = AutoPriority(base: 0, maximum: 5, threshold: .milliseconds(5), quietUntil: t0)
        var limit = RealtimeCPULimit()
        #expect(auto.timerRan(late: .milliseconds(50), at: t0) == 1)
        #expect(auto.timerRan(late: .milliseconds(50), at: t0 + AutoPriority.holdOff) == 2)
        #expect(limit.exceeded(atPriority: limit.priority(configured: auto.current)) == .fellBack(from: 2))
        auto.fellBack()
        #expect(auto.current == 0)
        #expect(limit.priority(configured: auto.current) == 0)
        for second in 2...10 {
            #expect(auto.timerRan(late: .milliseconds(500), at: t0 + .seconds(second)) == nil)
        }
        #expect(auto.current == 0)
        // The reload: a fresh AutoPriority, and the first raise sets the limit again.
        limit.reapplied()
        var fresh = AutoPriority(base: 0, maximum: 5, threshold: .milliseconds(5), quietUntil: t0 + .seconds(20))
        let first = fresh.timerRan(late: .milliseconds(50), at: t0 + .seconds(20))
        #expect(first == 1)
        #expect(first.map(RealtimeCPULimit.raiseNeedsLimit(to:)) == true)
    }

    /// The limit is set when the loop leaves normal scheduling: max_auto_priority's first step
    /// without realtime_priority. With realtime_priority the loop is real-time (and limited) from
    /// the start, and later steps keep the limit in force.
    @Test func onlyTheStepFromNormalSchedulingSetsTheLimit() {
        var fromNormal = AutoPriority(base: 0, maximum: 3, threshold: .milliseconds(5), quietUntil: t0)
        var steps: [Int32] = []
        for second in 0..<3 {
            if let p = fromNormal.timerRan(late: .milliseconds(50), at: t0 + .seconds(second)) { steps.append(p) }
        }
        #expect(steps == [1, 2, 3])
        #expect(steps.map(RealtimeCPULimit.raiseNeedsLimit(to:)) == [true, false, false])
        var fromBase = AutoPriority(base: 4, maximum: 6, threshold: .milliseconds(5), quietUntil: t0)
        #expect(fromBase.timerRan(late: .milliseconds(50), at: t0).map(RealtimeCPULimit.raiseNeedsLimit(to:)) == false)
    }
}
