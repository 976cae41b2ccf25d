import Testing
import VRRP
@testable import VRRPNode

// auth_hmac in the node layer: every drop reason, the replay window at its edges, the sequence
// generator (counter wrap, clock steps), key rotation in both orders, every mode, the replay
// tables, and the receiver hook.

let key1 = [UInt8](repeating: 0x11, count: 32)
let key2 = [UInt8](repeating: 0x22, count: 64)
let now0 = UTCTime(seconds: 1_780_000_000, fraction: 0x4000)

func authSettings(keys: [UInt8: [UInt8]] = [1: key1], active: UInt8 = 1, antiReplay: AuthHMACSettings.AntiReplay = .time,
                  window: UInt32 = 5, mode: AuthHMACSettings.Mode = .enforce) -> AuthHMACSettings {
    AuthHMACSettings(keys: keys, activeKey: active, antiReplay: antiReplay, timeWindow: window, mode: mode)
}

/// `ad` from `source` to `destination`, signed with `keyID`/`key` at `sequence` (nil: unsigned), decoded.
func signed(_ ad: Advertisement = advert(), from source: IPAddress = peer4, to destination: IPAddress = group4,
            keyID: UInt8 = 1, key: [UInt8] = key1, sequence: AuthSequence?) -> DecodedAdvertisement {
    let message = VRRPCodec.encode(ad, source: source, destination: destination)
    let trailer = sequence.map {
        AuthTrailer.sign(message: message[...], source: source, keyID: keyID, key: HMACSHA256(key: key), sequence: $0)
    }
    let wire = VRRPCodec.encode(ad, source: source, destination: destination, authTrailer: trailer)
    return try! VRRPCodec.decode(wire, context: PacketContext(source: source, destination: destination, hopLimit: nil))
}

func seq(_ time: UTCTime, _ counter: UInt16 = 0) -> AuthSequence {
    AuthSequence(seconds: time.seconds, fraction: time.fraction, counter: counter)
}

func later(_ seconds: Int64, _ time: UTCTime = now0) -> UTCTime {
    UTCTime(seconds: UInt32(truncatingIfNeeded: Int64(time.seconds) + seconds), fraction: time.fraction)
}

