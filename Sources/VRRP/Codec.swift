// VRRP advertisement codec: bytes after the IP header <-> `Advertisement`. Pure: no I/O.
//
// Wire formats
//   v3 (RFC 9568 §5.2)                         v2 (RFC 3768 §5.3)
//   0: Version(4) | Type(4)                    0: Version(4) | Type(4)
//   1: Virtual Rtr ID                          1: Virtual Rtr ID
//   2: Priority                                2: Priority
//   3: Count IPvX Addr                         3: Count IP Addrs
//   4: Rsvd(4) | Max Adver Int(12, cs) ...     4: Auth Type
//   5: ... Max Adver Int                       5: Adver Int (seconds)
//   6-7: Checksum                              6-7: Checksum
//   8...: Count × 4 (IPv4) or 16 (IPv6) bytes  8...: Count × 4 bytes, then 8 bytes Authentication Data
//
// Decode checks, in this order (each failure is one `ParseError`, so drops can be counted by reason):
//   1. `.truncated`           fewer than 8 bytes (the fixed header)
//   2. `.oversize`            more than `maximumMessageLength` bytes (cheap bound before any work)
//   3. `.unsupportedVersion`  version not 2 or 3, or 2 over IPv6 (RFC 9568 §7.1, RFC 3768 is IPv4 only)
//   4. `.unknownType`         type not 1 (ADVERTISEMENT)
//   5. `.badHopLimit`         context.hopLimit given and not 255 (RFC 9568 §7.1, RFC 3768 §7.1)
//   6. `.noAddresses`         Count IPvX Addr of 0
//   7. `.lengthMismatch`      length not exactly 8 + count × address length (+ 8 for v2), or that
//                             plus an `auth_hmac` trailer (`AuthTrailer.length`, 28 bytes)
//   8. `.badChecksum`         no accepted checksum form verifies (v3/IPv4: with the pseudo-header,
//                             without it, or, for unicast, with the group 224.0.0.18 in it)
//   9. `.unsupportedAuthType` v2 Auth Type not 0 or 1 (after the checksum, so corruption reads as such)
//  10. `.zeroVRID`            VRID 0
//  11. `.zeroInterval`        Max Advertise Interval / Adver Int 0
// The address family comes from `context.source`. The v3 reserved bits are ignored on receive and
// sent as zero (RFC 9568 §5.2.6); v2 authentication data is ignored for Auth Type 0.
//
// With an `auth_hmac` trailer (keepalived's layout, see AuthTrailer.swift) the checksum covers, as
// keepalived computes it: over IPv4 (v2 and v3) the message alone, the pseudo-header's length being
// the message's; over IPv6 the whole payload, trailer included (keepalived leaves it to the kernel's
// IPV6_CHECKSUM, which sums everything after the IPv6 header). The codec only carries the trailer
// (`DecodedAdvertisement.authTrailer`); judging it (keys, freshness, replay) is VRRPNode's `AuthVerifier`.

/// What the receiver knows about the IP packet that carried the VRRP message.
public struct PacketContext: Hashable, Sendable {
    /// IP source: selects the address family and enters the checksum's pseudo-header.
    public var source: IPAddress
    /// IP destination (the multicast group, or our address in unicast mode).
    public var destination: IPAddress
    /// TTL / Hop Limit to check against 255, or nil to skip the check (unicast mode, or unknown).
    public var hopLimit: UInt8?

    public init(source: IPAddress, destination: IPAddress, hopLimit: UInt8?) {
        self.source = source; self.destination = destination; self.hopLimit = hopLimit
    }
}

/// A successfully decoded advertisement and how its checksum was computed.
public struct DecodedAdvertisement: Hashable, Sendable {
    public var advertisement: Advertisement
    /// The form the sender used. Always `withoutPseudoHeader` for v2 and `withPseudoHeader` for
    /// v3 over IPv6. For v3 over IPv4 the pseudo-header form is tried first, then the message
    /// alone, then (unicast only) `withGroupPseudoHeader`; in the rare case where two verify (a
    /// pseudo-header sums to zero) this names the first.
    public var checksumForm: ChecksumForm
    /// The `auth_hmac` trailer after the message, with the message bytes it signs; nil without one.
    public var authTrailer: ReceivedAuthTrailer?

    public init(advertisement: Advertisement, checksumForm: ChecksumForm, authTrailer: ReceivedAuthTrailer? = nil) {
        self.advertisement = advertisement; self.checksumForm = checksumForm; self.authTrailer = authTrailer
    }
}

