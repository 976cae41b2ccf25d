import Testing
import VRRP

@Suite("Router: startup and timers")
struct RouterStartupTimerTests {
    @Test("RFC 9568 §6.4.1: the owner (255) starts Master at once, Adver_Timer = Advertisement_Interval")
    func ownerStartsMaster() {
        var router = Router(config: makeConfig(priority: 255))
        let actions = router.handle(.start, now: t0)
        #expect(actions == [.addAddresses, .announce, .sendAdvertisement(priority: 255),
                            .stateChanged(from: .initialize, to: .master, reason: .addressOwner)])
        #expect(router.state == .master)
        #expect(router.holdsAddresses)
        #expect(router.nextDeadline == t0 + interval1s.duration)
        #expect(router.currentMaster == addrMid)
        #expect(router.currentMasterPriority == 255)
    }

    @Test("vipd: from 100 ms on, a Master's Adver_Timer may fire 5 ms early, and re-phases")
    func adverTimerSlackRephasesFrom100ms() {
        let i100 = AdvertInterval(centiseconds: 10)
        var (router, due) = ownerDueFirst(i100, slack: .milliseconds(5))
        // Within it: sent, and the next one is one interval after the send, not after the deadline.
        let early = due - .microseconds(4_000)
        #expect(router.handle(.timeout, now: early) == [.sendAdvertisement(priority: 255)])
        #expect(router.nextDeadline == early + i100.duration)
        // Late: one interval from now.
        let late = early + i100.duration + .milliseconds(30)
        #expect(router.handle(.timeout, now: late) == [.sendAdvertisement(priority: 255)])
        #expect(router.nextDeadline == late + i100.duration)
        // 5 ms for every interval from 100 ms on; none in Backup.
        var slow = Router(config: makeConfig(priority: 255))
        _ = slow.handle(.start, now: t0)
        #expect(slow.nextDeadlineSlack == .milliseconds(5))
        #expect(Router.started(makeConfig(priority: 100)).nextDeadlineSlack == .zero)
    }

    @Test("vipd: below 100 ms, a Master's Adver_Timer may fire 1 % of the interval early, keeping the cadence")
    func adverTimerSlackKeepsTheCadenceBelow100ms() {
        let i50 = AdvertInterval(centiseconds: 5)
        var (router, due) = ownerDueFirst(i50, slack: .microseconds(500))
        // Within it: sent, and the next one is one interval after the deadline, not after now.
        #expect(router.handle(.timeout, now: due - .microseconds(400)) == [.sendAdvertisement(priority: 255)])
        #expect(router.nextDeadline == due + i50.duration)
        // Late: one interval from now.
        let late = due + i50.duration + .milliseconds(30)
        #expect(router.handle(.timeout, now: late) == [.sendAdvertisement(priority: 255)])
        #expect(router.nextDeadline == late + i50.duration)
        // 1 % of a 10 ms and of a 90 ms interval.
        var fast = Router(config: makeConfig(priority: 255, interval: AdvertInterval(centiseconds: 1)))
        _ = fast.handle(.start, now: t0)
        #expect(fast.nextDeadlineSlack == .microseconds(100))
        var ninety = Router(config: makeConfig(priority: 255, interval: AdvertInterval(centiseconds: 9)))
        _ = ninety.handle(.start, now: t0)
        #expect(ninety.nextDeadlineSlack == .microseconds(900))
    }

    /// An address owner started at t0 (Master at once), its first Adver_Timer deadline, checked to
    /// carry `slack` and not to fire 1 µs before that slack.
    private func ownerDueFirst(_ interval: AdvertInterval, slack: Duration) -> (Router, Instant) {
        var router = Router(config: makeConfig(priority: 255, interval: interval))
        _ = router.handle(.start, now: t0)
        let due = t0 + interval.duration
        #expect(router.nextDeadline == due)
        #expect(router.nextDeadlineSlack == slack)
        #expect(router.handle(.timeout, now: due - slack - .microseconds(1)) == [])
        #expect(router.nextDeadline == due)
        return (router, due)
    }

    /// A loop that wakes for the earliest deadline of two Masters `offset` apart and gives both a
    /// timeout there; returns how many advertisements each wakeup sent, checking every gap.
    private func twoMasters(interval: AdvertInterval, offset: Duration, wakeups: Int) -> (perWakeup: [Int], aligned: Bool) {
        var a = Router(config: makeConfig(priority: 255, interval: interval))
        var b = Router(config: makeConfig(priority: 255, interval: interval))
        _ = a.handle(.start, now: t0)
        _ = b.handle(.start, now: t0 + offset)
        var lastSent: [Instant] = [t0, t0 + offset]
        var perWakeup: [Int] = []
        for _ in 0..<wakeups {
            let now = min(a.nextDeadline!, b.nextDeadline!)
            let both = [a.handle(.timeout, now: now), b.handle(.timeout, now: now)]
            perWakeup.append(both.filter { !$0.isEmpty }.count)
            for (i, sent) in both.enumerated() where !sent.isEmpty {
                #expect(now - lastSent[i] <= interval.duration)
                #expect(now - lastSent[i] >= interval.duration - a.nextDeadlineSlack - .milliseconds(5))
                lastSent[i] = now
            }
        }
        return (perWakeup, a.nextDeadline == b.nextDeadline)
    }

    @Test("vipd: from 100 ms on, two Masters whose adverts fall due within the slack go out together and stay together; no gap exceeds the interval")
    func earlyAdvertsAlignAndNeverWidenAGap() {
        let run = twoMasters(interval: AdvertInterval(centiseconds: 10), offset: .microseconds(1_700), wakeups: 20)
        #expect(run.aligned)
        #expect(run.perWakeup == Array(repeating: 2, count: 20))
    }

    @Test("vipd: below 100 ms, two Masters 0.7 ms apart keep their own cadence (no burst of every router)")
    func shortIntervalsDoNotAlign() {
        let run = twoMasters(interval: AdvertInterval(centiseconds: 1), offset: .microseconds(700), wakeups: 20)
        #expect(!run.aligned)
        #expect(run.perWakeup == Array(repeating: 1, count: 20))
    }

    @Test("RFC 9568 §6.4.1: a non-owner starts Backup with Master_Down_Timer = Master_Down_Interval")
    func nonOwnerStartsBackup() {
        var router = Router(config: makeConfig(priority: 100))
        let actions = router.handle(.start, now: t0)
        #expect(actions == [.stateChanged(from: .initialize, to: .backup, reason: .startup)])
        #expect(router.state == .backup)
        #expect(!router.holdsAddresses)
        #expect(router.masterAdvertInterval == interval1s)
        #expect(router.nextDeadline == t0 + expectedMasterDown(priority: 100, intervalCs: 100))
    }

    @Test("vipd extension: a fault active at startup makes the router start in Fault")
    func startWithFault() {
        var router = Router(config: makeConfig(priority: 255))
        #expect(router.handle(.fault(active: true, reason: "link"), now: t0) == [])
        #expect(router.state == .initialize)
        let actions = router.handle(.start, now: t0)
        #expect(actions == [.stateChanged(from: .initialize, to: .fault, reason: .fault("link"))])
        #expect(router.nextDeadline == nil)
        #expect(!router.holdsAddresses)
    }

    @Test("RFC 9568 §6.4.1: the Startup event only applies in Initialize")
    func startTwiceIsNoOp() {
        var router = Router.started(makeConfig())
        let deadline = router.nextDeadline
        #expect(router.handle(.start, now: t0 + .seconds(1)) == [])
        #expect(router.nextDeadline == deadline)
        #expect(router.transitionCount == 1)
    }

    @Test("Initialize schedules nothing and ignores timeouts")
    func initializeSchedulesNothing() {
        var router = Router(config: makeConfig())
        #expect(router.nextDeadline == nil)
        #expect(router.handle(.timeout, now: t0 + .seconds(100)) == [])
        #expect(router.state == .initialize)
    }

    @Test("RFC 9568 §6.1: Master_Down_Interval at the extremes of priority and interval",
          arguments: [(UInt8(1), UInt16(1)), (1, 4095), (254, 1), (254, 4095), (100, 100)])
    func masterDownExtremes(_ pair: (UInt8, UInt16)) {
        let (priority, cs) = pair
        let router = Router.started(makeConfig(priority: priority, interval: AdvertInterval(centiseconds: cs)))
        let expected = expectedMasterDown(priority: Int64(priority), intervalCs: Int64(cs))
        #expect(router.nextDeadline == t0 + expected)
        #expect(router.masterDownInterval == expected)
    }

    @Test("RFC 9568 §6.1: the hand-computed extremes (µs) are what the router arms")
    func masterDownExtremeValues() {
        #expect(Router.started(makeConfig(priority: 254, interval: .init(centiseconds: 1))).masterDownInterval == micros(30_078))
        #expect(Router.started(makeConfig(priority: 1, interval: .init(centiseconds: 1))).masterDownInterval == micros(39_960))
        #expect(Router.started(makeConfig(priority: 1, interval: .maximumV3)).masterDownInterval == micros(163_640_039))
        #expect(Router.started(makeConfig(priority: 254, interval: .maximumV3)).masterDownInterval == micros(123_169_921))
    }

    @Test("RFC 3768 §6.1: v2 Skew_Time is (256 − Priority)/256 s whatever the interval")
    func v2Skew() {
        let router = Router.started(makeConfig(priority: 100, interval: AdvertInterval(seconds: 3), version: .v2))
        #expect(router.masterDownInterval == .seconds(9) + micros(609_375))
    }

    @Test("RFC 9568 §6.4.2: a timeout before Master_Down_Timer is a harmless no-op (sans-I/O)")
    func earlyTimeoutIsNoOp() {
        var router = Router.started(makeConfig())
        let deadline = router.nextDeadline!
        #expect(router.handle(.timeout, now: deadline + .nanoseconds(-1)) == [])
        #expect(router.state == .backup)
        #expect(router.nextDeadline == deadline)
    }

    @Test("RFC 9568 §6.4.2: Master_Down_Timer expiry makes the Backup Master (addAddresses, announce, advertise)")
    func masterDownExpiry() {
        var router = Router.started(makeConfig(priority: 100))
        let deadline = router.nextDeadline!
        let actions = router.handle(.timeout, now: deadline)
        #expect(actions == [.addAddresses, .announce, .sendAdvertisement(priority: 100),
                            .stateChanged(from: .backup, to: .master, reason: .masterDown)])
        #expect(router.nextDeadline == deadline + interval1s.duration)
        #expect(router.holdsAddresses)
    }

    @Test("RFC 9568 §6.4.3: Adver_Timer expiry sends an advertisement and re-arms")
    func adverTimer() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        var now = at
        for step in 1...3 {
            now = router.nextDeadline!
            #expect(now == at + interval1s.duration * step)
            #expect(router.handle(.timeout, now: now) == [.sendAdvertisement(priority: 100)])
        }
        #expect(router.nextDeadline == now + interval1s.duration)
    }

    @Test("sans-I/O: a late timeout fires once and re-arms from now")
    func lateTimeoutFiresOnce() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let late = at + .milliseconds(5_500)
        #expect(router.handle(.timeout, now: late) == [.sendAdvertisement(priority: 100)])
        #expect(router.nextDeadline == late + interval1s.duration)
        #expect(router.handle(.timeout, now: late) == [])
    }

    @Test("One transition function: count and last transition are recorded")
    func transitionBookkeeping() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        #expect(router.transitionCount == 2)
        #expect(router.lastTransition == RouterTransition(at: at, from: .backup, to: .master, reason: .masterDown))
        _ = router.receive(advert(200), from: addrHigh, at: at + .milliseconds(10))
        #expect(router.transitionCount == 3)
        #expect(router.lastTransition?.to == .backup)
    }
}