@Suite("auth_hmac: verification and drop reasons")
struct AuthVerifierTests {
    @Test("every drop reason has its stable label")
    func labels() {
        #expect(AuthDrop.allCases.map(\.label) == ["hmac_missing", "hmac_malformed", "hmac_unknown_key", "hmac_bad",
                                                   "hmac_stale", "hmac_replayed", "hmac_unexpected"])
        #expect(ReceiveDrop.authentication(.bad).label == "hmac_bad")
    }

    @Test("a valid trailer is accepted and moves the mark; the same packet again is hmac_replayed")
    func acceptThenReplay() {
        var verifier = AuthVerifier(settings: authSettings())
        let packet = signed(sequence: seq(now0))
        #expect(verifier.verify(packet, source: peer4, now: now0, multicast: true) == .accepted(keyID: 1, sequence: seq(now0)))
        #expect(verifier.lastAccepted(from: peer4, multicast: true) == seq(now0))
        #expect(verifier.verify(packet, source: peer4, now: now0, multicast: true) == .dropped(.replayed))
        // Older is refused too; newer (next counter, next fraction) is accepted.
        #expect(verifier.verify(signed(sequence: seq(later(-1))), source: peer4, now: now0, multicast: true) == .dropped(.replayed))
        #expect(verifier.verify(signed(sequence: seq(now0, 1)), source: peer4, now: now0, multicast: true) == .accepted(keyID: 1, sequence: seq(now0, 1)))
    }

    @Test("enforce: no trailer is hmac_missing")
    func missing() {
        let verifier = AuthVerifier(settings: authSettings())
        #expect(verifier.check(signed(sequence: nil), source: peer4, now: now0, multicast: true) == .dropped(.missing))
    }

    @Test("ext_type other than 1, or reserved not 0, is hmac_malformed")
    func malformed() throws {
        let verifier = AuthVerifier(settings: authSettings())
        for (type, reserved): (UInt8, UInt16) in [(0, 0), (2, 0), (255, 0), (1, 1), (1, 0x8000)] {
            var packet = signed(sequence: seq(now0))
            packet.authTrailer!.trailer.extType = type
            packet.authTrailer!.trailer.reserved = reserved
            #expect(verifier.check(packet, source: peer4, now: now0, multicast: true) == .dropped(.malformed), "type \(type) reserved \(reserved)")
        }
    }

    @Test("a key id that is not configured is hmac_unknown_key")
    func unknownKey() {
        let verifier = AuthVerifier(settings: authSettings())
        #expect(verifier.check(signed(keyID: 2, key: key2, sequence: seq(now0)), source: peer4, now: now0, multicast: true)
                == .dropped(.unknownKey))
    }

    @Test("a wrong key, another source, another VRID or an altered field is hmac_bad")
    func bad() {
        let verifier = AuthVerifier(settings: authSettings(keys: [1: key1, 2: key2]))
        func check(_ packet: DecodedAdvertisement, from source: IPAddress = peer4) -> AuthVerdict {
            verifier.check(packet, source: source, now: now0, multicast: true)
        }
        #expect(check(signed(keyID: 1, key: key2, sequence: seq(now0))) == .dropped(.bad))
        #expect(check(signed(sequence: seq(now0)), from: stranger4) == .dropped(.bad))
        // A forger who rewrites the priority, the VRID's pseudo-header or the sequence of a genuine packet.
        var raised = signed(sequence: seq(now0))
        raised.authTrailer!.message[2] = 255
        #expect(check(raised) == .dropped(.bad))
        var renumbered = signed(sequence: seq(now0))
        renumbered.authTrailer!.trailer.sequence = seq(now0, 9)
        #expect(check(renumbered) == .dropped(.bad))
        var otherVRID = signed(sequence: seq(now0))
        otherVRID.authTrailer!.message[1] = 8
        #expect(check(otherVRID) == .dropped(.bad))
        var zeroMAC = signed(sequence: seq(now0))
        zeroMAC.authTrailer!.trailer.mac = [UInt8](repeating: 0, count: 16)
        #expect(check(zeroMAC) == .dropped(.bad))
    }

    @Test("time window edges: exactly window seconds either way is fresh, window + 1 is hmac_stale", arguments: [1, 5, 300] as [UInt32])
    func windowEdges(window: UInt32) {
        let verifier = AuthVerifier(settings: authSettings(window: window))
        let w = Int64(window)
        for (offset, fresh) in [(w, true), (-w, true), (w + 1, false), (-w - 1, false), (0, true)] {
            // The sender's clock is `offset` seconds behind ours (negative: ahead).
            let verdict = verifier.check(signed(sequence: seq(later(-offset))), source: peer4, now: now0, multicast: true)
            #expect((verdict == .dropped(.stale)) == !fresh, "offset \(offset): \(verdict)")
        }
        // Whole seconds only: the last fraction of the window's last second is still fresh.
        let edge = AuthSequence(seconds: now0.seconds - window, fraction: 0, counter: 0)
        #expect(verifier.check(signed(sequence: edge), source: peer4, now: UTCTime(seconds: now0.seconds, fraction: 0xFFFF), multicast: true)
                == .accepted(keyID: 1, sequence: edge))
    }

    @Test("stale is judged before the key and the MAC (a flood of old captures costs no HMAC), as keepalived")
    func staleFirst() {
        let verifier = AuthVerifier(settings: authSettings())
        #expect(verifier.check(signed(keyID: 9, key: key2, sequence: seq(later(-60))), source: peer4, now: now0, multicast: true)
                == .dropped(.stale))
    }

    @Test("time mode without a clock fails closed: hmac_stale")
    func noClock() {
        let verifier = AuthVerifier(settings: authSettings())
        #expect(verifier.check(signed(sequence: seq(now0)), source: peer4, now: nil, multicast: true) == .dropped(.stale))
        let monotonic = AuthVerifier(settings: authSettings(antiReplay: .monotonic))
        #expect(monotonic.check(signed(sequence: seq(now0)), source: peer4, now: nil, multicast: true) == .accepted(keyID: 1, sequence: seq(now0)))
    }

    @Test("monotonic: any age is accepted if strictly greater; equal or older is hmac_replayed")
    func monotonic() {
        var verifier = AuthVerifier(settings: authSettings(antiReplay: .monotonic))
        let old = seq(later(-100_000))
        #expect(verifier.verify(signed(sequence: old), source: peer4, now: now0, multicast: false) == .accepted(keyID: 1, sequence: old))
        #expect(verifier.verify(signed(sequence: old), source: peer4, now: now0, multicast: false) == .dropped(.replayed))
        #expect(verifier.verify(signed(sequence: AuthSequence(rawValue: old.rawValue - 1)), source: peer4, now: now0, multicast: false) == .dropped(.replayed))
        #expect(verifier.verify(signed(sequence: old.successor), source: peer4, now: now0, multicast: false) == .accepted(keyID: 1, sequence: old.successor))
    }

    @Test("time mode: a mark older than the window no longer orders (a sender whose clock stepped back recovers)")
    func markExpires() {
        var verifier = AuthVerifier(settings: authSettings(window: 5))
        // The sender's clock ran 4 s ahead, then was corrected.
        let ahead = seq(later(4))
        #expect(verifier.verify(signed(sequence: ahead), source: peer4, now: now0, multicast: true) == .accepted(keyID: 1, sequence: ahead))
        let corrected = seq(later(1))
        #expect(verifier.verify(signed(sequence: corrected), source: peer4, now: later(1), multicast: true) == .dropped(.replayed))
        // 10 s later the old mark (now0+4) is 6 s old, beyond the window: it no longer counts.
        #expect(verifier.verify(signed(sequence: seq(later(10))), source: peer4, now: later(10), multicast: true) == .accepted(keyID: 1, sequence: seq(later(10))))
        // Exactly at the window edge the mark still orders.
        var edge = AuthVerifier(settings: authSettings(window: 5))
        _ = edge.verify(signed(sequence: seq(now0, 5)), source: peer4, now: now0, multicast: true)
        #expect(edge.verify(signed(sequence: seq(now0, 4)), source: peer4, now: later(5), multicast: true) == .dropped(.replayed))
        #expect(edge.verify(signed(sequence: seq(later(-1))), source: peer4, now: later(-1 + 5), multicast: true) == .dropped(.replayed))
    }

    @Test("nothing changes on a refused advertisement: forged, replayed, stale or unknown-key packets move no mark")
    func refusedChangesNothing() {
        var verifier = AuthVerifier(settings: authSettings())
        _ = verifier.verify(signed(sequence: seq(now0)), source: peer4, now: now0, multicast: true)
        let before = verifier
        var forged = signed(sequence: seq(later(1)))
        forged.authTrailer!.message[2] = 255
        for packet in [forged, signed(sequence: seq(now0)), signed(sequence: seq(later(-9))),
                       signed(keyID: 3, key: key2, sequence: seq(later(1))), signed(sequence: nil)] {
            #expect(verifier.verify(packet, source: peer4, now: now0, multicast: true) != .accepted(keyID: 1, sequence: seq(later(1))))
            #expect(verifier == before)
        }
        // And forged packets from new multicast sources never take a slot.
        for i in 0..<10 {
            var f = signed(from: IPAddress.v4(IPv4Address(192, 0, 2, UInt8(50 + i))), sequence: seq(later(1)))
            f.authTrailer!.trailer.mac[0] ^= 1
            _ = verifier.verify(f, source: IPAddress.v4(IPv4Address(192, 0, 2, UInt8(50 + i))), now: now0, multicast: true)
        }
        #expect(verifier == before)
    }

    @Test("multicast senders: 4 slots, the least recently accepted evicted; unicast peers each keep theirs")
    func multicastLRU() {
        #expect(AuthVerifier.multicastSenderSlots == 4)
        var verifier = AuthVerifier(settings: authSettings())
        let sources = (0..<5).map { IPAddress.v4(IPv4Address(192, 0, 2, UInt8(20 + $0))) }
        for (i, source) in sources.prefix(4).enumerated() {
            _ = verifier.verify(signed(from: source, sequence: seq(now0, UInt16(i))), source: source, now: now0, multicast: true)
        }
        // Refresh the first, so the second is the least recently accepted.
        _ = verifier.verify(signed(from: sources[0], sequence: seq(now0, 10)), source: sources[0], now: now0, multicast: true)
        _ = verifier.verify(signed(from: sources[4], sequence: seq(now0, 11)), source: sources[4], now: now0, multicast: true)
        #expect(verifier.lastAccepted(from: sources[1], multicast: true) == nil)
        for i in [0, 2, 3, 4] { #expect(verifier.lastAccepted(from: sources[i], multicast: true) != nil, "source \(i)") }
        // The evicted sender starts afresh (its replays still bounded by the window).
        #expect(verifier.verify(signed(from: sources[1], sequence: seq(now0, 1)), source: sources[1], now: now0, multicast: true)
                == .accepted(keyID: 1, sequence: seq(now0, 1)))
        // Unicast marks are per peer and separate from the multicast table.
        var unicast = AuthVerifier(settings: authSettings())
        for source in sources { _ = unicast.verify(signed(from: source, to: us4, sequence: seq(now0)), source: source, now: now0, multicast: false) }
        for source in sources {
            #expect(unicast.lastAccepted(from: source, multicast: false) == seq(now0))
            #expect(unicast.lastAccepted(from: source, multicast: true) == nil)
        }
    }
}

