import Testing
import VRRP

@Suite("Router: Backup and Master election")
struct RouterElectionTests {
    // MARK: Backup (RFC 9568 §6.4.2)

    @Test("RFC 9568 §6.4.2: priority 0 sets Master_Down_Timer to Skew_Time")
    func backupPriorityZero() {
        var router = Router.started(makeConfig(priority: 100))
        let now = t0 + .milliseconds(500)
        #expect(router.receive(advert(0), from: addrHigh, at: now) == [])
        #expect(router.nextDeadline == now + micros(156 * 1_000_000 / 256))
        let actions = router.handle(.timeout, now: router.nextDeadline!)
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .masterStopped))
    }

    @Test("RFC 9568 §6.4.2: a higher-priority advert resets Master_Down_Timer and records the Master")
    func backupAcceptsHigher() {
        var router = Router.started(makeConfig(priority: 100))
        let now = t0 + .seconds(3)
        #expect(router.receive(advert(150), from: addrHigh, at: now) == [])
        #expect(router.nextDeadline == now + expectedMasterDown(priority: 100, intervalCs: 100))
        #expect(router.currentMaster == addrHigh)
        #expect(router.currentMasterPriority == 150)
        #expect(router.state == .backup)
    }

    @Test("RFC 9568 §6.4.2: a v3 Backup learns Master_Adver_Interval from the advert")
    func backupLearnsInterval() {
        var router = Router.started(makeConfig(priority: 100))
        let now = t0 + .milliseconds(100)
        _ = router.receive(advert(150, interval: .init(centiseconds: 20)), from: addrHigh, at: now)
        #expect(router.masterAdvertInterval == AdvertInterval(centiseconds: 20))
        #expect(router.nextDeadline == now + expectedMasterDown(priority: 100, intervalCs: 20))
    }

    @Test("RFC 9568 §6.4.2: equal priority is accepted by a Backup (no address tie-break in Backup)")
    func backupAcceptsEqual() {
        var router = Router.started(makeConfig(priority: 100, primary: addrHigh))
        let now = t0 + .seconds(1)
        #expect(router.receive(advert(100), from: addrLow, at: now) == [])
        #expect(router.state == .backup)
        #expect(router.nextDeadline == now + router.masterDownInterval)
    }

    @Test("RFC 9568 §6.4.2: with preempt off a lower-priority Master is followed")
    func backupNoPreempt() {
        var router = Router.started(makeConfig(priority: 200, preempt: false))
        let now = t0 + .seconds(1)
        #expect(router.receive(advert(50), from: addrLow, at: now) == [])
        #expect(router.state == .backup)
        #expect(router.currentMaster == addrLow)
        #expect(router.nextDeadline == now + router.masterDownInterval)
    }

    @Test("vipd extension (§6.4.2 deviation): preempt on, lower-priority Master → preempt at once")
    func backupPreemptsAtOnce() {
        var router = Router.started(makeConfig(priority: 200))
        let now = t0 + .seconds(1)
        let actions = router.receive(advert(50), from: addrLow, at: now)
        #expect(actions == [.addAddresses, .announce, .sendAdvertisement(priority: 200),
                            .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 50))])
        #expect(router.nextDeadline == now + interval1s.duration)
    }

    @Test("vipd extension: preempt_delay — the lower Master is followed until the delay has passed")
    func backupPreemptDelay() {
        var router = Router.started(makeConfig(priority: 200, preemptDelay: .seconds(2)))
        #expect(router.receive(advert(50), from: addrLow, at: t0 + .seconds(1)) == [])
        #expect(router.nextDeadline == t0 + .seconds(1) + router.masterDownInterval)
        #expect(router.receive(advert(50), from: addrLow, at: t0 + .seconds(2)) == [])
        #expect(router.state == .backup)
        let actions = router.receive(advert(50), from: addrLow, at: t0 + .seconds(3))
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 50)))
    }

    @Test("vipd extension: preempt_delay restarts when a Master of ≥ priority is heard in between")
    func backupPreemptDelayResets() {
        var router = Router.started(makeConfig(priority: 200, preemptDelay: .seconds(2)))
        _ = router.receive(advert(50), from: addrLow, at: t0 + .seconds(1))
        _ = router.receive(advert(220), from: addrHigh, at: t0 + .seconds(2))
        _ = router.receive(advert(50), from: addrLow, at: t0 + .seconds(3))
        #expect(router.state == .backup)
        #expect(router.receive(advert(50), from: addrLow, at: t0 + .seconds(4)) == [])
        #expect(router.receive(advert(50), from: addrLow, at: t0 + .seconds(5)).contains(.addAddresses))
        #expect(router.state == .master)
    }

    @Test("RFC 9568 §6.1: the owner preempts even with preempt off")
    func ownerAlwaysPreempts() {
        var router = Router.started(makeConfig(priority: 255, primary: addrLow, preempt: false))
        // Another (misconfigured) owner with a higher address pushes us to Backup (§6.4.3 tie-break).
        _ = router.receive(advert(255), from: addrHigh, at: t0 + .seconds(1))
        #expect(router.state == .backup)
        let actions = router.receive(advert(100), from: addrHigh, at: t0 + .seconds(2))
        #expect(actions.last == .stateChanged(from: .backup, to: .master, reason: .preempting(lowerPriority: 100)))
    }

    // MARK: Master (RFC 9568 §6.4.3)

    @Test("RFC 9568 §6.4.3: priority 0 → advertise at once and reset Adver_Timer")
    func masterPriorityZero() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(300)
        #expect(router.receive(advert(0), from: addrHigh, at: now) == [.sendAdvertisement(priority: 100)])
        #expect(router.nextDeadline == now + interval1s.duration)
        #expect(router.state == .master)
    }

    @Test("RFC 9568 §6.4.3: higher priority → remove addresses, Backup, learn interval, Master_Down_Interval; vipd advertises once first")
    func masterYieldsToHigher() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(300)
        let actions = router.receive(advert(150, interval: .init(centiseconds: 50)), from: addrLow, at: now)
        #expect(actions == [.sendAdvertisement(priority: 100), .removeAddresses,
                            .stateChanged(from: .master, to: .backup, reason: .higherPriorityMaster(priority: 150, from: addrLow))])
        #expect(!router.holdsAddresses)
        #expect(router.masterAdvertInterval == AdvertInterval(centiseconds: 50))
        #expect(router.nextDeadline == now + expectedMasterDown(priority: 100, intervalCs: 50))
        #expect(router.currentMaster == addrLow)
    }

    @Test("RFC 9568 §6.4.3: equal priority and a greater primary address → Backup")
    func masterTieBreakLoses() {
        var (router, at) = Router.master(makeConfig(priority: 100, primary: addrMid))
        let actions = router.receive(advert(100), from: addrHigh, at: at + .milliseconds(1))
        #expect(actions == [.sendAdvertisement(priority: 100), .removeAddresses,
                            .stateChanged(from: .master, to: .backup, reason: .equalPriorityHigherAddress(from: addrHigh))])
    }

    @Test("RFC 9568 §6.4.3: equal priority and a smaller address → stay Master, advertise and announce")
    func masterTieBreakWins() {
        var (router, at) = Router.master(makeConfig(priority: 100, primary: addrMid))
        let now = at + .milliseconds(1)
        #expect(router.receive(advert(100), from: addrLow, at: now) == [.sendAdvertisement(priority: 100), .announce])
        #expect(router.state == .master)
        #expect(router.nextDeadline == now + interval1s.duration)
    }

    @Test("Split brain heals with the winner re-announcing, whichever advertisement crosses first")
    func splitBrainHealWinnerAnnouncesEitherOrder() {
        for winnerFirst in [true, false] {
            var (winner, at) = Router.master(makeConfig(priority: 200, primary: addrHigh))
            var (loser, _) = Router.master(makeConfig(priority: 150, primary: addrLow))
            let now = at + .milliseconds(500)
            var winnerActions: [RouterAction] = []
            if winnerFirst {
                // The winner's advertisement reaches the loser; the loser never advertised into the
                // healed network before stepping down, except for the one it sends as it does.
                let stepDown = loser.receive(advert(200), from: addrHigh, at: now)
                #expect(stepDown.first == .sendAdvertisement(priority: 150))
                #expect(loser.state == .backup)
                for case .sendAdvertisement(let p) in stepDown {
                    winnerActions += winner.receive(advert(p), from: addrLow, at: now + .milliseconds(1))
                }
            } else {
                winnerActions = winner.receive(advert(150), from: addrLow, at: now)
                let stepDown = loser.receive(advert(200), from: addrHigh, at: now + .milliseconds(1))
                #expect(loser.state == .backup)
                #expect(stepDown.contains(.removeAddresses))
            }
            #expect(winnerActions.contains(.announce), "winner first: \(winnerFirst)")
            #expect(winner.state == .master && winner.holdsAddresses && !loser.holdsAddresses)
        }
    }

    @Test("RFC 9568 §6.4.3: lower priority → advertise at once; vipd also re-announces (split-brain heal)")
    func masterAnswersLower() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        let now = at + .milliseconds(700)
        #expect(router.receive(advert(50), from: addrHigh, at: now) == [.sendAdvertisement(priority: 100), .announce])
        #expect(router.nextDeadline == now + interval1s.duration)
        #expect(router.holdsAddresses)
    }

    @Test("RFC 9568 §6.4.3: in Master the interval is our own, adverts don't change it")
    func masterKeepsOwnInterval() {
        var (router, at) = Router.master(makeConfig(priority: 100))
        _ = router.receive(advert(50, interval: .init(centiseconds: 10)), from: addrLow, at: at + .milliseconds(5))
        #expect(router.masterAdvertInterval == interval1s)
    }

    // MARK: Instance checks (RFC 9568 §7.1, RFC 3768 §7.1)

    static let dropCases: [(String, Advertisement, IPAddress, DropReason)] = [
        ("version", advert(200, version: .v2), addrHigh, .versionMismatch),
        ("family of source", advert(200), IPAddress("2001:db8::1")!, .familyMismatch),
        ("family of addresses", advert(200, addresses: [IPAddress("2001:db8::100")!]), addrHigh, .familyMismatch),
        ("own packet", advert(200), addrMid, .ownPacket),
        ("vrid", advert(200, vrid: 8), addrHigh, .unknownVRID),
        ("zero interval", advert(200, interval: .init(centiseconds: 0)), addrHigh, .malformed(.zeroInterval)),
    ]

    @Test("RFC 9568 §7.1: mismatching adverts are dropped and change nothing (Backup)", arguments: dropCases)
    func dropsInBackup(_ item: (String, Advertisement, IPAddress, DropReason)) {
        var router = Router.started(makeConfig(priority: 100))
        let deadline = router.nextDeadline
        #expect(router.receive(item.1, from: item.2, at: t0 + .milliseconds(10)) == [.dropped(item.3)], "\(item.0)")
        #expect(router.nextDeadline == deadline)
        #expect(router.currentMaster == nil)
    }

    @Test("RFC 9568 §7.1: mismatching adverts don't demote a Master", arguments: dropCases)
    func dropsInMaster(_ item: (String, Advertisement, IPAddress, DropReason)) {
        var (router, at) = Router.master(makeConfig(priority: 100))
        #expect(router.receive(item.1, from: item.2, at: at + .milliseconds(10)) == [.dropped(item.3)], "\(item.0)")
        #expect(router.state == .master)
    }

    @Test("RFC 3768 §7.1: v2 adverts with other authentication are dropped")
    func v2AuthMismatch() {
        let config = makeConfig(interval: .init(seconds: 1), version: .v2, authentication: .password("secret"))
        var router = Router.started(config)
        let wrong = advert(200, version: .v2, authentication: .password("other"))
        #expect(router.receive(wrong, from: addrHigh, at: t0) == [.dropped(.authenticationMismatch)])
        let none = advert(200, version: .v2)
        #expect(router.receive(none, from: addrHigh, at: t0) == [.dropped(.authenticationMismatch)])
        let right = advert(200, version: .v2, authentication: .password("secret"))
        #expect(router.receive(right, from: addrHigh, at: t0) == [])
        #expect(router.currentMaster == addrHigh)
    }

    @Test("RFC 3768 §7.1: v2 adverts with another Adver Int are dropped")
    func v2IntervalMismatch() {
        var router = Router.started(makeConfig(interval: .init(seconds: 1), version: .v2))
        #expect(router.receive(advert(200, interval: .init(seconds: 2), version: .v2), from: addrHigh, at: t0)
                == [.dropped(.intervalMismatch)])
        #expect(router.currentMaster == nil)
    }

    @Test("RFC 9568 §7.1: a v3 address-list mismatch is not a reason to drop (MAY log only)")
    func v3AddressListMismatchAccepted() {
        var router = Router.started(makeConfig(priority: 100))
        let other = advert(150, addresses: [IPAddress("192.0.2.200")!])
        #expect(router.receive(other, from: addrHigh, at: t0 + .seconds(1)) == [])
        #expect(router.currentMaster == addrHigh)
    }

    @Test("RFC 9568 §6.4.1: adverts are ignored in Initialize and Fault")
    func ignoredWhenNotRunning() {
        var router = Router(config: makeConfig())
        #expect(router.receive(advert(200), from: addrHigh, at: t0) == [])
        #expect(router.currentMaster == nil)
        _ = router.handle(.fault(active: true, reason: "link"), now: t0)
        _ = router.handle(.start, now: t0)
        #expect(router.receive(advert(200), from: addrHigh, at: t0) == [])
        #expect(router.state == .fault)
        #expect(router.nextDeadline == nil)
    }
}

@Suite("Router: regressions found by the simulator")
struct RouterSimulatorRegressionTests {
    @Test("RFC 9568 §6.4.2 + vipd release (sim seed 316): repeated priority-0 adverts never postpone the takeover")
    func repeatedStopAdvertsDoNotPostpone() {
        // Priority 1: Skew_Time (996 ms) is almost the 1 s interval at which the releasing Master repeats.
        var router = Router.started(makeConfig(priority: 1))
        let first = t0 + .seconds(1)
        _ = router.receive(advert(0), from: addrHigh, at: first)
        let deadline = first + micros(255 * 1_000_000 / 256)
        #expect(router.nextDeadline == deadline)
        _ = router.receive(advert(0), from: addrHigh, at: deadline + .milliseconds(-5))
        #expect(router.nextDeadline == deadline)
        #expect(router.handle(.timeout, now: deadline).last
                == .stateChanged(from: .backup, to: .master, reason: .masterStopped))
    }
}
