import Testing
@testable import VIPDDaemon
import VIPDConfig
import VRRP
import VRRPNode

/// The daemon's `auth_hmac` wiring on one `RouterRuntime`: what it signs, what its receiver
/// accepts, and that a key-only reload (an in-place `instance` update) keeps the replay marks.
@Suite struct AuthWiringTests {
    static let key1 = [UInt8](repeating: 0x11, count: 32)
    static let key2 = [UInt8](repeating: 0x22, count: 48)
    static let us = IPAddress("192.0.2.11")!
    static let peer = IPAddress("192.0.2.12")!
    static let t0 = UTCTime(seconds: 1_790_000_000)

    static func instance(keys: [(UInt8, [UInt8])] = [(1, key1)], active: UInt8 = 1,
                         mode: HMACAuthConfig.Mode = .enforce, source: IPAddress = us, peers: [IPAddress] = [peer]) -> InstanceConfig {
        var instance = InstanceConfig(name: "web", interface: "eth0", vrid: 51, addresses: [AddressPrefix("192.0.2.100/24")!])
        instance.unicast = UnicastConfig(source: source, peers: peers)
        instance.authHMAC = HMACAuthConfig(keys: keys.map { HMACKey(id: $0.0, material: $0.1) }, activeKey: active,
                                           timeWindow: .seconds(5), mode: mode)
        return instance
    }

    static func runtime(_ instance: InstanceConfig, primary: IPAddress = us) -> RouterRuntime {
        RouterRuntime(key: RouterKey(instance: instance.name, family: .ipv4), instance: instance,
                      router: Router(config: instance.routerConfig(family: .ipv4, primaryAddress: primary)),
                      interfaceIndex: 2, interfaceName: "eth0", addressInterfaceIndex: 2, addressInterfaceName: "eth0",
                      announceMAC: [0, 0, 0x5e, 0, 1, 51])
    }

    /// What the peer sends to us at `time`.
    static func peerAdvert(_ sender: RouterRuntime, at time: UTCTime) -> [UInt8] {
        sender.encodedAdvertisements(priority: 200, source: peer, wallClock: { time })[0].bytes
    }

    static func receive(_ bytes: [UInt8], by runtime: RouterRuntime, at time: UTCTime) -> ReceiveAction? {
        let facts = PacketFacts(source: peer, destination: us, hopLimit: 255)
        guard case .success(let decoded) = ReceiveFilter.decode(bytes, facts) else { return nil }
        return runtime.receiver.receive(decoded, facts, now: time).last
    }

    static func label(_ action: ReceiveAction?) -> String? {
        if case .dropped(let drop) = action { return drop.label }
        return nil
    }

    static func delivered(_ action: ReceiveAction?) -> Bool {
        if case .deliver = action { return true }
        return false
    }

    @Test func signsWithTheActiveKeyUnlessReceiveOnly() throws {
        let signed = Self.runtime(Self.instance(keys: [(1, Self.key1), (2, Self.key2)], active: 2))
        let bytes = signed.encodedAdvertisements(priority: 100, source: Self.us, wallClock: { Self.t0 })[0].bytes
        let facts = PacketFacts(source: Self.us, destination: Self.peer, hopLimit: 255)
        let decoded = try ReceiveFilter.decode(bytes, facts).get()
        let trailer = try #require(decoded.authTrailer)
        #expect(trailer.trailer.keyID == 2)
        #expect(trailer.trailer.sequence.seconds == Self.t0.seconds)
        #expect(trailer.verifies(source: Self.us, key: HMACSHA256(key: Self.key2)))
        #expect(!trailer.verifies(source: Self.us, key: HMACSHA256(key: Self.key1)))
        let again = signed.encodedAdvertisements(priority: 100, source: Self.us, wallClock: { Self.t0 })[0].bytes
        #expect(again != bytes, "each advert takes the next sequence")

        let quiet = Self.runtime(Self.instance(mode: .receiveOnly))
        let plain = quiet.encodedAdvertisements(priority: 100, source: Self.us, wallClock: { Self.t0 })[0].bytes
        #expect(try ReceiveFilter.decode(plain, facts).get().authTrailer == nil)
        #expect(plain.count == bytes.count - AuthTrailer.length)
    }

