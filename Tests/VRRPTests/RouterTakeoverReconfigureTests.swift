import Testing
import VRRP

@Suite("Router: manual takeover and reconfiguration")
struct RouterTakeoverReconfigureTests {
    @Test("vipd manual takeover: Master_Down expiry makes the takeover pending, once; nothing is held")
    func masterDownPending() {
        var router = Router.started(makeConfig(takeover: .manual))
        #expect(router.handle(.timeout, now: router.nextDeadline!) == [.takeoverPending(true)])
        #expect(router.state == .backup && router.takeoverPending && !router.holdsAddresses)
        #expect(router.nextDeadline == nil)
        #expect(router.handle(.timeout, now: t0 + .seconds(100)) == [])
    }

    @Test("vipd manual takeover: approval makes the Backup Master")
    func approve() {
        var router = Router.started(makeConfig(priority: 100, takeover: .manual))
        _ = router.handle(.timeout, now: router.nextDeadline!)
        let actions = router.handle(.approveTakeover, now: t0 + .seconds(10))
        #expect(actions == [.addAddresses, .announce, .sendAdvertisement(priority: 100),
                            .stateChanged(from: .backup, to: .master, reason: .takeoverApproved), .takeoverPending(false)])
        #expect(!router.takeoverPending)
    }

    @Test("vipd manual takeover: approval without a pending takeover does nothing")
    func approveNotPending() {
        var router = Router.started(makeConfig(takeover: .manual))
        #expect(router.handle(.approveTakeover, now: t0) == [])
        #expect(router.state == .backup)
    }

    @Test("vipd manual takeover: a live Master of ≥ priority clears the pending takeover")
    func masterReturnsClearsPending() {
        var router = Router.started(makeConfig(priority: 100, takeover: .manual))
        _ = router.handle(.timeout, now: router.nextDeadline!)
        let now = t0 + .seconds(5)
        #expect(router.receive(advert(100), from: addrHigh, at: now) == [.takeoverPending(false)])
        #expect(router.nextDeadline == now + router.masterDownInterval)
    }

    @Test("vipd manual takeover: outranking a lower Master with preempt → pending; its adverts keep it pending")
    func preemptPending() {
        var router = Router.started(makeConfig(priority: 200, takeover: .manual))
        #expect(router.receive(advert(100), from: addrHigh, at: t0 + .seconds(1)) == [.takeoverPending(true)])
        #expect(router.receive(advert(100), from: addrHigh, at: t0 + .seconds(2)) == [])
        #expect(router.takeoverPending && router.state == .backup)
        #expect(router.currentMaster == addrHigh)
    }

    @Test("vipd manual takeover: a priority-0 (planned) takeover is automatic")
    func plannedTakeoverIsAutomatic() {
        var router = Router.started(makeConfig(priority: 100, takeover: .manual))
        _ = router.receive(advert(0), from: addrHigh, at: t0 + .seconds(1))
        let actions = router.handle(.timeout, now: router.nextDeadline!)
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .masterStopped))
    }

    @Test("vipd manual takeover: a fault ends the pending takeover")
    func faultClearsPending() {
        var router = Router.started(makeConfig(takeover: .manual))
        _ = router.handle(.timeout, now: router.nextDeadline!)
        let actions = router.handle(.fault(active: true, reason: "x"), now: t0 + .seconds(10))
        #expect(actions == [.stateChanged(from: .backup, to: .fault, reason: .fault("x")), .takeoverPending(false)])
    }

    // MARK: reconfigure

    @Test("vipd reload: a Master's priority change is advertised at once, no state change")
    func reconfigurePriorityMaster() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(10)
        #expect(router.reconfigure(makeConfig(priority: 150), now: now) == [.sendAdvertisement(priority: 150)])
        #expect(router.state == .master && router.transitionCount == 2)
        #expect(router.effectivePriority == 150)
    }

    @Test("vipd reload: a Master's interval change re-arms Adver_Timer with the new interval")
    func reconfigureIntervalMaster() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(10)
        let faster = AdvertInterval(centiseconds: 10)
        #expect(router.reconfigure(makeConfig(priority: 100, interval: faster), now: now) == [.sendAdvertisement(priority: 100)])
        #expect(router.nextDeadline == now + faster.duration)
        #expect(router.masterAdvertInterval == faster)
    }

    @Test("vipd reload: nothing relevant changed → no actions")
    func reconfigureNoChange() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let deadline = router.nextDeadline
        #expect(router.reconfigure(makeConfig(priority: 100, preempt: false), now: at + .milliseconds(1)) == [])
        #expect(router.nextDeadline == deadline)
        #expect(router.config.preempt == false)
    }

    @Test("vipd reload: changed addresses as Master → announce and advertise; the caller applies the diff")
    func reconfigureAddresses() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        var config = makeConfig(priority: 100)
        config.addresses.append(AddressPrefix("192.0.2.101/24")!)
        #expect(router.reconfigure(config, now: at) == [.announce, .sendAdvertisement(priority: 100)])
        #expect(router.holdsAddresses)
    }

    @Test("vipd reload: the tracking offset is kept when the configured priority changes")
    func reconfigureKeepsTrackingOffset() {
        var router = Router.started(makeConfig(priority: 100))
        _ = router.handle(.priorityChanged(80), now: t0)
        _ = router.reconfigure(makeConfig(priority: 150), now: t0)
        #expect(router.effectivePriority == 130)
    }

    @Test("vipd reload: a different VRID is a different virtual router: stop abruptly and start again")
    func reconfigureIdentity() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        var config = makeConfig(priority: 100)
        config.vrid = 9
        let actions = router.reconfigure(config, now: at)
        #expect(actions == [.removeAddresses, .stateChanged(from: .master, to: .initialize, reason: .shutdown),
                            .stateChanged(from: .initialize, to: .backup, reason: .startup)])
        #expect(router.config.vrid == 9)
    }

    @Test("vipd reload: switching manual → auto while a takeover is pending takes over")
    func reconfigureManualToAuto() {
        var router = Router.started(makeConfig(takeover: .manual))
        _ = router.handle(.timeout, now: router.nextDeadline!)
        let actions = router.reconfigure(makeConfig(takeover: .auto), now: t0 + .seconds(10))
        #expect(actions.contains(.addAddresses))
        #expect(router.state == .master && !router.takeoverPending)
    }

    @Test("Accept_Mode (RFC 9568 §6.1) is carried in the config only")
    func acceptModeCarried() {
        var config = makeConfig()
        config.acceptMode = true
        var router = Router.started(config)
        #expect(router.config.acceptMode)
        #expect(router.handle(.timeout, now: router.nextDeadline!).contains(.addAddresses))
    }
}
