import Testing
import VRRP

@Suite("Router: shutdown and planned handover")
struct RouterReleaseTests {
    @Test("RFC 9568 §6.4.3 + vipd release: shutdown as Master sends priority 0 and keeps the addresses")
    func shutdownStartsRelease() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(100)
        #expect(router.handle(.shutdown, now: now) == [.sendAdvertisement(priority: 0)])
        #expect(router.isReleasing)
        #expect(router.holdsAddresses)
        #expect(router.state == .master)
        #expect(router.nextDeadline == now + interval1s.duration)
        // Repeated every Advertisement_Interval while releasing (covers loss).
        #expect(router.handle(.timeout, now: now + interval1s.duration) == [.sendAdvertisement(priority: 0)])
    }

    @Test("vipd release: the new Master is heard → addresses kept for handoverReleaseDelay, then Initialize")
    func shutdownCompletes() {
        var (router, at) = Router.master(makeConfig(priority: 100, releaseDelay: .milliseconds(20)))
        _ = router.handle(.shutdown, now: at)
        let heard = at + .milliseconds(700)
        #expect(router.receive(advert(90), from: addrHigh, at: heard) == [])
        #expect(router.holdsAddresses)
        #expect(router.nextDeadline == heard + .milliseconds(20))
        #expect(router.handle(.timeout, now: heard + .milliseconds(19)) == [])
        let actions = router.handle(.timeout, now: heard + .milliseconds(20))
        #expect(actions == [.removeAddresses,
                            .stateChanged(from: .master, to: .initialize, reason: .handoverComplete(newMaster: addrHigh))])
        #expect(router.nextDeadline == nil)
        #expect(!router.isReleasing)
    }

    @Test("vipd release: a zero release delay removes the addresses on the new Master's first advert")
    func zeroReleaseDelay() {
        var (router, at) = Router.master(makeConfig(priority: 100, releaseDelay: .zero))
        _ = router.handle(.shutdown, now: at)
        #expect(router.receive(advert(150), from: addrHigh, at: at + .milliseconds(5)).first == .removeAddresses)
        #expect(router.state == .initialize)
    }

    @Test("vipd release: priority-0 adverts from others don't count as a new Master; higher ones don't demote")
    func releasingIgnoresOthers() {
        var (router, at) = Router.master(makeConfig(priority: 100, releaseDelay: .milliseconds(50)))
        _ = router.handle(.shutdown, now: at)
        #expect(router.receive(advert(0), from: addrHigh, at: at + .milliseconds(1)) == [])
        #expect(router.receive(advert(200), from: addrHigh, at: at + .milliseconds(2)) == [])
        #expect(router.state == .master && router.holdsAddresses)
        // The release delay counts from the first advert heard, not the latest.
        _ = router.receive(advert(200), from: addrHigh, at: at + .milliseconds(30))
        #expect(router.nextDeadline == at + .milliseconds(52))
    }

    @Test("vipd release: no new Master within the Master_Down_Interval of priority 1 → Initialize (timed out)")
    func shutdownTimesOut() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        _ = router.handle(.shutdown, now: at)
        #expect(router.releaseTimeout == expectedMasterDown(priority: 1, intervalCs: 100))
        var now = at
        var last: [RouterAction] = []
        while let next = router.nextDeadline {
            now = next
            last = router.handle(.timeout, now: now)
        }
        #expect(now == at + router.releaseTimeout)
        #expect(last.contains(.removeAddresses))
        #expect(last.last == .stateChanged(from: .master, to: .initialize, reason: .handoverTimedOut))
    }

    @Test("vipd release: shutdown as Backup or Fault goes to Initialize at once; in Initialize it is a no-op")
    func shutdownNotMaster() {
        var backup = Router.started(makeConfig())
        #expect(backup.handle(.shutdown, now: t0) == [.stateChanged(from: .backup, to: .initialize, reason: .shutdown)])
        #expect(backup.nextDeadline == nil)
        #expect(backup.handle(.shutdown, now: t0) == [])
        var faulty = Router.started(makeConfig())
        _ = faulty.handle(.fault(active: true, reason: "x"), now: t0)
        #expect(faulty.handle(.shutdown, now: t0) == [.stateChanged(from: .fault, to: .initialize, reason: .shutdown)])
    }

    @Test("vipd release: a second shutdown while releasing changes nothing")
    func doubleShutdown() {
        var (router, at) = Router.master(makeConfig())
        _ = router.handle(.shutdown, now: at)
        let deadline = router.nextDeadline
        #expect(router.handle(.shutdown, now: at + .milliseconds(10)) == [])
        #expect(router.nextDeadline == deadline)
        #expect(router.isReleasing)
    }

    @Test("vipd release: a fault while releasing for shutdown finishes the shutdown (Initialize)")
    func faultDuringShutdownRelease() {
        var (router, at) = Router.master(makeConfig())
        _ = router.handle(.shutdown, now: at)
        let actions = router.handle(.fault(active: true, reason: "link", linkDown: true), now: at + .milliseconds(10))
        #expect(actions == [.removeAddresses, .stateChanged(from: .master, to: .initialize, reason: .fault("link"))])
        #expect(router.nextDeadline == nil)
    }

    @Test("vipd release: a restarted router after shutdown starts afresh")
    func restartAfterShutdown() {
        var backup = Router.started(makeConfig())
        _ = backup.handle(.shutdown, now: t0)
        let now = t0 + .seconds(10)
        #expect(backup.handle(.start, now: now).last == .stateChanged(from: .initialize, to: .backup, reason: .startup))
        #expect(backup.nextDeadline == now + backup.masterDownInterval)
    }

    // MARK: Planned handover

    @Test("vipd handover: Master releases, then stays Backup with a hold that blocks preemption")
    func handoverHoldBlocksPreempt() {
        var (router, at) = Router.master(makeConfig(priority: 200, releaseDelay: .milliseconds(20)))
        #expect(router.handle(.handover(holdUntil: nil), now: at) == [.sendAdvertisement(priority: 0)])
        #expect(router.handoverHold)
        _ = router.receive(advert(100, interval: .init(centiseconds: 50)), from: addrHigh, at: at + .milliseconds(10))
        let actions = router.handle(.timeout, now: at + .milliseconds(30))
        #expect(actions == [.removeAddresses,
                            .stateChanged(from: .master, to: .backup, reason: .handoverComplete(newMaster: addrHigh))])
        #expect(router.currentMaster == addrHigh)
        #expect(router.masterAdvertInterval == AdvertInterval(centiseconds: 50))
        // Lower-priority adverts are followed, not preempted, while holding.
        let now = at + .seconds(1)
        #expect(router.receive(advert(100, interval: .init(centiseconds: 50)), from: addrHigh, at: now) == [])
        #expect(router.state == .backup)
        #expect(router.nextDeadline == now + expectedMasterDown(priority: 200, intervalCs: 50))
    }

    @Test("vipd handover: the hold still takes over when the new Master dies (Master_Down_Timer)")
    func handoverHoldTakesOverOnMasterDown() {
        var (router, at) = Router.master(makeConfig(priority: 200, releaseDelay: .zero))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        _ = router.receive(advert(100), from: addrHigh, at: at + .milliseconds(10))
        #expect(router.state == .backup)
        let actions = router.handle(.timeout, now: router.nextDeadline!)
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .masterDown))
        #expect(!router.handoverHold)
    }

    @Test("vipd handover: the hold ends at holdUntil; preemption resumes at the next advert")
    func handoverHoldExpires() {
        var (router, at) = Router.master(makeConfig(priority: 200, releaseDelay: .zero))
        let until = at + .seconds(2)
        _ = router.handle(.handover(holdUntil: until), now: at)
        _ = router.receive(advert(100), from: addrHigh, at: at + .milliseconds(10))
        #expect(router.nextDeadline == until)
        #expect(router.handle(.timeout, now: until) == [])
        #expect(!router.handoverHold)
        let actions = router.receive(advert(100), from: addrHigh, at: until + .milliseconds(500))
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 100)))
    }

    @Test("vipd handover: cancelHandover ends the hold; preemption resumes at the next advert")
    func cancelHold() {
        var (router, at) = Router.master(makeConfig(priority: 200, releaseDelay: .zero))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        _ = router.receive(advert(100), from: addrHigh, at: at + .milliseconds(10))
        #expect(router.handle(.cancelHandover, now: at + .milliseconds(20)) == [])
        #expect(!router.handoverHold)
        #expect(router.receive(advert(100), from: addrHigh, at: at + .seconds(1)).contains(.addAddresses))
    }

    @Test("vipd handover: nobody takes over → stay Master, advertise normally, hold cleared")
    func handoverTimesOut() {
        var (router, at) = Router.master(makeConfig(priority: 200))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        let giveUp = at + router.releaseTimeout
        var now = at
        var last: [RouterAction] = []
        while let next = router.nextDeadline, next <= giveUp {
            now = next
            last = router.handle(.timeout, now: now)
        }
        #expect(now == giveUp)
        #expect(last == [.sendAdvertisement(priority: 200)])
        #expect(router.state == .master && router.holdsAddresses && !router.isReleasing && !router.handoverHold)
        #expect(router.nextDeadline == giveUp + interval1s.duration)
    }

    @Test("vipd handover: only a Master can hand over")
    func handoverNotMaster() {
        var router = Router.started(makeConfig())
        #expect(router.handle(.handover(holdUntil: nil), now: t0) == [])
        #expect(!router.handoverHold)
    }

    @Test("vipd handover: cancel before anyone took over resumes quietly; after, it re-announces")
    func cancelDuringRelease() {
        var (quiet, at) = Router.master(makeConfig(priority: 200))
        _ = quiet.handle(.handover(holdUntil: nil), now: at)
        #expect(quiet.handle(.cancelHandover, now: at + .milliseconds(5)) == [.sendAdvertisement(priority: 200)])
        #expect(!quiet.isReleasing)
        var (loud, at2) = Router.master(makeConfig(priority: 200, releaseDelay: .seconds(1)))
        _ = loud.handle(.handover(holdUntil: nil), now: at2)
        _ = loud.receive(advert(100), from: addrHigh, at: at2 + .milliseconds(5))
        #expect(loud.handle(.cancelHandover, now: at2 + .milliseconds(6)) == [.sendAdvertisement(priority: 200), .announce])
        #expect(loud.state == .master && loud.holdsAddresses)
    }

    @Test("vipd handover: shutdown during a handover release turns it into a shutdown")
    func shutdownDuringHandover() {
        var (router, at) = Router.master(makeConfig(priority: 200, releaseDelay: .zero))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        #expect(router.handle(.shutdown, now: at + .milliseconds(1)) == [])
        let actions = router.receive(advert(100), from: addrHigh, at: at + .milliseconds(5))
        #expect(actions.last == .stateChanged(from: .master, to: .initialize, reason: .handoverComplete(newMaster: addrHigh)))
        #expect(!router.handoverHold)
    }

    @Test("vipd handover: a fault during a handover release goes to Fault and keeps the hold")
    func faultDuringHandover() {
        var (router, at) = Router.master(makeConfig(priority: 255, releaseDelay: .zero))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        let actions = router.handle(.fault(active: true, reason: "track"), now: at + .milliseconds(1))
        #expect(actions == [.sendAdvertisement(priority: 0), .removeAddresses,
                            .stateChanged(from: .master, to: .fault, reason: .fault("track"))])
        #expect(router.handoverHold)
        // The owner honours the hold when the fault clears: Backup, not Master.
        #expect(router.handle(.fault(active: false, reason: "track"), now: at + .seconds(1)).last
                == .stateChanged(from: .fault, to: .backup, reason: .faultCleared))
    }

    @Test("vipd handover: priority changes while releasing are remembered, not advertised")
    func priorityChangeWhileReleasing() {
        var (router, at) = Router.master(makeConfig(priority: 200))
        _ = router.handle(.handover(holdUntil: nil), now: at)
        #expect(router.handle(.priorityChanged(120), now: at + .milliseconds(1)) == [])
        #expect(router.effectivePriority == 120)
        #expect(router.handle(.timeout, now: router.nextDeadline!) == [.sendAdvertisement(priority: 0)])
    }
}
