// The `auth_hmac` trailer: 28 bytes after the VRRP message that authenticate it (HMAC-SHA256
// truncated to 128 bits) and order it (a time-based 64-bit sequence), on keepalived's wire format
// (keepalived/include/vrrp_auth_hmac.h, keepalived/vrrp/vrrp_auth_hmac.c). Pure: no I/O, no clock —
// the sequence is made from a time the caller passes in. See docs/design.md, "Authentication".
//
//   0: ext_type (1 = HMAC-SHA256 truncated to 128 bits)
//   1: key id (1...255)
//   2-3: reserved, 0
//   4-7: sequence: UTC seconds since the Unix epoch (low 32 bits)      all big-endian
//   8-9: sequence: binary fraction of the second (1/65536 s)
//   10-11: sequence: counter within one timestamp
//   12-27: the first 16 bytes of the HMAC
//
// The HMAC input: a 20-byte pseudo-header (family 4 or 6, VRRP version, VRID, 0, the source address
// zero-padded to 16 bytes), the message with its checksum field read as zero, the trailer's first 12
// bytes, then 16 zero bytes in the HMAC's place. The IP header is not covered; the destination is
// not either, so one signature serves every unicast peer.

/// A wall-clock reading, UTC: what the sequence is made of. The core never reads a clock.
public struct UTCTime: Hashable, Sendable, CustomStringConvertible {
    /// Seconds since the Unix epoch, modulo 2³² (the field wraps in 2106; comparisons are serial).
    public var seconds: UInt32
    /// Binary fraction of the second: `fraction / 65536` s.
    public var fraction: UInt16

    public init(seconds: UInt32, fraction: UInt16 = 0) { self.seconds = seconds; self.fraction = fraction }

    /// From a POSIX `timespec`-like reading (`CLOCK_REALTIME`): nanoseconds 0..<1e9 map to the
    /// 16-bit fraction rounding down, as keepalived does.
    public init(unixSeconds: Int64, nanoseconds: Int64) {
        let ns = UInt64(clamping: min(max(nanoseconds, 0), 999_999_999))
        self.init(seconds: UInt32(truncatingIfNeeded: unixSeconds), fraction: UInt16(truncatingIfNeeded: (ns << 16) / 1_000_000_000))
    }

    public var description: String { "\(seconds)+\(fraction)/65536s" }
}

/// The trailer's 64-bit sequence: seconds (32) | fraction (16) | counter (16).
public struct AuthSequence: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(seconds: UInt32, fraction: UInt16, counter: UInt16) {
        rawValue = UInt64(seconds) << 32 | UInt64(fraction) << 16 | UInt64(counter)
    }
    /// The first sequence of a time (counter 0).
    public init(_ time: UTCTime) { self.init(seconds: time.seconds, fraction: time.fraction, counter: 0) }

    public var seconds: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }
    public var fraction: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    /// Strictly later under serial-number arithmetic (RFC 1982) over 64 bits, as keepalived
    /// compares, so ordering survives the 2106 wrap of the seconds field.
    public func isAfter(_ other: AuthSequence) -> Bool { Int64(bitPattern: rawValue &- other.rawValue) > 0 }

    /// The next sequence: the counter plus one, carrying into the fraction and then the seconds.
    public var successor: AuthSequence { AuthSequence(rawValue: rawValue &+ 1) }

    public var description: String { "\(seconds).\(fraction).\(counter)" }
}

/// One trailer as carried on the wire.
public struct AuthTrailer: Hashable, Sendable {
    /// Trailer length on the wire.
    public static let length = 28
    /// Length of the truncated HMAC at its end.
    public static let macLength = 16
    /// ext_type of HMAC-SHA256 truncated to 128 bits, the only scheme defined.
    public static let hmacSHA256Type: UInt8 = 1
    /// Length of the pseudo-header bound into the HMAC.
    public static let pseudoHeaderLength = 20
    /// Offset of the MAC within the trailer (the signed part precedes it).
    static let macOffset = 12

    public var extType: UInt8
    public var keyID: UInt8
    /// Must be 0 (a receiver refuses anything else as malformed, as keepalived does).
    public var reserved: UInt16
    public var sequence: AuthSequence
    /// 16 bytes.
    public var mac: [UInt8]