/// A trailer as received, and what it must authenticate.
public struct ReceivedAuthTrailer: Hashable, Sendable {
    public var trailer: AuthTrailer
    /// The VRRP message before the trailer, exactly as received (checksum field included; the HMAC
    /// reads it as zero).
    public var message: [UInt8]

    public init(trailer: AuthTrailer, message: [UInt8]) { self.trailer = trailer; self.message = message }

    /// Whether the trailer's MAC matches under `key` for a packet from `source`.
    public func verifies(source: IPAddress, key: HMACSHA256) -> Bool {
        trailer.verifies(message: message[...], source: source, key: key)
    }
}

public enum VRRPCodec {
    // MARK: Wire constants

    /// Version, type, VRID, priority, count, interval (+ auth type for v2) and checksum
    /// (RFC 9568 §5.2, RFC 3768 §5.3).
    public static let fixedHeaderLength = 8
    /// The only packet type, ADVERTISEMENT (RFC 9568 §5.2.2, RFC 3768 §5.3.2).
    public static let advertisementType: UInt8 = 1
    /// v2 Authentication Data length (RFC 3768 §5.3.10; RFC 2338 §5.3.10 for the password).
    public static let v2AuthenticationDataLength = 8
    /// Count IPvX Addr is an 8-bit field (RFC 9568 §5.2.5, RFC 3768 §5.3.5).
    public static let maximumAddressCount = 255
    /// The longest valid message: v3 over IPv6 with 255 addresses (8 + 255 × 16 = 4088 bytes).
    /// v2's longest is 8 + 255 × 4 + 8 = 1036. Anything longer is `.oversize`.
    public static let maximumMessageLength = fixedHeaderLength + maximumAddressCount * 16
    /// The longest valid IP payload: the longest message plus an `auth_hmac` trailer (4116 bytes).
    public static let maximumPayloadLength = maximumMessageLength + AuthTrailer.length
    /// The 12-bit Max Adver Int field under 4 reserved bits (RFC 9568 §5.2.6, §5.2.7).
    static let v3IntervalMask: UInt16 = 0x0FFF
    /// v2 Auth Type 0, no authentication (RFC 3768 §5.3.6).
    static let authTypeNone: UInt8 = 0
    /// v2 Auth Type 1, simple text password (RFC 2338 §5.3.6.2; "reserved" in RFC 3768 §5.3.6 but
    /// what keepalived sends for `auth_type PASS`).
    static let authTypeSimplePassword: UInt8 = 1
    /// Centiseconds per second: v2 carries whole seconds, `AdvertInterval` centiseconds.
    static let centisecondsPerSecond: UInt16 = 100

    static func addressLength(_ family: AddressFamily) -> Int {
        switch family { case .ipv4: 4; case .ipv6: 16 }
    }

    // MARK: Decode

    /// Decodes a VRRP message (the bytes after the IP header). Never traps, whatever the input.
    public static func decode(_ bytes: [UInt8], context: PacketContext) throws(ParseError) -> DecodedAdvertisement {
        try decode(bytes[...], context: context)
    }

    /// Decodes a VRRP message held in a slice (e.g. the payload of a whole IP packet), without copying.
    public static func decode(_ bytes: ArraySlice<UInt8>, context: PacketContext) throws(ParseError) -> DecodedAdvertisement {
        var decoded = DecodedAdvertisement(
            advertisement: Advertisement(version: .v3, vrid: 0, priority: 0, interval: AdvertInterval(centiseconds: 0), addresses: []),
            checksumForm: .withPseudoHeader)
        try decode(bytes, context: context, into: &decoded)
        return decoded
    }

