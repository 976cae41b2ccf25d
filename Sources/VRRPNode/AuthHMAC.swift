// `auth_hmac`: settings, the sending side (sequence and signature) and the receiving side
// (verification, anti-replay, rollout modes) of authenticated advertisements, on keepalived's wire
// format (see Sources/VRRP/AuthTrailer.swift and docs/design.md, "Authentication (auth_hmac)").
// Pure: the wall clock comes in as a `UTCTime` value.

import VRRP

/// One virtual router's `auth_hmac` configuration. Equatable so a reload can tell whether it changed;
/// replacing it (`AdvertisementReceiver.settings.authHMAC`) keeps the replay state.
public struct AuthHMACSettings: Hashable, Sendable {
    /// How a receiver refuses an advertisement that is not newer than what it accepted.
    public enum AntiReplay: String, Hashable, Sendable, CaseIterable {
        /// The sequence's seconds must be within `timeWindow` of our clock, and the sequence strictly
        /// greater than the last one accepted from the sender (keepalived's default).
        case time
        /// Only strictly greater than the last one accepted (for nodes without synchronised clocks).
        case monotonic
    }

    /// Rollout modes, as keepalived names them.
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// Verify a trailer when one is present, accept advertisements without one, send none.
        case receiveOnly = "receive-only"
        /// Sign, and still accept advertisements without a trailer.
        case permissive
        /// Sign, and require a valid trailer (the default).
        case enforce

        /// Whether our advertisements carry a trailer.
        public var signs: Bool { self != .receiveOnly }
        /// Whether an advertisement without a trailer is accepted.
        public var acceptsUnsigned: Bool { self != .enforce }
    }

    /// Key ids a trailer can name (0 is not a key).
    public static let keyIDs: ClosedRange<UInt8> = 1...255
    /// Key lengths in bytes (keepalived: at least 32 so the 128-bit MAC keeps its margin).
    public static let keyLengths: ClosedRange<Int> = 32...64
    /// `time_window` bounds, in seconds.
    public static let timeWindows: ClosedRange<UInt32> = 1...300
    /// The floor of the default window, in seconds.
    public static let defaultWindowFloor: UInt32 = 5

    /// Key id → key bytes. Every id here is accepted on receive.
    public var keys: [UInt8: [UInt8]]
    /// The key we sign with; must be in `keys`.
    public var activeKey: UInt8
    public var antiReplay: AntiReplay
    /// Seconds; used by `time` anti-replay only.
    public var timeWindow: UInt32
    public var mode: Mode

    public init(keys: [UInt8: [UInt8]], activeKey: UInt8, antiReplay: AntiReplay = .time, timeWindow: UInt32,
                mode: Mode = .enforce) {
        self.keys = keys; self.activeKey = activeKey; self.antiReplay = antiReplay
        self.timeWindow = timeWindow; self.mode = mode
    }

    /// The default `time_window` for an advertisement interval: max(3 × interval, 5 s), in whole
    /// seconds rounded up, at most 300 s.
    public static func defaultTimeWindow(advertInterval: AdvertInterval) -> UInt32 {
        let threeIntervals = (UInt32(advertInterval.centiseconds) * 3 + 99) / 100
        return min(max(threeIntervals, defaultWindowFloor), timeWindows.upperBound)
    }

    /// What is wrong with a settings value (the config layer reports it with file and line).
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        case noKeys
        case keyIDZero
        case keyLength(id: UInt8, length: Int)
        case activeKeyMissing(UInt8)
        case timeWindowOutOfRange(UInt32)

        public var description: String {
            switch self {
            case .noKeys: "auth_hmac needs at least one key"
            case .keyIDZero: "auth_hmac key ids are 1-255, not 0"
            case .keyLength(let id, let length):
                "auth_hmac key \(id) is \(length) bytes; keys must be \(AuthHMACSettings.keyLengths.lowerBound)-\(AuthHMACSettings.keyLengths.upperBound) bytes"
            case .activeKeyMissing(let id): "auth_hmac active_key \(id) is not one of the keys"
            case .timeWindowOutOfRange(let window):
                "auth_hmac time_window \(window)s is outside \(AuthHMACSettings.timeWindows.lowerBound)-\(AuthHMACSettings.timeWindows.upperBound)s"
            }
        }
    }

    /// The first problem found (keys in id order), or nil when the settings are usable. Never shows
    /// key bytes.
    public var problem: Problem? {
        if keys.isEmpty { return .noKeys }
        if keys[0] != nil { return .keyIDZero }
        for id in keys.keys.sorted() {
            let length = keys[id]!.count
            if !Self.keyLengths.contains(length) { return .keyLength(id: id, length: length) }
        }
        if keys[activeKey] == nil { return .activeKeyMissing(activeKey) }
        if !Self.timeWindows.contains(timeWindow) { return .timeWindowOutOfRange(timeWindow) }
        return nil
    }
}