@Suite("auth_hmac: modes and key rotation")
struct AuthModeTests {
    @Test("receive-only: sends no trailer, accepts unsigned, verifies a trailer when present")
    func receiveOnly() {
        var signer = AdvertisementSigner()
        let settings = authSettings(mode: .receiveOnly)
        #expect(signer.trailer(for: advert(), source: us4, settings: settings, now: now0) == nil)
        #expect(signer.sequence.last == nil)
        let packets = signer.encode(advert(), source: us4, destinations: [group4], checksumForm: .withPseudoHeader, settings: settings, now: now0)
        #expect(packets.map(\.bytes) == [VRRPCodec.encode(advert(), source: us4, destination: group4)])
        var verifier = AuthVerifier(settings: settings)
        #expect(verifier.verify(signed(sequence: nil), source: peer4, now: now0, multicast: true) == .acceptedUnsigned)
        #expect(verifier.verify(signed(sequence: seq(now0)), source: peer4, now: now0, multicast: true) == .accepted(keyID: 1, sequence: seq(now0)))
        #expect(verifier.verify(signed(keyID: 1, key: key2, sequence: seq(now0, 1)), source: peer4, now: now0, multicast: true) == .dropped(.bad))
    }

    @Test("permissive: signs, accepts unsigned, refuses a bad trailer")
    func permissive() throws {
        var signer = AdvertisementSigner()
        let settings = authSettings(mode: .permissive)
        let made = signer.trailer(for: advert(), source: us4, settings: settings, now: now0)
        let trailer = try #require(made)
        #expect(trailer.keyID == 1 && trailer.sequence == seq(now0))
        let verifier = AuthVerifier(settings: settings)
        #expect(verifier.check(signed(sequence: nil), source: peer4, now: now0, multicast: true) == .acceptedUnsigned)
        #expect(verifier.check(signed(keyID: 1, key: key2, sequence: seq(now0)), source: peer4, now: now0, multicast: true) == .dropped(.bad))
    }

