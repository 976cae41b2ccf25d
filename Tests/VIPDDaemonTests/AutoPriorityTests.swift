import Testing
@testable import VIPDDaemon
import VRRP

/// keepalived's max_auto_priority: one SCHED_RR step per stall, never above the maximum, never
/// during the hold-off after a raise or after start.
@Suite struct AutoPriorityTests {
    private let t0 = Instant(nanoseconds: 1_000_000_000_000)

    private func policy(base: Int32 = 0, maximum: Int32 = 3, quietUntil: Instant? = nil) -> AutoPriority {
        AutoPriority(base: base, maximum: maximum, threshold: .milliseconds(5), quietUntil: quietUntil ?? t0)
    }

    @Test func lateByTheThresholdRaisesOneStep() {
        var auto = policy()
        #expect(auto.timerRan(late: .milliseconds(4), at: t0) == nil)
        #expect(auto.current == 0)
        #expect(auto.timerRan(late: .milliseconds(5), at: t0) == 1)
        #expect(auto.current == 1)
    }

    @Test func catchingUpAfterARaiseDoesNotRaiseAgain() {
        var auto = policy()
        #expect(auto.timerRan(late: .milliseconds(60), at: t0) == 1)
        // The timers that fell due during the same stall, while the loop catches up.
        #expect(auto.timerRan(late: .milliseconds(55), at: t0 + .milliseconds(1)) == nil)
        #expect(auto.timerRan(late: .milliseconds(30), at: t0 + .milliseconds(999)) == nil)
        // A new stall after the hold-off is a new step.
        #expect(auto.timerRan(late: .milliseconds(30), at: t0 + AutoPriority.holdOff) == 2)
        #expect(auto.current == 2)
    }

    @Test func neverAboveTheMaximum() {
        var auto = policy(maximum: 2)
        var now = t0
        var raises: [Int32] = []
        for _ in 0..<5 {
            if let p = auto.timerRan(late: .milliseconds(50), at: now) { raises.append(p) }
            now = now + AutoPriority.holdOff
        }
        #expect(raises == [1, 2])
        #expect(auto.current == 2)
    }

    @Test func startsFromRealtimePriority() {
        var auto = policy(base: 5, maximum: 7)
        #expect(auto.current == 5)
        #expect(auto.timerRan(late: .milliseconds(50), at: t0) == 6)
        // A maximum not above the base never raises (check-config warns about it).
        var none = policy(base: 7, maximum: 7)
        #expect(none.timerRan(late: .seconds(1), at: t0) == nil)
    }

    @Test func quietDuringStartWork() {
        let started = t0
        var auto = policy(quietUntil: started + AutoPriority.holdOff)
        #expect(auto.timerRan(late: .milliseconds(200), at: started + .milliseconds(100)) == nil)
        #expect(auto.timerRan(late: .milliseconds(200), at: started + AutoPriority.holdOff) == 1)
    }

    @Test func aFailedRaiseStaysAndStopsTrying() {
        var auto = policy()
        #expect(auto.timerRan(late: .milliseconds(50), at: t0) == 1)
        auto.raiseFailed()
        #expect(auto.current == 0)
        #expect(auto.gaveUp)
        #expect(auto.timerRan(late: .milliseconds(50), at: t0 + .seconds(10)) == nil)
    }
}
