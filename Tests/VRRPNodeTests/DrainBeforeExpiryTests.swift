import Testing
import VRRP
@testable import VRRPNode

@Suite("Drain before expiry: queued advertisements are read before the Master counts as down")
struct DrainBeforeExpiryTests {
    /// A Backup that last heard the Master (priority 120 from `peer4`) at `heardAt`.
    func backup(takeover: TakeoverMode = .auto, heardAt: Instant) -> Router {
        var router = Router(config: routerConfig(priority: 100, takeover: takeover))
        _ = router.handle(.start, now: t0)
        _ = router.handle(.advertisement(advert(120), source: peer4), now: heardAt)
        precondition(router.state == .backup)
        return router
    }

    @Test("an expired Master_Down_Timer must wait for the drain; one that has not expired need not")
    func mustDrainOnlyWhenExpired() {
        let rule = DrainBeforeExpiry()
        let router = backup(heardAt: t0)
        let expiry = t0 + router.masterDownInterval
        #expect(!rule.mustDrain(router, now: expiry - .microseconds(1)))
        #expect(rule.mustDrain(router, now: expiry))
        #expect(rule.mustDrain(router, now: expiry + .seconds(30)))
        #expect(!DrainBeforeExpiry(enabled: false).mustDrain(router, now: expiry))
    }

    @Test("an advertisement read in the drain withdraws the expiry: the timeout then changes nothing")
    func queuedAdvertisementWithdrawsTheExpiry() {
        let rule = DrainBeforeExpiry()
        var router = backup(heardAt: t0)
        let late = t0 + router.masterDownInterval + .milliseconds(40)   // the loop ran 40 ms late
        #expect(rule.mustDrain(router, now: late))
        // The drain delivers the advertisement that was queued since before the expiry.
        _ = router.handle(.advertisement(advert(120), source: peer4), now: late)
        #expect(rule.outcome(router, now: late) == .withdrawn)
        #expect(router.handle(.timeout, now: late).isEmpty)
        #expect(router.state == .backup && router.currentMaster == peer4)
    }

    @Test("without the drain the same late timeout takes over: what the rule prevents")
    func withoutTheDrainTheLateTimeoutTakesOver() {
        var router = backup(heardAt: t0)
        let late = t0 + router.masterDownInterval + .milliseconds(40)
        let actions = router.handle(.timeout, now: late)
        #expect(router.state == .master)
        #expect(actions.contains(.stateChanged(from: .backup, to: .master, reason: .masterDown)))
    }

    @Test("a drain that finds nothing from the Master confirms the expiry, and the takeover follows")
    func emptyDrainConfirms() {
        let rule = DrainBeforeExpiry()
        var router = backup(heardAt: t0)
        let expiry = t0 + router.masterDownInterval
        #expect(rule.outcome(router, now: expiry) == .confirmed)
        _ = router.handle(.timeout, now: expiry)
        #expect(router.state == .master)
    }

    @Test("manual takeover: the request for approval waits for the drain too")
    func manualTakeoverWaits() {
        let rule = DrainBeforeExpiry()
        var router = backup(takeover: .manual, heardAt: t0)
        let expiry = t0 + router.masterDownInterval
        #expect(rule.mustDrain(router, now: expiry))
        _ = router.handle(.advertisement(advert(120), source: peer4), now: expiry)
        #expect(router.handle(.timeout, now: expiry).isEmpty)
        #expect(!router.takeoverPending)
    }

    @Test("priority 0's Skew_Time is a Master_Down_Timer too; a new Master queued behind it withdraws it")
    func skewTimeAfterPriorityZero() {
        let rule = DrainBeforeExpiry()
        var router = backup(heardAt: t0)
        let stop = t0 + .milliseconds(500)
        _ = router.handle(.advertisement(advert(0), source: peer4), now: stop)
        let skew = ProtocolTimers.skewTime(priority: 100, masterAdvertInterval: AdvertInterval(centiseconds: 100), version: .v3)
        #expect(rule.mustDrain(router, now: stop + skew))
        // Another Backup, higher than us, took over first; its advertisement waits in our socket.
        _ = router.handle(.advertisement(advert(150), source: stranger4), now: stop + skew)
        #expect(rule.outcome(router, now: stop + skew) == .withdrawn)
        #expect(router.handle(.timeout, now: stop + skew).isEmpty && router.currentMaster == stranger4)
    }

    @Test("Masters, Fault and Initialize never wait for a drain")
    func otherStatesNeverDrain() {
        let rule = DrainBeforeExpiry()
        let (master, at) = masterRouter()
        #expect(!rule.mustDrain(master, now: master.nextDeadline ?? at))
        #expect(!rule.mustDrain(master, now: at + .seconds(60)))
        var fault = Router(config: routerConfig())
        _ = fault.handle(.fault(active: true, reason: "link down", linkDown: true), now: t0)
        _ = fault.handle(.start, now: t0)
        #expect(fault.state == .fault && !rule.mustDrain(fault, now: t0 + .seconds(60)))
        #expect(!rule.mustDrain(Router(config: routerConfig()), now: t0 + .seconds(60)))
    }
}
