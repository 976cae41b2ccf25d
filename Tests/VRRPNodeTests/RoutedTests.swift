import Testing
import VRRP
@testable import VRRPNode

// Routed VIPs (`announce: route`) and anycast (`election: none`): the decisions of Routed.swift,
// driven through the core as the daemon drives it.

private let hostVIP = AddressPrefix("203.0.113.10/32")!
private let newMaster = IPAddress("198.51.100.6")!

/// A routed Master at 100 ms adverts whose release delay is `delay`.
private func routedMaster(delay: Duration) -> (Router, Instant) {
    var config = RouterConfig(vrid: 60, priority: 200, advertInterval: AdvertInterval(centiseconds: 10),
                              primaryAddress: us4, addresses: [hostVIP])
    config.handoverReleaseDelay = RoutedRelease.handoverReleaseDelay(routeReleaseDelay: delay)
    var router = Router(config: config)
    _ = router.handle(.start, now: t0)
    var now = t0
    while router.state != .master, let next = router.nextDeadline {
        now = next
        _ = router.handle(.timeout, now: now)
    }
    precondition(router.state == .master && router.holdsAddresses)
    return (router, now)
}

private func newMasterAdvert() -> RouterInput {
    .advertisement(Advertisement(version: .v3, vrid: 60, priority: 150, interval: AdvertInterval(centiseconds: 10),
                                 addresses: [hostVIP.address]), source: newMaster)
}

/// Runs the router's timers until `until`, returning every action with its time.
private func run(_ router: inout Router, from start: Instant, until end: Instant) -> [(Instant, RouterAction)] {
    var out: [(Instant, RouterAction)] = []
    var now = start
    while let next = router.nextDeadline, next <= end {
        now = max(now, next)
        out += router.handle(.timeout, now: now).map { (now, $0) }
    }
    return out
}

@Suite("Routed VIPs: release and announcements")
struct RoutedReleaseTests {
    @Test("the configured release_delay is the core's; without route the LAN default")
    func delays() {
        #expect(RoutedRelease.handoverReleaseDelay(routeReleaseDelay: .milliseconds(1500)) == .milliseconds(1500))
        #expect(RoutedRelease.handoverReleaseDelay(routeReleaseDelay: nil) == RouterConfig.defaultHandoverReleaseDelay)
        #expect(!RoutedRelease.sendsAnnouncements(routed: true))
        #expect(RoutedRelease.sendsAnnouncements(routed: false))
    }

    @Test("planned handover: the routes stay until the new Master is heard and release_delay has passed",
          arguments: [Duration.zero, .milliseconds(300), .seconds(1), .seconds(5)])
    func handoverKeepsRoutes(delay: Duration) {
        var (router, start) = routedMaster(delay: delay)
        #expect(router.handle(.handover(holdUntil: nil), now: start) == [.sendAdvertisement(priority: 0)])
        // The new Master is heard 250 ms later (a Backup at Skew_Time plus a little).
        var actions = run(&router, from: start, until: start + .milliseconds(250))
        #expect(!actions.contains { $0.1 == .removeAddresses })
        let heard = start + .milliseconds(250)
        actions = router.handle(newMasterAdvert(), now: heard).map { (heard, $0) }
        // 5 s is far beyond the release timeout (~400 ms at 100 ms adverts): the delay still holds.
        // (Run no further: with nobody advertising, the Backup would take over again later.)
        actions += run(&router, from: heard, until: heard + delay)
        let removals = actions.filter { $0.1 == .removeAddresses }
        #expect(removals.count == 1)
        #expect(removals.first?.0 == heard + delay)
        #expect(router.state == .backup && !router.holdsAddresses)
        #expect(router.lastTransition?.reason == .handoverComplete(newMaster: newMaster))
        // Priority 0 until the end: the new Master is not pushed back.
        #expect(actions.allSatisfy { $0.1 != .sendAdvertisement(priority: 200) })
    }

    @Test("graceful stop: the same wait, then Initialize without the routes")
    func shutdownKeepsRoutes() {
        var (router, start) = routedMaster(delay: .seconds(1))
        _ = router.handle(.shutdown, now: start)
        let heard = start + .milliseconds(350)
        var actions = run(&router, from: start, until: heard).map(\.1)
        actions += router.handle(newMasterAdvert(), now: heard)
        actions += run(&router, from: heard, until: heard + .milliseconds(999)).map(\.1)
        #expect(router.holdsAddresses && router.state == .master)
        #expect(!actions.contains(.removeAddresses))
        actions = run(&router, from: heard, until: heard + .seconds(1)).map(\.1)
        #expect(actions.contains(.removeAddresses))
        #expect(router.state == .initialize && !router.holdsAddresses)
    }

