// `auth_hmac` in the simulation: which virtual routers sign, the wall clocks, the wire path through
// the codec and `AdvertisementReceiver`, and an adversary on the LAN that forges and replays.
//
// Everything here draws from `authRandom`, not the scenario's `random`, so that the rest of a seed
// (nodes, chaos, network) is decided as before.
//
// The adversary sees every signed advert on the LAN and, for virtual routers whose nodes all
// `enforce`, sends to a live node: an unsigned priority-255 advert with a peer's source
// (hmac_missing), one signed with a key id nobody has (hmac_unknown_key) or with key 1 but the wrong
// bytes (hmac_bad), a capture with its priority raised or its sequence made fresh (hmac_bad, or
// hmac_stale when the capture is already old), and replays of captures (hmac_replayed or
// hmac_stale). A replay is only sent when the design claims to refuse it: the victim has already
// accepted that sequence or a later one from that sender, or it is outside the window. (A capture
// the victim never received and that is still fresh is a genuine advert arriving late: accepting it
// is correct, and no anti-replay scheme can tell.) Any adversary advert accepted fails the run.

import VRRP
import VRRPNode

extension Simulation {
    /// What the adversary sent, and what the victim must answer.
    enum Attack: Sendable {
        /// Forged: refused with one of these reasons.
        case forged(String, expected: [AuthDrop])
        /// A genuine capture sent again.
        case replay(AuthSequence)
    }

    struct Capture {
        var bytes: [UInt8]
        var source: IPAddress
        var sequence: AuthSequence
    }

    /// UTC epoch of the simulated wall clocks (2026).
    static let wallEpochSeconds: Int64 = 1_780_000_000

    mutating func configureAuth() {
        captures = vrs.map { _ in [] }
        oldCaptures = captures
        for n in nodes.indices {
            nodes[n].wallSkew = authRandom.int64(-400_000_000...400_000_000)
            nodes[n].auth = Array(repeating: nil, count: vrs.count)
        }
        // The window must cover the network's delay plus the clocks' disagreement, or genuine adverts
        // would arrive stale (as they would on a real network that slow).
        let delayBound = max(1, minInterval / 10) + max(1, minInterval / 3) + 800_000_000
        let shortestWindow = UInt32(min(300, delayBound / 1_000_000_000 + 2))
        for v in vrs.indices where vrs[v].authentication == .none && authRandom.chance(0.35) {
            let keys: [UInt8: [UInt8]] = [
                1: (0..<authRandom.int(32...64)).map { _ in UInt8(truncatingIfNeeded: authRandom.next()) },
                2: (0..<authRandom.int(32...64)).map { _ in UInt8(truncatingIfNeeded: authRandom.next()) },
            ]
            let antiReplay: AuthHMACSettings.AntiReplay = authRandom.chance(0.8) ? .time : .monotonic
            let window = max(shortestWindow, authRandom.chance(0.5)
                ? AuthHMACSettings.defaultTimeWindow(advertInterval: vrs[v].longestInterval) : UInt32(authRandom.int(1...300)))
            let shared = AuthHMACSettings(keys: keys, activeKey: 1, antiReplay: antiReplay, timeWindow: window)
            vrs[v].auth = shared
            vrs[v].attacked = authRandom.chance(0.7)
            // Otherwise a rollout step: each node in one of two adjacent modes.
            let pair: [AuthHMACSettings.Mode] = authRandom.chance(0.5) ? [.receiveOnly, .permissive] : [.permissive, .enforce]
            var line = "vr\(v): auth_hmac \(antiReplay.rawValue) window \(window)s"
            for n in nodes.indices {
                var mine = shared
                mine.activeKey = UInt8(authRandom.int(1...2))
                mine.mode = vrs[v].attacked ? .enforce : authRandom.pick(pair)
                line += " node\(n)[\(mine.mode.rawValue) key \(mine.activeKey)]"
                nodes[n].auth[v] = mine
            }
            setupLines.append(line + (vrs[v].attacked ? " + adversary" : ""))
        }
        for n in nodes.indices { resetAuthState(n) }
        if vrs.contains(where: \.attacked) { queue.push(.attack, at: authRandom.int64(0...maxInterval)) }
    }

    /// A (re)started daemon: fresh receivers (no replay marks) and signers.
    mutating func resetAuthState(_ n: Int) {
        nodes[n].receivers = vrs.indices.map { v in
            var settings = nodes[n].auth[v]
            if sabotage == .acceptUnsigned { settings?.mode = .permissive }
            return AdvertisementReceiver(settings: ReceiverSettings(family: vrs[v].family, authHMAC: settings))
        }
        nodes[n].signers = vrs.map { _ in AdvertisementSigner() }
    }