    @Test func enforceRefusesForgedUnsignedAndReplayed() {
        let us = Self.runtime(Self.instance())
        let peer = Self.runtime(Self.instance(source: Self.peer, peers: [Self.us]), primary: Self.peer)
        let good = Self.peerAdvert(peer, at: Self.t0)
        #expect(Self.delivered(Self.receive(good, by: us, at: Self.t0)))
        #expect(Self.label(Self.receive(good, by: us, at: Self.t0)) == "hmac_replayed")
        let forger = Self.runtime(Self.instance(keys: [(1, Self.key2)], source: Self.peer, peers: [Self.us]), primary: Self.peer)
        #expect(Self.label(Self.receive(Self.peerAdvert(forger, at: Self.t0), by: us, at: Self.t0)) == "hmac_bad")
        let unsigned = Self.runtime(Self.instance(mode: .receiveOnly, source: Self.peer, peers: [Self.us]), primary: Self.peer)
        #expect(Self.label(Self.receive(Self.peerAdvert(unsigned, at: Self.t0), by: us, at: Self.t0)) == "hmac_missing")
        let late = UTCTime(seconds: Self.t0.seconds + 6)
        #expect(Self.label(Self.receive(Self.peerAdvert(peer, at: Self.t0), by: us, at: late)) == "hmac_stale")
    }

    /// A reload that changes only keys, active_key or mode updates the runtime in place: the
    /// receiver keeps the last sequence accepted from each peer, so a capture stays refused.
    @Test func keyOnlyReloadKeepsReplayMarks() {
        let old = Self.instance()
        let us = Self.runtime(old)
        let peer = Self.runtime(Self.instance(source: Self.peer, peers: [Self.us]), primary: Self.peer)
        let captured = Self.peerAdvert(peer, at: Self.t0)
        #expect(Self.delivered(Self.receive(captured, by: us, at: Self.t0)))

        let rotated = Self.instance(keys: [(1, Self.key1), (2, Self.key2)], active: 2, mode: .permissive)
        #expect(!Daemon.identityChanged(old, rotated), "keys/active_key/mode are applied in place")
        us.instance = rotated
        #expect(us.receiver.settings.authHMAC?.activeKey == 2)
        #expect(Self.label(Self.receive(captured, by: us, at: Self.t0)) == "hmac_replayed")
        let next = UTCTime(seconds: Self.t0.seconds + 1)
        #expect(Self.delivered(Self.receive(Self.peerAdvert(peer, at: next), by: us, at: next)))
    }

    @Test func addingOrRemovingAuthIsNotIdentity() {
        var plain = Self.instance()
        plain.authHMAC = nil
        #expect(!Daemon.identityChanged(plain, Self.instance()))
        #expect(!Daemon.identityChanged(Self.instance(), Self.instance(mode: .receiveOnly)))
        #expect(!Daemon.identityChanged(Self.instance(), Self.instance(keys: [(9, Self.key2)], active: 9)))
    }

    @Test func coreSettingsMirrorTheConfiguration() {
        let config = HMACAuthConfig(keys: [HMACKey(id: 3, material: Self.key1), HMACKey(id: 200, material: Self.key2)],
                                    activeKey: 200, antiReplay: .monotonic, timeWindow: .seconds(42), mode: .receiveOnly)
        let settings = config.coreSettings
        #expect(settings.keys == [3: Self.key1, 200: Self.key2])
        #expect(settings.activeKey == 200 && settings.antiReplay == .monotonic && settings.timeWindow == 42)
        #expect(settings.mode == .receiveOnly && settings.problem == nil)
        #expect(!"\(settings)".contains("17, 17"))
    }
}