    @Test("enforce: signs and requires a trailer; mode flags")
    func enforce() {
        #expect(AuthHMACSettings.Mode.allCases.map(\.signs) == [false, true, true])
        #expect(AuthHMACSettings.Mode.allCases.map(\.acceptsUnsigned) == [true, true, false])
        #expect(AuthHMACSettings.Mode.allCases.map(\.rawValue) == ["receive-only", "permissive", "enforce"])
        var signer = AdvertisementSigner()
        #expect(signer.trailer(for: advert(), source: us4, settings: authSettings(), now: now0) != nil)
    }

    @Test("rollout receive-only → permissive → enforce: at every step, each pair of adjacent modes accepts the other's adverts")
    func rollout() {
        let modes = AuthHMACSettings.Mode.allCases
        for (a, b) in zip(modes, modes.dropFirst()) {
            for (sender, receiver) in [(a, b), (b, a)] {
                var signer = AdvertisementSigner()
                let packet = signer.encode(advert(), source: peer4, destinations: [group4], checksumForm: .withPseudoHeader,
                                           settings: authSettings(mode: sender), now: now0)[0].bytes
                let decoded = try! VRRPCodec.decode(packet, context: PacketContext(source: peer4, destination: group4, hopLimit: 255))
                var verifier = AuthVerifier(settings: authSettings(mode: receiver))
                let verdict = verifier.verify(decoded, source: peer4, now: now0, multicast: true)
                #expect(verdict != .dropped(.missing) && verdict != .dropped(.bad), "\(sender) → \(receiver): \(verdict)")
            }
        }
        // Skipping a step does not work: receive-only → enforce is hmac_missing.
        let verifier = AuthVerifier(settings: authSettings(mode: .enforce))
        #expect(verifier.check(signed(sequence: nil), source: peer4, now: now0, multicast: true) == .dropped(.missing))
    }

