import VRRP
@testable import VRRPNode

// Shared fixtures for the node-layer tests (documentation addresses only).

let t0 = Instant(nanoseconds: 1_000_000_000)
let us4 = IPAddress("192.0.2.2")!
let peer4 = IPAddress("192.0.2.3")!
let stranger4 = IPAddress("198.51.100.9")!
let group4 = IPAddress.v4(.vrrpMulticast)
let group6 = IPAddress.v6(.vrrpMulticast)
let peer6 = IPAddress("fe80::3")!
let us6 = IPAddress("fe80::2")!
let vip4 = AddressPrefix("192.0.2.100/24")!

func advert(_ priority: UInt8 = 120, version: VRRPVersion = .v3, vrid: UInt8 = 7,
            addresses: [IPAddress] = [vip4.address]) -> Advertisement {
    Advertisement(version: version, vrid: vrid, priority: priority, interval: AdvertInterval(centiseconds: 100),
                  addresses: addresses, authentication: .none)
}

/// The bytes a sender would put on the wire, and what our socket reports about them.
func packet(_ ad: Advertisement, from source: IPAddress, to destination: IPAddress, hopLimit: UInt8?,
            form: ChecksumForm = .withPseudoHeader) -> (payload: [UInt8], facts: PacketFacts) {
    (VRRPCodec.encode(ad, source: source, destination: destination, checksumForm: form),
     PacketFacts(source: source, destination: destination, hopLimit: hopLimit))
}

func routerConfig(priority: UInt8 = 100, takeover: TakeoverMode = .auto) -> RouterConfig {
    RouterConfig(vrid: 7, priority: priority, primaryAddress: us4, addresses: [vip4], takeover: takeover)
}

/// A router that became Master by Master_Down_Timer expiry.
func masterRouter(priority: UInt8 = 100) -> (Router, Instant) {
    var router = Router(config: routerConfig(priority: priority))
    _ = router.handle(.start, now: t0)
    let at = router.nextDeadline!
    _ = router.handle(.timeout, now: at)
    precondition(router.state == .master)
    return (router, at)
}

/// Deterministic well-mixed values for exhaustive-plus-sampled property tests (a Weyl sequence
/// through a 64-bit finaliser): the same inputs on every run.
func mixed(_ index: Int, salt: UInt64 = 0) -> UInt64 {
    var z = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ salt
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