extension AuthHMACSettings: CustomStringConvertible {
    /// Key ids only, never key bytes (safe for logs and status).
    public var description: String {
        let ids = keys.keys.sorted().map(String.init).joined(separator: ",")
        return "auth_hmac(keys \(ids), active \(activeKey), \(antiReplay.rawValue)"
            + (antiReplay == .time ? " \(timeWindow)s" : "") + ", \(mode.rawValue))"
    }
}

// MARK: Sending

/// Makes the sender's sequence from the wall clock: the clock's (seconds, fraction) with counter 0,
/// or, when that is not after the last one sent (several adverts within 1/65536 s, or the clock went
/// back), the last one plus one. The counter carries into the fraction and the seconds on wrap, so
/// the sequence always grows (decided as keepalived does). With `time` anti-replay, a last sequence
/// more than the window ahead of the clock (the clock was stepped back) restarts from the clock,
/// because receivers would refuse it as stale anyway.
public struct AuthSequenceGenerator: Hashable, Sendable {
    public private(set) var last: AuthSequence?

    public init(last: AuthSequence? = nil) { self.last = last }

    public mutating func next(now: UTCTime, antiReplay: AuthHMACSettings.AntiReplay, timeWindow: UInt32) -> AuthSequence {
        let clock = AuthSequence(now)
        let next: AuthSequence
        if let last, !clock.isAfter(last) {
            let ahead = Int64(Int32(bitPattern: last.seconds &- clock.seconds))
            next = antiReplay == .time && ahead > Int64(timeWindow) ? clock : last.successor
        } else {
            next = clock
        }
        last = next
        return next
    }
}

/// The sending side of one virtual router: signs each advertisement once (every destination's copy
/// carries the same trailer; only the checksum differs per destination).
public struct AdvertisementSigner: Hashable, Sendable {
    public private(set) var sequence = AuthSequenceGenerator()

    public init() {}

    /// The trailer for `advertisement` sent from `source` at `now`, or nil when `settings` do not sign
    /// (`receive-only`) or name no usable active key. Advances the sequence only when it signs.
    /// Pass the result to `VRRPCodec.encode(_:source:destination:checksumForm:authTrailer:)`.
    public mutating func trailer(for advertisement: Advertisement, source: IPAddress, settings: AuthHMACSettings,
                                 now: UTCTime) -> AuthTrailer? {
        guard settings.mode.signs, let key = settings.keys[settings.activeKey] else { return nil }
        // The signed message does not depend on the destination or the checksum (read as zero).
        let message = VRRPCodec.encode(advertisement, source: source, destination: source)
        let number = sequence.next(now: now, antiReplay: settings.antiReplay, timeWindow: settings.timeWindow)
        return AuthTrailer.sign(message: message[...], source: source, keyID: settings.activeKey,
                                key: HMACSHA256(key: key), sequence: number)
    }