    @Test("key rotation, both orders: with keys 1 and 2 configured, a node signing with 1 and one with 2 accept each other")
    func rotationBothOrders() {
        let both: [UInt8: [UInt8]] = [1: key1, 2: key2]
        for (oldActive, newActive) in [(UInt8(1), UInt8(2)), (2, 1)] {
            var old = AdvertisementSigner(), new = AdvertisementSigner()
            var oldReceiver = AuthVerifier(settings: authSettings(keys: both, active: oldActive))
            var newReceiver = AuthVerifier(settings: authSettings(keys: both, active: newActive))
            for step in 0..<3 {
                let t = later(Int64(step))
                let fromOld = old.encode(advert(), source: peer4, destinations: [group4], checksumForm: .withPseudoHeader,
                                         settings: authSettings(keys: both, active: oldActive), now: t)[0].bytes
                let fromNew = new.encode(advert(), source: us4, destinations: [group4], checksumForm: .withPseudoHeader,
                                         settings: authSettings(keys: both, active: newActive), now: t)[0].bytes
                let context = { (s: IPAddress) in PacketContext(source: s, destination: group4, hopLimit: 255) }
                #expect(newReceiver.verify(try! VRRPCodec.decode(fromOld, context: context(peer4)), source: peer4, now: t, multicast: true)
                        == .accepted(keyID: oldActive, sequence: seq(t)))
                #expect(oldReceiver.verify(try! VRRPCodec.decode(fromNew, context: context(us4)), source: us4, now: t, multicast: true)
                        == .accepted(keyID: newActive, sequence: seq(t)))
            }
            // Once the old key is removed, the straggler still on it is refused.
            let removed = AuthVerifier(settings: authSettings(keys: [newActive: both[newActive]!], active: newActive))
            #expect(removed.check(signed(keyID: oldActive, key: both[oldActive]!, sequence: seq(later(5))), source: peer4, now: later(5), multicast: true)
                    == .dropped(.unknownKey))
        }
    }

    @Test("replacing the settings (rotation, reload) keeps the replay marks")
    func settingsChangeKeepsMarks() {
        var verifier = AuthVerifier(settings: authSettings(keys: [1: key1, 2: key2], active: 1))
        _ = verifier.verify(signed(sequence: seq(now0, 3)), source: peer4, now: now0, multicast: true)
        verifier.settings = authSettings(keys: [1: key1, 2: key2], active: 2, window: 30)
        #expect(verifier.verify(signed(sequence: seq(now0, 3)), source: peer4, now: now0, multicast: true) == .dropped(.replayed))
        #expect(verifier.verify(signed(keyID: 2, key: key2, sequence: seq(now0, 3)), source: peer4, now: now0, multicast: true) == .dropped(.replayed))
    }
}