    /// A reload may switch the active key (both keys stay configured); the receiver keeps its marks.
    mutating func rotateKey(_ n: Int, _ v: Int) {
        guard var settings = nodes[n].auth[v], authRandom.chance(0.5) else { return }
        settings.activeKey = settings.activeKey == 1 ? 2 : 1
        nodes[n].auth[v] = settings
        nodes[n].receivers[v].settings.authHMAC = settings
        if sabotage == .acceptUnsigned { nodes[n].receivers[v].settings.authHMAC?.mode = .permissive }
        record(.note("node\(n) vr\(v) reload: auth_hmac active key \(settings.activeKey)"))
    }

    func wall(_ n: Int) -> UTCTime {
        let total = Self.wallEpochSeconds * 1_000_000_000 + now + nodes[n].wallSkew
        return UTCTime(unixSeconds: total / 1_000_000_000, nanoseconds: total % 1_000_000_000)
    }

    static func group(_ family: AddressFamily) -> IPAddress {
        family == .ipv4 ? .v4(.vrrpMulticast) : .v6(.vrrpMulticast)
    }

    /// The advert as node `n` puts it on the wire (signed unless its mode is receive-only); the
    /// adversary keeps a copy of signed ones.
    mutating func signedBytes(from n: Int, _ v: Int, _ advert: Advertisement) -> [UInt8] {
        let source = nodes[n].configs[v].primaryAddress
        let packet = nodes[n].signers[v].encode(advert, source: source, destinations: [Self.group(vrs[v].family)],
                                                checksumForm: .withPseudoHeader, settings: nodes[n].auth[v], now: wall(n))[0].bytes
        if nodes[n].auth[v]?.mode.signs == true, let sequence = nodes[n].signers[v].sequence.last {
            stats.signedAdvertisements += 1
            let capture = Capture(bytes: packet, source: source, sequence: sequence)
            captures[v].append(capture)
            if captures[v].count > 16 { captures[v].removeFirst() }
            if authRandom.chance(0.05) {
                oldCaptures[v].append(capture)
                if oldCaptures[v].count > 8 { oldCaptures[v].removeFirst() }
            }
        }
        return packet
    }

    /// Receives an advert as bytes, as the daemon does: decode (per interface), then the virtual
    /// router's receiver (auth_hmac), then the Router.
    mutating func receiveBytes(_ n: Int, _ v: Int, _ bytes: [UInt8], source: IPAddress, sender: Int,
                               attack: Attack?) throws(SimulationFailure) {
        let settings = nodes[n].auth[v]
        if case .replay(let sequence) = attack, let settings {
            // Only replays the design refuses (see the header): otherwise it is a late genuine advert.
            let mark = nodes[n].receivers[v].authVerifier?.lastAccepted(from: source, multicast: true)
            let seen = mark.map { !sequence.isAfter($0) } ?? false
            let age = Int64(Int32(bitPattern: wall(n).seconds &- sequence.seconds)).magnitude
            let old = settings.antiReplay == .time && age > UInt64(settings.timeWindow)
            guard seen || old else { return }
        }
        let facts = PacketFacts(source: source, destination: Self.group(vrs[v].family), hopLimit: ProtocolConstants.requiredHopLimit)
        let decoded: DecodedAdvertisement
        switch ReceiveFilter.decode(bytes, facts) {
        case .success(let value): decoded = value
        case .failure(let drop):
            throw failure("node\(n) vr\(v): \(attack == nil ? "genuine" : "adversary") advert from node\(sender) does not decode (\(drop))")
        }
        for action in nodes[n].receivers[v].receive(decoded, facts, now: wall(n)) {
            switch action {
            case .dropped(let drop):
                switch attack {
                case nil:
                    // Duplicates and reordered copies are replays to anti-replay; nothing else may be refused.
                    guard drop == .authentication(.replayed) else {
                        throw failure("node\(n) vr\(v): genuine advert from node\(sender) refused (\(drop))")
                    }
                    stats.duplicatesRefused += 1
                case .forged(let what, let expected)?:
                    guard case .authentication(let reason) = drop, expected.contains(reason) else {
                        throw failure("node\(n) vr\(v): adversary \(what) refused as \(drop), expected \(expected)")
                    }
                    stats.attacksRefused += 1
                case .replay?:
                    guard drop == .authentication(.replayed) || drop == .authentication(.stale) else {
                        throw failure("node\(n) vr\(v): adversary replay refused as \(drop), expected replayed or stale")
                    }
                    stats.attacksRefused += 1
                }
            case .deliver(let input):
                if let attack { throw failure("node\(n) vr\(v): adversary advert accepted: \(attack)") }
                record(.deliver(node: n, vr: v, from: sender, priority: decoded.advertisement.priority))
                try feed(n, v, input)
            case .checksumFormFollowed:
                break
            }
        }
    }

