import Testing
import VRRP

@Suite("Router: faults and priority changes")
struct RouterFaultPriorityTests {
    @Test("vipd extension (tracking): priorities clamp to 1...254 for non-owners", arguments: [
        (UInt8(0), UInt8(1)), (255, 254), (1, 1), (254, 254), (180, 180),
    ])
    func priorityClamp(_ pair: (UInt8, UInt8)) {
        var router = Router.started(makeConfig(priority: 100))
        _ = router.handle(.priorityChanged(pair.0), now: t0)
        #expect(router.effectivePriority == pair.1)
    }

    @Test("RFC 9568 §5.2.4: the owner's priority never changes")
    func ownerIgnoresPriorityChange() {
        var router = Router.started(makeConfig(priority: 255))
        #expect(router.handle(.priorityChanged(50), now: t0 + .milliseconds(1)) == [])
        #expect(router.effectivePriority == 255)
    }

    @Test("vipd extension: a Master whose priority changes advertises it at once and re-arms Adver_Timer")
    func masterPriorityChange() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(400)
        #expect(router.handle(.priorityChanged(60), now: now) == [.sendAdvertisement(priority: 60)])
        #expect(router.nextDeadline == now + interval1s.duration)
        #expect(router.currentMasterPriority == 60)
        #expect(router.handle(.priorityChanged(60), now: now) == [])
    }

    @Test("vipd extension: a Backup's priority change leaves the running timer; the next reset uses it")
    func backupPriorityChange() {
        var router = Router.started(makeConfig(priority: 100))
        let deadline = router.nextDeadline
        #expect(router.handle(.priorityChanged(254), now: t0 + .milliseconds(10)) == [])
        #expect(router.nextDeadline == deadline)
        let now = t0 + .seconds(1)
        _ = router.receive(advert(255), from: addrHigh, at: now)
        #expect(router.nextDeadline == now + expectedMasterDown(priority: 254, intervalCs: 100))
    }

    @Test("vipd extension (§6.4.2 deviation): a Master lowered by tracking loses at its next advertisement")
    func trackingLoweredMasterLoses() {
        var (lowered, at) = Router.master(makeConfig(priority: 200, primary: addrLow))
        var backup = Router.started(makeConfig(priority: 150, primary: addrHigh))
        _ = backup.receive(advert(200), from: addrLow, at: at)
        let now = at + .milliseconds(200)
        let sent = lowered.handle(.priorityChanged(100), now: now)
        #expect(sent == [.sendAdvertisement(priority: 100)])
        let taken = backup.receive(advert(100), from: addrLow, at: now)
        #expect(taken.last == .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 100)))
        let yielded = lowered.receive(advert(150), from: addrHigh, at: now)
        #expect(Array(yielded.prefix(2)) == [.sendAdvertisement(priority: 100), .removeAddresses])
        #expect(lowered.state == .backup)
    }

    @Test("vipd extension: a Backup raised above the Master preempts at the Master's next advert")
    func raisedBackupPreempts() {
        var router = Router.started(makeConfig(priority: 100))
        _ = router.receive(advert(150), from: addrHigh, at: t0 + .seconds(1))
        _ = router.handle(.priorityChanged(200), now: t0 + .milliseconds(1_100))
        #expect(router.state == .backup)
        let actions = router.receive(advert(150), from: addrHigh, at: t0 + .seconds(2))
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 150)))
    }

    @Test("vipd extension (Fault): a Backup enters Fault; clearing returns to Backup with Master_Down_Interval")
    func backupFault() {
        var router = Router.started(makeConfig(priority: 100))
        #expect(router.handle(.fault(active: true, reason: "track:eth1"), now: t0 + .seconds(1))
                == [.stateChanged(from: .backup, to: .fault, reason: .fault("track:eth1"))])
        #expect(router.nextDeadline == nil)
        #expect(router.currentMaster == nil)
        let now = t0 + .seconds(5)
        #expect(router.handle(.fault(active: false, reason: "track:eth1"), now: now)
                == [.stateChanged(from: .fault, to: .backup, reason: .faultCleared)])
        #expect(router.nextDeadline == now + router.masterDownInterval)
    }

    @Test("vipd extension (Fault): a Master with a tracked fault sends priority 0, then removes its addresses")
    func masterTrackedFault() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let actions = router.handle(.fault(active: true, reason: "track"), now: at + .milliseconds(5))
        #expect(actions == [.sendAdvertisement(priority: 0), .removeAddresses,
                            .stateChanged(from: .master, to: .fault, reason: .fault("track"))])
        #expect(!router.holdsAddresses)
        #expect(router.nextDeadline == nil)
    }

    @Test("vipd extension (Fault): a Master whose link is down cannot send priority 0; it only removes")
    func masterLinkDownFault() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let actions = router.handle(.fault(active: true, reason: "link", linkDown: true), now: at + .milliseconds(5))
        #expect(actions == [.removeAddresses, .stateChanged(from: .master, to: .fault, reason: .fault("link"))])
    }

    @Test("vipd extension (Fault): several faults are a set; all must clear")
    func faultSet() {
        var router = Router.started(makeConfig(priority: 100))
        _ = router.handle(.fault(active: true, reason: "a"), now: t0)
        #expect(router.handle(.fault(active: true, reason: "b"), now: t0) == [])
        #expect(router.handle(.fault(active: true, reason: "a"), now: t0) == [])
        #expect(router.activeFaults == ["a", "b"])
        #expect(router.handle(.fault(active: false, reason: "a"), now: t0) == [])
        #expect(router.state == .fault)
        #expect(router.handle(.fault(active: false, reason: "zzz"), now: t0) == [])
        #expect(router.handle(.fault(active: false, reason: "b"), now: t0).last
                == .stateChanged(from: .fault, to: .backup, reason: .faultCleared))
    }

    @Test("vipd extension (Fault) + RFC 9568 §6.4.1: the owner goes Master at once when its fault clears")
    func ownerFaultClears() {
        var router = Router.started(makeConfig(priority: 255))
        _ = router.handle(.fault(active: true, reason: "link", linkDown: true), now: t0)
        let actions = router.handle(.fault(active: false, reason: "link"), now: t0 + .seconds(1))
        #expect(actions == [.addAddresses, .announce, .sendAdvertisement(priority: 255),
                            .stateChanged(from: .fault, to: .master, reason: .faultCleared)])
    }

    @Test("vipd extension (Fault): fault raised and cleared before start leaves Initialize untouched")
    func faultBeforeStart() {
        var router = Router(config: makeConfig())
        #expect(router.handle(.fault(active: true, reason: "x"), now: t0) == [])
        #expect(router.handle(.fault(active: false, reason: "x"), now: t0) == [])
        #expect(router.state == .initialize)
        #expect(router.handle(.start, now: t0).last == .stateChanged(from: .initialize, to: .backup, reason: .startup))
    }
}
