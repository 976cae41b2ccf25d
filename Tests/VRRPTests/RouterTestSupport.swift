import VRRP

// Shared fixtures for the Router tests.

let t0 = Instant(nanoseconds: 1_000_000_000)
let addrLow = IPAddress("192.0.2.1")!
let addrMid = IPAddress("192.0.2.2")!
let addrHigh = IPAddress("192.0.2.3")!
let vip = AddressPrefix("192.0.2.100/24")!
let interval1s = AdvertInterval(centiseconds: 100)

func micros(_ value: Int64) -> Duration { .microseconds(value) }

func makeConfig(priority: UInt8 = 100, interval: AdvertInterval = interval1s, primary: IPAddress = addrMid,
                version: VRRPVersion = .v3, preempt: Bool = true, preemptDelay: Duration = .zero,
                authentication: Authentication = .none, takeover: TakeoverMode = .auto,
                releaseDelay: Duration = .milliseconds(20)) -> RouterConfig {
    RouterConfig(version: version, vrid: 7, priority: priority, advertInterval: interval, primaryAddress: primary,
                 addresses: [vip], preempt: preempt, preemptDelay: preemptDelay, authentication: authentication,
                 takeover: takeover, handoverReleaseDelay: releaseDelay)
}

func advert(_ priority: UInt8, interval: AdvertInterval = interval1s, version: VRRPVersion = .v3, vrid: UInt8 = 7,
            authentication: Authentication = .none, addresses: [IPAddress] = [vip.address]) -> Advertisement {
    Advertisement(version: version, vrid: vrid, priority: priority, interval: interval, addresses: addresses,
                  authentication: authentication)
}

/// Master_Down_Interval computed independently of `ProtocolTimers`: 3 × I + (256 − p) × I / 256 (µs).
func expectedMasterDown(priority: Int64, intervalCs: Int64) -> Duration {
    let interval = intervalCs * 10_000
    return .microseconds(3 * interval + (256 - priority) * interval / 256)
}

extension Router {
    /// A router started at `t0` (Backup unless it is the owner).
    static func started(_ config: RouterConfig) -> Router {
        var router = Router(config: config)
        _ = router.handle(.start, now: t0)
        return router
    }

    /// A non-owner that became Master by Master_Down_Timer expiry; returns the time it did.
    static func master(_ config: RouterConfig) -> (Router, Instant) {
        var router = started(config)
        let at = router.nextDeadline!
        _ = router.handle(.timeout, now: at)
        precondition(router.state == .master)
        return (router, at)
    }

    mutating func receive(_ advert: Advertisement, from source: IPAddress, at now: Instant) -> [RouterAction] {
        handle(.advertisement(advert, source: source), now: now)
    }
}