@Suite("auth_hmac: sequence generator and settings")
struct AuthSequenceTests {
    @Test("clock ahead of the last: the clock with counter 0; same fraction: counter + 1")
    func basic() {
        var generator = AuthSequenceGenerator()
        #expect(generator.next(now: now0, antiReplay: .time, timeWindow: 5) == seq(now0))
        #expect(generator.next(now: now0, antiReplay: .time, timeWindow: 5) == seq(now0, 1))
        #expect(generator.next(now: now0, antiReplay: .time, timeWindow: 5) == seq(now0, 2))
        let t = UTCTime(seconds: now0.seconds, fraction: now0.fraction + 1)
        #expect(generator.next(now: t, antiReplay: .time, timeWindow: 5) == seq(t))
    }

    @Test("counter wrap within one timestamp carries into the fraction, then the seconds: always growing")
    func counterWrap() {
        var generator = AuthSequenceGenerator(last: AuthSequence(seconds: now0.seconds, fraction: now0.fraction, counter: 0xFFFF))
        let next = generator.next(now: now0, antiReplay: .time, timeWindow: 5)
        #expect(next == AuthSequence(seconds: now0.seconds, fraction: now0.fraction + 1, counter: 0))
        #expect(next.isAfter(AuthSequence(seconds: now0.seconds, fraction: now0.fraction, counter: 0xFFFF)))
        var top = AuthSequenceGenerator(last: AuthSequence(seconds: now0.seconds, fraction: 0xFFFF, counter: 0xFFFF))
        #expect(top.next(now: UTCTime(seconds: now0.seconds, fraction: 0xFFFF), antiReplay: .time, timeWindow: 5)
                == AuthSequence(seconds: now0.seconds + 1, fraction: 0, counter: 0))
        // 65,536 adverts within one fraction: strictly increasing throughout, and the receiver takes each.
        var run = AuthSequenceGenerator()
        var verifier = AuthVerifier(settings: authSettings())
        var previous: AuthSequence?
        for i in 0..<70_000 {
            let s = run.next(now: now0, antiReplay: .time, timeWindow: 5)
            if let previous { #expect(s.isAfter(previous)) }
            previous = s
            if i % 9_999 == 0 || i == 65_535 || i == 65_536 {
                #expect(verifier.verify(signed(sequence: s), source: peer4, now: now0, multicast: true) == .accepted(keyID: 1, sequence: s))
            }
        }
        #expect(previous == AuthSequence(rawValue: seq(now0).rawValue + 69_999))
    }