    /// The encoded packets for each destination, signed when `settings` sign (one sequence for all).
    public mutating func encode(_ advertisement: Advertisement, source: IPAddress, destinations: [IPAddress],
                                checksumForm: ChecksumForm, settings: AuthHMACSettings?, now: UTCTime)
        -> [(destination: IPAddress, bytes: [UInt8])] {
        var signature: AuthTrailer?
        if let settings { signature = trailer(for: advertisement, source: source, settings: settings, now: now) }
        return destinations.map { destination in
            (destination, VRRPCodec.encode(advertisement, source: source, destination: destination,
                                           checksumForm: checksumForm, authTrailer: signature))
        }
    }
}

// MARK: Receiving

/// Why an advertisement was refused by `auth_hmac`. Labels are the stable `snake_case` names counted
/// in status and metrics.
public enum AuthDrop: String, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `enforce`, and the advertisement has no trailer.
    case missing = "hmac_missing"
    /// The trailer's ext_type is not 1 (HMAC-SHA256/128) or its reserved field is not 0.
    case malformed = "hmac_malformed"
    /// The trailer names a key id that is not configured.
    case unknownKey = "hmac_unknown_key"
    /// The MAC does not match (forged, altered, wrong key, or signed for another source/VRID).
    case bad = "hmac_bad"
    /// `time` anti-replay: the sequence's seconds are more than `time_window` from our clock (or we
    /// were given no clock).
    case stale = "hmac_stale"
    /// The sequence is not after the last one accepted from that sender (a replay or a duplicate).
    case replayed = "hmac_replayed"
    /// A trailer arrived but this virtual router has no `auth_hmac` (keepalived counts it as a
    /// length error; we name it).
    case unexpected = "hmac_unexpected"

    public var label: String { rawValue }
    public var description: String { rawValue }
}

/// The outcome of `AuthVerifier.verify`.
public enum AuthVerdict: Hashable, Sendable {
    /// A valid trailer from a fresh sequence; the sender's replay mark moved to `sequence`.
    case accepted(keyID: UInt8, sequence: AuthSequence)
    /// No trailer, and the mode accepts that (`receive-only`, `permissive`).
    case acceptedUnsigned
    case dropped(AuthDrop)
}

/// The receiving side of one virtual router: checks trailers and keeps the replay marks (the last
/// sequence accepted) per sender — per unicast peer, and per multicast source in a small LRU table
/// (`multicastSenderSlots`). State changes only when an advertisement is accepted, so a flood of
/// forgeries or replays cannot evict a real sender's mark. Checks in keepalived's order: malformed,
/// stale (before the costly HMAC), unknown key, bad MAC, replayed.
public struct AuthVerifier: Hashable, Sendable {
    /// Multicast senders remembered per virtual router. More than one sends only while an election
    /// is contended, so 4 (as keepalived) suffices; a fifth evicts the least recently accepted,
    /// which then starts afresh (still bounded by the time window in `time` mode).
    public static let multicastSenderSlots = 4

    private struct Slot: Hashable, Sendable {
        var source: IPAddress
        var mark: AuthSequence
        var rank: UInt64
    }

    /// Replacing the settings (keys, active key, window, mode) keeps the marks.
    public var settings: AuthHMACSettings {
        didSet { if settings.keys != oldValue.keys { preparedKeys = Self.prepare(settings.keys) } }
    }
    private var unicastMarks: [IPAddress: AuthSequence] = [:]
    private var multicastSlots: [Slot] = []
    private var clock: UInt64 = 0
    /// The keys' HMAC states, derived from `settings.keys` (not part of equality).
    private var preparedKeys: [UInt8: HMACSHA256]

    public init(settings: AuthHMACSettings) {
        self.settings = settings
        preparedKeys = Self.prepare(settings.keys)
    }

    private static func prepare(_ keys: [UInt8: [UInt8]]) -> [UInt8: HMACSHA256] {
        keys.mapValues { HMACSHA256(key: $0) }
    }