    /// Decodes into `decoded`, reusing its advertisement's address array: a receiver that keeps one
    /// for decoding (and lets go of the copies it hands on) allocates nothing per packet without an
    /// `auth_hmac` trailer (a trailer's signed message is copied). On a throw `decoded` is unspecified.
    public static func decode(_ bytes: ArraySlice<UInt8>, context: PacketContext,
                              into decoded: inout DecodedAdvertisement) throws(ParseError) {
        let base = bytes.startIndex
        // 1–2: length bounds first, so every later index is known to be valid.
        guard bytes.count >= fixedHeaderLength else { throw .truncated }
        guard bytes.count <= maximumPayloadLength else { throw .oversize }

        let family = context.source.family
        let versionNumber = bytes[base] >> 4
        let type = bytes[base] & 0x0F
        // 3: version.
        let version: VRRPVersion
        switch (VRRPVersion(rawValue: versionNumber), family) {
        case (.v3?, _): version = .v3
        case (.v2?, .ipv4): version = .v2
        default: throw .unsupportedVersion(versionNumber)
        }
        // 4: type.
        guard type == advertisementType else { throw .unknownType(type) }
        // 5: hop limit, when the caller knows it and wants it checked.
        if let hopLimit = context.hopLimit, hopLimit != ProtocolConstants.requiredHopLimit {
            throw .badHopLimit(hopLimit)
        }
        // 6–7: address count and exact length.
        let count = Int(bytes[base + 3])
        guard count > 0 else { throw .noAddresses }
        let addressLength = addressLength(family)
        let messageLength = fixedHeaderLength + count * addressLength + (version == .v2 ? v2AuthenticationDataLength : 0)
        let hasAuthTrailer: Bool
        switch bytes.count - messageLength {
        case 0: hasAuthTrailer = false
        case AuthTrailer.length: hasAuthTrailer = true
        default: throw .lengthMismatch
        }
        let messageEnd = base + messageLength
        // What the checksum covers: over IPv4 the message alone, over IPv6 the whole payload.
        let summed = family == .ipv4 ? bytes[base..<messageEnd] : bytes

        // 8: checksum.
        let checksumForm: ChecksumForm
        switch (version, family) {
        case (.v2, _):
            guard verifies(summed, form: .withoutPseudoHeader, source: context.source,
                           destination: context.destination) else { throw .badChecksum }
            checksumForm = .withoutPseudoHeader
        case (.v3, .ipv6):
            guard verifies(summed, form: .withPseudoHeader, source: context.source,
                           destination: context.destination) else { throw .badChecksum }
            checksumForm = .withPseudoHeader
        case (.v3, .ipv4):
            if verifies(summed, form: .withPseudoHeader, source: context.source, destination: context.destination) {
                checksumForm = .withPseudoHeader
            } else if verifies(summed, form: .withoutPseudoHeader, source: context.source,
                               destination: context.destination) {
                checksumForm = .withoutPseudoHeader
            } else if context.destination != .v4(.vrrpMulticast),
                      verifies(summed, form: .withGroupPseudoHeader, source: context.source,
                               destination: context.destination) {
                // Unicast from keepalived < 1.3.6 or with `old_unicast_checksum`.
                checksumForm = .withGroupPseudoHeader
            } else {
                throw .badChecksum
            }
        }

        // 9: v2 authentication.
        var authentication = Authentication.none
        if version == .v2 {
            let authType = bytes[base + 4]
            switch authType {
            case authTypeNone: authentication = .none
            case authTypeSimplePassword:
                let start = messageEnd - v2AuthenticationDataLength
                authentication = .simplePassword(Array(bytes[start..<messageEnd]))
            default: throw .unsupportedAuthType(authType)
            }
        }
        // 10: VRID.
        let vrid = bytes[base + 1]
        guard vrid != 0 else { throw .zeroVRID }
        // 11: interval.
        let interval: AdvertInterval
        switch version {
        case .v3: interval = AdvertInterval(centiseconds: (UInt16(bytes[base + 4]) << 8 | UInt16(bytes[base + 5])) & v3IntervalMask)
        case .v2: interval = AdvertInterval(seconds: bytes[base + 5])
        }
        guard interval.centiseconds != 0 else { throw .zeroInterval }

        decoded.advertisement.addresses.removeAll(keepingCapacity: true)
        decoded.advertisement.addresses.reserveCapacity(count)
        for i in 0..<count {
            let start = base + fixedHeaderLength + i * addressLength
            let field = bytes[start..<start + addressLength]
            switch family {
            // Both initialisers accept any collection of exactly the right length, which this is.
            case .ipv4: if let a = IPv4Address(bytes: field) { decoded.advertisement.addresses.append(.v4(a)) }
            case .ipv6: if let a = IPv6Address(bytes: field) { decoded.advertisement.addresses.append(.v6(a)) }
            }
        }
        decoded.advertisement.version = version
        decoded.advertisement.vrid = vrid
        decoded.advertisement.priority = bytes[base + 2]
        decoded.advertisement.interval = interval
        decoded.advertisement.authentication = authentication
        decoded.checksumForm = checksumForm
        decoded.authTrailer = nil
        if hasAuthTrailer, let trailer = AuthTrailer(bytes: bytes[messageEnd...]) {
            decoded.authTrailer = ReceivedAuthTrailer(trailer: trailer, message: Array(bytes[base..<messageEnd]))
        }
    }

    // MARK: Encode