    @Test("the 2106 wrap of the seconds field: serial comparison keeps order")
    func secondsWrap() {
        let before = AuthSequence(seconds: 0xFFFF_FFFF, fraction: 0xFFFF, counter: 0xFFFF)
        #expect(before.successor == AuthSequence(rawValue: 0))
        #expect(before.successor.isAfter(before))
        #expect(!before.isAfter(before.successor))
        let verifier = AuthVerifier(settings: authSettings())
        #expect(verifier.check(signed(sequence: AuthSequence(seconds: 0xFFFF_FFFE, fraction: 0, counter: 0)), source: peer4,
                               now: UTCTime(seconds: 2), multicast: true) == .accepted(keyID: 1, sequence: AuthSequence(seconds: 0xFFFF_FFFE, fraction: 0, counter: 0)))
    }

    @Test("clock stepped back: within the window keep counting up; beyond it (time mode) restart from the clock; monotonic keeps counting")
    func clockStepBack() {
        var time = AuthSequenceGenerator(last: seq(later(5)))
        #expect(time.next(now: now0, antiReplay: .time, timeWindow: 5) == seq(later(5)).successor)
        var far = AuthSequenceGenerator(last: seq(later(6)))
        #expect(far.next(now: now0, antiReplay: .time, timeWindow: 5) == seq(now0))
        var monotonic = AuthSequenceGenerator(last: seq(later(600)))
        #expect(monotonic.next(now: now0, antiReplay: .monotonic, timeWindow: 5) == seq(later(600)).successor)
    }

    @Test("UTCTime from a timespec: nanoseconds to a 1/65536 fraction, rounding down")
    func utcTime() {
        #expect(UTCTime(unixSeconds: 1_780_000_000, nanoseconds: 0) == UTCTime(seconds: 1_780_000_000, fraction: 0))
        #expect(UTCTime(unixSeconds: 1, nanoseconds: 500_000_000).fraction == 0x8000)
        #expect(UTCTime(unixSeconds: 1, nanoseconds: 999_999_999).fraction == 0xFFFF)
        #expect(UTCTime(unixSeconds: 0x1_0000_0005, nanoseconds: 0).seconds == 5)
    }

    @Test("default window: max(3 × interval, 5 s), rounded up, at most 300 s")
    func defaultWindow() {
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(centiseconds: 100)) == 5)
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(centiseconds: 1)) == 5)
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(centiseconds: 200)) == 6)
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(centiseconds: 201)) == 7)
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(centiseconds: 4095)) == 123)
        #expect(AuthHMACSettings.defaultTimeWindow(advertInterval: AdvertInterval(seconds: 255)) == 300)
    }

    @Test("settings problems, first found; descriptions never show key bytes")
    func problems() {
        #expect(authSettings().problem == nil)
        #expect(authSettings(keys: [:]).problem == .noKeys)
        #expect(authSettings(keys: [0: key1, 1: key1]).problem == .keyIDZero)
        #expect(authSettings(keys: [1: [UInt8](repeating: 1, count: 31)]).problem == .keyLength(id: 1, length: 31))
        #expect(authSettings(keys: [1: [UInt8](repeating: 1, count: 65)]).problem == .keyLength(id: 1, length: 65))
        #expect(authSettings(keys: [1: [UInt8](repeating: 1, count: 64)]).problem == nil)
        #expect(authSettings(active: 2).problem == .activeKeyMissing(2))
        #expect(authSettings(window: 0).problem == .timeWindowOutOfRange(0))
        #expect(authSettings(window: 301).problem == .timeWindowOutOfRange(301))
        #expect(authSettings(window: 300).problem == nil)
        let text = authSettings(keys: [1: key1, 2: key2], active: 2).description
        #expect(text == "auth_hmac(keys 1,2, active 2, time 5s, enforce)")
        #expect(!text.contains("17") && !text.contains("34"))
    }
}