    @Test("nobody takes over: a stop withdraws at the release timeout, a handover keeps the routes")
    func nobodyHeard() {
        var (stopping, start) = routedMaster(delay: .seconds(1))
        _ = stopping.handle(.shutdown, now: start)
        let timeout = stopping.releaseTimeout
        _ = run(&stopping, from: start, until: start + timeout)
        #expect(stopping.state == .initialize && !stopping.holdsAddresses)

        var handing = routedMaster(delay: .seconds(1)).0
        _ = handing.handle(.handover(holdUntil: nil), now: start)
        _ = run(&handing, from: start, until: start + timeout + .seconds(2))
        #expect(handing.state == .master && handing.holdsAddresses && !handing.isReleasing)
    }
}

@Suite("Anycast (election: none)")
struct AnycastTests {
    private let placeholder = IPAddress.v4(IPv4Address(0))

    private func anycast() -> Router {
        Router(config: Anycast.routerConfig(addresses: [hostVIP], placeholder: placeholder))
    }

    private func feed(_ router: inout Router, _ input: RouterInput, at now: Instant = t0) -> [RouterAction] {
        Anycast.inputs(for: input).flatMap { router.handle($0, now: now) }
    }

    @Test("starts holding its addresses when no fault is active, and announces nothing to anyone")
    func startsHolding() {
        var router = anycast()
        let actions = feed(&router, .start)
        #expect(actions.first == .addAddresses)
        #expect(router.state == .master && router.holdsAddresses)
        #expect(Anycast.describe(router.lastTransition!.reason) == "tracking passes (election: none)")
        // The only timer is the idle one: no election to time.
        #expect(router.nextDeadline == t0 + Anycast.idleInterval.duration)
    }

    @Test("starts in Fault while a tracked item is down, holds once it passes, withdraws when it fails again")
    func followsTracking() {
        var router = anycast()
        _ = feed(&router, .fault(active: true, reason: "tracked item down", linkDown: false))
        #expect(feed(&router, .start).contains(.removeAddresses) == false)
        #expect(router.state == .fault && !router.holdsAddresses)
        let up = feed(&router, .fault(active: false, reason: "tracked item down"), at: t0 + .seconds(1))
        #expect(up.contains(.addAddresses))
        #expect(router.state == .master)
        #expect(Anycast.describe(router.lastTransition!.reason).contains("tracking passes"))
        let down = feed(&router, .fault(active: true, reason: "tracked item down", linkDown: false), at: t0 + .seconds(2))
        #expect(down.contains(.removeAddresses))
        #expect(router.state == .fault && !router.holdsAddresses)
    }

    @Test("two faults: the addresses come back only when both clear")
    func twoFaults() {
        var router = anycast()
        _ = feed(&router, .start)
        _ = feed(&router, .fault(active: true, reason: "link down", linkDown: true))
        _ = feed(&router, .fault(active: true, reason: "tracked item down", linkDown: false))
        _ = feed(&router, .fault(active: false, reason: "link down"))
        #expect(router.state == .fault && !router.holdsAddresses)
        _ = feed(&router, .fault(active: false, reason: "tracked item down"))
        #expect(router.state == .master && router.holdsAddresses)
    }

    @Test("a graceful stop withdraws at once, straight from Master to Initialize")
    func stopsAtOnce() {
        var router = anycast()
        _ = feed(&router, .start)
        let actions = feed(&router, .shutdown, at: t0 + .seconds(3))
        #expect(actions.filter { $0 == .removeAddresses }.count == 1)
        let changes = actions.compactMap { action -> RouterState? in
            if case .stateChanged(_, let to, _) = action { return to }
            return nil
        }
        #expect(changes == [.initialize])
        #expect(router.state == .initialize && !router.holdsAddresses)
        #expect(router.nextDeadline == nil)
        #expect(Anycast.describe(router.lastTransition!.reason).contains("stopping"))
    }

    @Test("a graceful stop in Fault: Initialize, nothing to remove")
    func stopsFromFault() {
        var router = anycast()
        _ = feed(&router, .fault(active: true, reason: "link down", linkDown: true))
        _ = feed(&router, .start)
        let actions = feed(&router, .shutdown, at: t0 + .seconds(1))
        #expect(!actions.contains(.removeAddresses))
        #expect(router.state == .initialize)
    }

    @Test("election inputs are dropped: handover, cancel, approval, priority, advertisements",
          arguments: [RouterInput.handover(holdUntil: nil), .cancelHandover, .approveTakeover, .priorityChanged(10),
                      .advertisement(advert(250, vrid: 0, addresses: [hostVIP.address]), source: peer4)])
    func electionInputsDropped(_ input: RouterInput) {
        var router = anycast()
        _ = feed(&router, .start)
        #expect(Anycast.inputs(for: input).isEmpty)
        #expect(feed(&router, input, at: t0 + .seconds(1)).isEmpty)
        #expect(router.state == .master && router.holdsAddresses && !router.isReleasing)
    }

    @Test("the idle timer changes nothing")
    func idleTimer() {
        var router = anycast()
        _ = feed(&router, .start)
        var now = t0
        for _ in 0..<5 {
            now = router.nextDeadline!
            let actions = feed(&router, .timeout, at: now)
            #expect(!actions.contains(.removeAddresses) && !actions.contains { if case .stateChanged = $0 { true } else { false } })
        }
        #expect(router.state == .master && router.transitionCount == 1)
    }
}