    /// The advertisement as `encode` will put it on the wire for a packet from a `family` source, i.e.
    /// what a receiver will decode. `encode` never traps and does not throw; it expects validated
    /// configuration and maps anything the wire cannot carry as follows:
    /// - addresses of the other family are left out; only the first 255 are sent (8-bit count);
    /// - v3: the interval is capped at 4095 cs (12-bit field); authentication is dropped (v3 has none);
    /// - v2: the interval is rounded *up* to whole seconds (so a positive interval never becomes 0)
    ///   and capped at 255 s; a password is cut or zero-padded to 8 bytes.
    /// Values the wire can carry but a receiver rejects (VRID 0, interval 0, no addresses, v2 from an
    /// IPv6 source) are encoded as they are.
    public static func normalizedForEncoding(_ ad: Advertisement, family: AddressFamily) -> Advertisement {
        var out = ad
        out.addresses = Array(ad.addresses.lazy.filter { $0.family == family }.prefix(maximumAddressCount))
        switch ad.version {
        case .v3:
            out.interval = min(ad.interval, .maximumV3)
            out.authentication = .none
        case .v2:
            let roundedUp = (UInt32(ad.interval.centiseconds) + UInt32(centisecondsPerSecond) - 1)
                / UInt32(centisecondsPerSecond)
            out.interval = AdvertInterval(seconds: UInt8(min(roundedUp, UInt32(AdvertInterval.maximumV2Seconds))))
            if case .simplePassword(let bytes) = ad.authentication {
                let cut = Array(bytes.prefix(v2AuthenticationDataLength))
                out.authentication = .simplePassword(cut + Array(repeating: 0, count: v2AuthenticationDataLength - cut.count))
            }
        }
        return out
    }

    /// Builds the VRRP message (the IP payload) for `ad`, sent from `source` to `destination`.
    ///
    /// The family is `source`'s. v3 over IPv4 uses `checksumForm` (default: with the pseudo-header,
    /// like keepalived; `withGroupPseudoHeader` for keepalived's `old_unicast_checksum`); v3 over
    /// IPv6 always includes the pseudo-header and v2 never does (the parameter is ignored for
    /// them). See `normalizedForEncoding` for values the wire cannot carry.
    ///
    /// With `authTrailer` (made by `AuthTrailer.sign` over this advertisement's message, e.g. from
    /// `encode` without one) the trailer follows the message and the checksum is computed as
    /// keepalived does with one: over IPv4 on the message alone, over IPv6 on the whole payload.
    public static func encode(_ ad: Advertisement, source: IPAddress, destination: IPAddress,
                              checksumForm: ChecksumForm = .withPseudoHeader, authTrailer: AuthTrailer? = nil) -> [UInt8] {
        let family = source.family
        let wire = normalizedForEncoding(ad, family: family)
        var out: [UInt8] = []
        out.reserveCapacity(fixedHeaderLength + wire.addresses.count * addressLength(family) + v2AuthenticationDataLength
                            + AuthTrailer.length)
        out.append(wire.version.rawValue << 4 | advertisementType)
        out.append(wire.vrid)
        out.append(wire.priority)
        out.append(UInt8(wire.addresses.count))  // ≤ 255 after normalisation
        switch wire.version {
        case .v3:
            // The reserved high 4 bits stay zero (RFC 9568 §5.2.6); the value is ≤ 4095.
            out.append(UInt8(truncatingIfNeeded: wire.interval.centiseconds >> 8))
            out.append(UInt8(truncatingIfNeeded: wire.interval.centiseconds))
        case .v2:
            switch wire.authentication {
            case .none: out.append(authTypeNone)
            case .simplePassword: out.append(authTypeSimplePassword)
            }
            out.append(UInt8(truncatingIfNeeded: wire.interval.centiseconds / centisecondsPerSecond))
        }
        out.append(0); out.append(0)  // checksum, filled in below
        for address in wire.addresses { out.append(contentsOf: address.bytes) }
        if wire.version == .v2 {
            switch wire.authentication {
            case .none: out.append(contentsOf: repeatElement(0, count: v2AuthenticationDataLength))
            case .simplePassword(let bytes): out.append(contentsOf: bytes)
            }
        }
        let form: ChecksumForm
        switch (wire.version, family) {
        case (.v2, _): form = .withoutPseudoHeader
        case (.v3, .ipv6): form = .withPseudoHeader
        case (.v3, .ipv4): form = checksumForm
        }
        let messageLength = out.count
        if let authTrailer { out.append(contentsOf: authTrailer.bytes) }
        let summed = family == .ipv4 ? out[..<messageLength] : out[...]
        let sum = checksum(of: summed, form: form, source: source, destination: destination)
        out[6] = UInt8(truncatingIfNeeded: sum >> 8)
        out[7] = UInt8(truncatingIfNeeded: sum)
        return out
    }
}