    public static func == (a: AuthVerifier, b: AuthVerifier) -> Bool {
        a.settings == b.settings && a.unicastMarks == b.unicastMarks && a.multicastSlots == b.multicastSlots && a.clock == b.clock
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(settings); hasher.combine(unicastMarks); hasher.combine(multicastSlots); hasher.combine(clock)
    }

    /// The last sequence accepted from `source` (unicast or multicast table), if any.
    public func lastAccepted(from source: IPAddress, multicast: Bool) -> AuthSequence? {
        multicast ? multicastSlots.first { $0.source == source }?.mark : unicastMarks[source]
    }

    /// Judges `decoded` from `source` without changing anything. `now` is the wall clock (nil: unknown,
    /// which `time` anti-replay refuses as stale); `multicast` selects the replay table (unicast
    /// callers must have checked that `source` is a configured peer).
    public func check(_ decoded: DecodedAdvertisement, source: IPAddress, now: UTCTime?, multicast: Bool) -> AuthVerdict {
        guard let received = decoded.authTrailer else {
            return settings.mode.acceptsUnsigned ? .acceptedUnsigned : .dropped(.missing)
        }
        let trailer = received.trailer
        guard trailer.extType == AuthTrailer.hmacSHA256Type, trailer.reserved == 0 else { return .dropped(.malformed) }
        if settings.antiReplay == .time && !isFresh(trailer.sequence.seconds, now: now) { return .dropped(.stale) }
        guard let key = preparedKeys[trailer.keyID] else { return .dropped(.unknownKey) }
        guard received.verifies(source: source, key: key) else { return .dropped(.bad) }
        if let mark = effectiveMark(lastAccepted(from: source, multicast: multicast), now: now),
           !trailer.sequence.isAfter(mark) {
            return .dropped(.replayed)
        }
        return .accepted(keyID: trailer.keyID, sequence: trailer.sequence)
    }

    /// `check`, then on acceptance of a signed advertisement, moves the sender's replay mark.
    public mutating func verify(_ decoded: DecodedAdvertisement, source: IPAddress, now: UTCTime?, multicast: Bool) -> AuthVerdict {
        let verdict = check(decoded, source: source, now: now, multicast: multicast)
        if case .accepted(_, let sequence) = verdict { record(sequence, from: source, multicast: multicast) }
        return verdict
    }

    /// Within the window: |now − seconds| ≤ window, in whole seconds, serial over 32 bits.
    private func isFresh(_ seconds: UInt32, now: UTCTime?) -> Bool {
        guard let now else { return false }
        return Int64(Int32(bitPattern: now.seconds &- seconds)).magnitude <= UInt64(settings.timeWindow)
    }

    /// In `time` mode a mark older (or newer) than the window only orders packets the window already
    /// refuses, so it is ignored: a sender whose clock was stepped back recovers after one window
    /// (keepalived expires it the same way).
    private func effectiveMark(_ mark: AuthSequence?, now: UTCTime?) -> AuthSequence? {
        guard let mark else { return nil }
        if settings.antiReplay == .time, !isFresh(mark.seconds, now: now) { return nil }
        return mark
    }

    private mutating func record(_ sequence: AuthSequence, from source: IPAddress, multicast: Bool) {
        guard multicast else { unicastMarks[source] = sequence; return }
        clock += 1
        if let index = multicastSlots.firstIndex(where: { $0.source == source }) {
            multicastSlots[index].mark = sequence
            multicastSlots[index].rank = clock
        } else if multicastSlots.count < Self.multicastSenderSlots {
            multicastSlots.append(Slot(source: source, mark: sequence, rank: clock))
        } else if let victim = multicastSlots.indices.min(by: { multicastSlots[$0].rank < multicastSlots[$1].rank }) {
            multicastSlots[victim] = Slot(source: source, mark: sequence, rank: clock)
        }
    }
}