@Suite("auth_hmac: the receiver hook and round trips")
struct AuthReceiverTests {
    @Test("no auth_hmac: a trailer is hmac_unexpected; with it, the verdict decides and a drop delivers nothing")
    func hook() {
        var plain = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4))
        let facts = PacketFacts(source: peer4, destination: group4, hopLimit: 255)
        #expect(plain.receive(signed(sequence: seq(now0)), facts, now: now0) == [.dropped(.authentication(.unexpected))])
        #expect(plain.receive(signed(sequence: nil), facts) == [.deliver(.advertisement(advert(), source: peer4))])

        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, authHMAC: authSettings()))
        #expect(receiver.receive(signed(sequence: nil), facts, now: now0) == [.dropped(.authentication(.missing))])
        #expect(receiver.receive(signed(sequence: seq(now0)), facts, now: now0) == [.deliver(.advertisement(advert(), source: peer4))])
        #expect(receiver.receive(signed(sequence: seq(now0)), facts, now: now0) == [.dropped(.authentication(.replayed))])
        #expect(receiver.receive(signed(sequence: seq(now0, 1)), facts) == [.dropped(.authentication(.stale))])
        // Replacing the settings keeps the marks.
        receiver.settings.authHMAC = authSettings(keys: [1: key1, 2: key2], active: 2, mode: .permissive)
        #expect(receiver.receive(signed(sequence: seq(now0)), facts, now: now0) == [.dropped(.authentication(.replayed))])
        #expect(receiver.receive(signed(sequence: nil), facts, now: now0) == [.deliver(.advertisement(advert(), source: peer4))])
    }

    @Test("unicast: a non-peer is not_a_peer before any HMAC work; peers are verified with their own marks")
    func unicast() {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4], authHMAC: authSettings()))
        let fromStranger = PacketFacts(source: stranger4, destination: us4, hopLimit: 64)
        #expect(receiver.receive(signed(from: stranger4, to: us4, sequence: seq(now0)), fromStranger, now: now0) == [.dropped(.notAPeer)])
        let fromPeer = PacketFacts(source: peer4, destination: us4, hopLimit: 64)
        #expect(receiver.receive(signed(to: us4, sequence: seq(now0)), fromPeer, now: now0) == [.deliver(.advertisement(advert(), source: peer4))])
        #expect(receiver.authVerifier?.lastAccepted(from: peer4, multicast: false) == seq(now0))
    }

    @Test("round trip (random adverts, keys, sequences, v2/v3 × IPv4/IPv6): signed packets verify; any one bit flipped never does")
    func roundTripAndBitFlips() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<60 {
            let ipv6 = Bool.random(using: &rng)
            let version: VRRPVersion = ipv6 || Bool.random(using: &rng) ? .v3 : .v2
            let count = Int.random(in: 1...6, using: &rng)
            let addresses: [IPAddress] = (0..<count).map { i in
                ipv6 ? .v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64(i + 1))) : .v4(IPv4Address(198, 51, 100, UInt8(i + 1)))
            }
            let ad = Advertisement(version: version, vrid: UInt8.random(in: 1...255, using: &rng), priority: UInt8.random(in: 0...255, using: &rng),
                                   interval: version == .v3 ? AdvertInterval(centiseconds: UInt16.random(in: 1...4095, using: &rng))
                                                            : AdvertInterval(seconds: UInt8.random(in: 1...255, using: &rng)),
                                   addresses: addresses)
            let source: IPAddress = ipv6 ? .v6(IPv6Address(high: 0xfe80_0000_0000_0000, low: 9)) : peer4
            let destination: IPAddress = ipv6 ? group6 : (Bool.random(using: &rng) ? group4 : us4)
            let keyID = UInt8.random(in: 1...255, using: &rng)
            let key = (0..<Int.random(in: 32...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let settings = AuthHMACSettings(keys: [keyID: key], activeKey: keyID, antiReplay: .time, timeWindow: 5)
            let now = UTCTime(seconds: UInt32.random(in: 0...UInt32.max, using: &rng), fraction: UInt16.random(in: 0...0xFFFF, using: &rng))
            var signer = AdvertisementSigner()
            let wire = signer.encode(ad, source: source, destinations: [destination], checksumForm: .withPseudoHeader,
                                     settings: settings, now: now)[0].bytes
            let context = PacketContext(source: source, destination: destination, hopLimit: nil)
            let decoded = try! VRRPCodec.decode(wire, context: context)
            #expect(decoded.advertisement == VRRPCodec.normalizedForEncoding(ad, family: source.family))
            #expect(AuthVerifier(settings: settings).check(decoded, source: source, now: now, multicast: true)
                    == .accepted(keyID: keyID, sequence: AuthSequence(now)))
            let bit = Int.random(in: 0..<(wire.count * 8), using: &rng)
            var flipped = wire
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            if let altered = try? VRRPCodec.decode(flipped, context: context) {
                let verdict = AuthVerifier(settings: settings).check(altered, source: source, now: now, multicast: true)
                if case .accepted = verdict { Issue.record("bit \(bit) flipped in \(wire) still verified") }
            }
        }
    }
}
