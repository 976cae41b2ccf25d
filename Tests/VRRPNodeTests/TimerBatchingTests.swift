import Testing
import VRRP
@testable import VRRPNode

@Suite("Timer batching: how early the loop may run a router's timer")
struct TimerBatchingTests {
    @Test("a Master's advertisement gets the core's slack, a Backup's check one Master_Adver_Interval, the rest none")
    func slackByState() {
        let (master, _) = masterRouter()
        #expect(master.nextDeadlineSlack > .zero)
        #expect(TimerBatching.slack(for: master, earlyRunDeadline: nil) == master.nextDeadlineSlack)
        var backup = Router(config: routerConfig(priority: 100))
        _ = backup.handle(.start, now: t0)
        #expect(TimerBatching.slack(for: backup, earlyRunDeadline: nil) == backup.masterAdvertInterval.duration)
        let initial = Router(config: routerConfig(priority: 100))
        #expect(TimerBatching.slack(for: initial, earlyRunDeadline: nil) == .zero)
    }

    @Test("a timer that ran early and found its deadline unmoved is set again without slack")
    func unmovedAfterAnEarlyRunHasNoSlack() {
        var backup = Router(config: routerConfig(priority: 100))
        _ = backup.handle(.start, now: t0)
        let deadline = backup.nextDeadline!
        #expect(TimerBatching.slack(for: backup, earlyRunDeadline: deadline) == .zero)
        // Moved by an advertisement: the slack again.
        _ = backup.handle(.advertisement(advert(120), source: peer4), now: t0 + .milliseconds(10))
        #expect(TimerBatching.slack(for: backup, earlyRunDeadline: deadline) == backup.masterAdvertInterval.duration)
    }

    /// The daemon's lazy timer (`Daemon.rearm`) over a Backup that hears its Master every interval
    /// and then no more: the loop is awake for each advertisement and runs the timer there when it
    /// is within its slack.
    @Test("a Backup's checks run in the wakeups of the advertisements; the takeover comes at the real deadline")
    func backupChecksShareTheAdvertisementWakeups() {
        var router = Router(config: routerConfig(priority: 100))
        _ = router.handle(.start, now: t0)
        let interval = Duration.seconds(1)   // `advert()`'s
        var timer: (deadline: Instant, slack: Duration)?
        var ranEarlyFor: Instant?
        func rearm() {
            guard let deadline = router.nextDeadline else { timer = nil; return }
            if let set = timer, set.deadline <= deadline { return }
            timer = (deadline, TimerBatching.slack(for: router, earlyRunDeadline: ranEarlyFor))
            ranEarlyFor = nil
        }
        /// The loop awake at `now`: runs the timer if due or within its slack.
        func wakeup(_ now: Instant) -> Bool {
            guard let set = timer, set.deadline - set.slack <= now else { return false }
            timer = nil
            ranEarlyFor = now < set.deadline ? set.deadline : nil
            _ = router.handle(.timeout, now: now)
            rearm()
            return true
        }
        rearm()
        var checksInAdvertWakeups = 0
        let lastAdvert = t0 + interval * 30
        var heard = t0
        while heard <= lastAdvert {
            // The timer's own deadline comes before this advertisement: a wakeup of its own.
            if let set = timer, set.deadline < heard {
                Issue.record("the check needed a wakeup of its own at \(set.deadline)")
                _ = wakeup(set.deadline)
            }
            _ = router.handle(.advertisement(advert(120), source: peer4), now: heard)
            rearm()
            if wakeup(heard) { checksInAdvertWakeups += 1 }
            heard = heard + interval
        }
        #expect(checksInAdvertWakeups >= 9)   // one per Master_Down_Interval (3 s and a bit)
        #expect(router.state == .backup)
        // The Master is gone: the takeover is at the last advertisement plus Master_Down_Interval.
        let expiry = lastAdvert + router.masterDownInterval
        #expect(router.nextDeadline == expiry)
        // Awake every 100 ms from here (other routers): early runs change nothing, then the timer
        // waits for its deadline without slack.
        var now = lastAdvert + .milliseconds(100)
        while now < expiry {
            _ = wakeup(now)
            #expect(router.state == .backup)
            now = now + .milliseconds(100)
        }
        #expect(timer?.deadline == expiry && timer?.slack == .zero)
        #expect(wakeup(expiry))
        #expect(router.state == .master)
    }
}