    /// One adversary advert to one live node of an attacked virtual router.
    mutating func attack() {
        let targets = vrs.indices.filter { vrs[$0].attacked }
        guard !targets.isEmpty else { return }
        let v = authRandom.pick(targets)
        let n = authRandom.int(0...(nodes.count - 1))
        guard nodes[n].alive, nodes[n].auth[v] != nil else { return }
        let family = vrs[v].family
        // A peer's source address (or, alone, one no node has).
        let peer = nodes.count > 1 ? nodes[(n + 1 + authRandom.int(0...(nodes.count - 2))) % nodes.count].configs[v].primaryAddress
            : (family == .ipv4 ? IPAddress.v4(IPv4Address(192, 0, 2, 99)) : IPAddress.v6(IPv6Address(high: 0xfe80_0000_0000_0000, low: 99)))
        let config = nodes[n].configs[v]
        let takeover = Advertisement(version: config.version, vrid: config.vrid, priority: ProtocolConstants.ownerPriority,
                                     interval: config.advertInterval, addresses: config.addresses.map(\.address))
        let fresh = AuthSequence(wall(n))
        let group = Self.group(family)
        func signed(_ ad: Advertisement, from source: IPAddress, keyID: UInt8, key: [UInt8], sequence: AuthSequence) -> [UInt8] {
            let message = VRRPCodec.encode(ad, source: source, destination: group)
            let trailer = AuthTrailer.sign(message: message[...], source: source, keyID: keyID, key: HMACSHA256(key: key), sequence: sequence)
            return VRRPCodec.encode(ad, source: source, destination: group, authTrailer: trailer)
        }
        let randomKey = (0..<32).map { _ in UInt8(truncatingIfNeeded: authRandom.next()) }
        var bytes: [UInt8], source = peer, attack: Attack
        let latest = captures[v].last
        switch authRandom.int(0...5) {
        case 0:
            bytes = VRRPCodec.encode(takeover, source: peer, destination: group)
            attack = .forged("unsigned priority 255", expected: [.missing])
        case 1:
            bytes = signed(takeover, from: peer, keyID: UInt8(authRandom.int(3...255)), key: randomKey, sequence: fresh)
            attack = .forged("priority 255 under an unknown key", expected: [.unknownKey])
        case 2:
            bytes = signed(takeover, from: peer, keyID: UInt8(authRandom.int(1...2)), key: randomKey, sequence: fresh)
            attack = .forged("priority 255 under a guessed key", expected: [.bad])
        case 3:
            guard let capture = latest,
                  let decoded = try? VRRPCodec.decode(capture.bytes, context: PacketContext(source: capture.source, destination: group, hopLimit: nil)),
                  let trailer = decoded.authTrailer?.trailer else { return }
            var raised = decoded.advertisement
            // An owner's capture is lowered instead (to make a Backup of it): altered either way.
            raised.priority = raised.priority == ProtocolConstants.ownerPriority ? 1 : ProtocolConstants.ownerPriority
            source = capture.source
            bytes = VRRPCodec.encode(raised, source: source, destination: group, authTrailer: trailer)
            attack = .forged("capture with its priority changed", expected: [.bad, .stale])
        case 4:
            guard let capture = latest,
                  let decoded = try? VRRPCodec.decode(capture.bytes, context: PacketContext(source: capture.source, destination: group, hopLimit: nil)),
                  var trailer = decoded.authTrailer?.trailer else { return }
            trailer.sequence = fresh.isAfter(trailer.sequence) ? fresh : trailer.sequence.successor
            source = capture.source
            bytes = VRRPCodec.encode(decoded.advertisement, source: source, destination: group, authTrailer: trailer)
            attack = .forged("capture renumbered", expected: [.bad, .stale])
        default:
            let pool = captures[v] + oldCaptures[v]
            guard !pool.isEmpty else { return }
            let capture = authRandom.pick(pool)
            source = capture.source
            bytes = capture.bytes
            attack = .replay(capture.sequence)
        }
        record(.note("adversary → node\(n) vr\(v): \(attack)"))
        queue.push(.deliverBytes(node: n, vr: v, bytes: bytes, source: source, sender: -1, attack: attack),
                   at: now + authRandom.int64(0...max(1, baseDelay)))
    }
}