    public init(extType: UInt8 = AuthTrailer.hmacSHA256Type, keyID: UInt8, reserved: UInt16 = 0,
                sequence: AuthSequence, mac: [UInt8]) {
        self.extType = extType; self.keyID = keyID; self.reserved = reserved; self.sequence = sequence; self.mac = mac
    }

    /// Reads 28 bytes; nil for any other length. Field values are not judged here.
    public init?(bytes: ArraySlice<UInt8>) {
        guard bytes.count == AuthTrailer.length else { return nil }
        let b = bytes.startIndex
        var sequence: UInt64 = 0
        for i in 4..<12 { sequence = sequence << 8 | UInt64(bytes[b + i]) }
        self.init(extType: bytes[b], keyID: bytes[b + 1], reserved: UInt16(bytes[b + 2]) << 8 | UInt16(bytes[b + 3]),
                  sequence: AuthSequence(rawValue: sequence), mac: Array(bytes[(b + AuthTrailer.macOffset)...]))
    }

    /// The 28 wire bytes (the MAC is cut or zero-padded to 16 bytes).
    public var bytes: [UInt8] {
        var out = signedPart
        let cut = mac.prefix(AuthTrailer.macLength)
        out.append(contentsOf: cut)
        out.append(contentsOf: repeatElement(0, count: AuthTrailer.macLength - cut.count))
        return out
    }

    /// The first 12 bytes: everything but the MAC.
    var signedPart: [UInt8] {
        var out: [UInt8] = [extType, keyID, UInt8(truncatingIfNeeded: reserved >> 8), UInt8(truncatingIfNeeded: reserved)]
        out.reserveCapacity(AuthTrailer.length)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: sequence.rawValue >> UInt64(shift))) }
        return out
    }

    /// The pseudo-header: family (4 or 6), version, VRID, 0, the source address zero-padded to 16.
    static func pseudoHeader(version: UInt8, vrid: UInt8, source: IPAddress) -> [UInt8] {
        var out: [UInt8] = [source.family == .ipv4 ? 4 : 6, version, vrid, 0]
        out.append(contentsOf: source.bytes)
        out.append(contentsOf: repeatElement(0, count: pseudoHeaderLength - out.count))
        return out
    }

    /// The full 32-byte HMAC of `message` (a VRRP message without trailer, as sent or received)
    /// under this trailer's fields; the message's version and VRID enter the pseudo-header.
    /// `message` must hold at least the 8-byte fixed header.
    public func expectedMAC(message: ArraySlice<UInt8>, source: IPAddress, key: HMACSHA256) -> [UInt8] {
        let b = message.startIndex
        let pseudo = AuthTrailer.pseudoHeader(version: message[b] >> 4, vrid: message[b + 1], source: source)
        let zeros = [UInt8](repeating: 0, count: AuthTrailer.macLength)
        return key.authenticationCode(segments: [
            pseudo[...], message[b..<(b + 6)], zeros[0..<2], message[(b + 8)...], signedPart[...], zeros[...],
        ])
    }

    /// A signed trailer for `message` (an encoded VRRP message without trailer; its checksum field
    /// does not matter).
    public static func sign(message: ArraySlice<UInt8>, source: IPAddress, keyID: UInt8, key: HMACSHA256,
                            sequence: AuthSequence) -> AuthTrailer {
        var trailer = AuthTrailer(keyID: keyID, sequence: sequence, mac: [])
        trailer.mac = Array(trailer.expectedMAC(message: message, source: source, key: key).prefix(macLength))
        return trailer
    }

    /// Whether the MAC matches `message` under `key` (constant-time comparison).
    public func verifies(message: ArraySlice<UInt8>, source: IPAddress, key: HMACSHA256) -> Bool {
        guard message.count >= VRRPCodec.fixedHeaderLength else { return false }
        let expected = expectedMAC(message: message, source: source, key: key)
        return HMACSHA256.constantTimeEqual(mac[...], expected.prefix(AuthTrailer.macLength))
    }
}
