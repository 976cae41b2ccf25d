// The Internet checksum (RFC 1071) and the VRRP pseudo-headers it may cover.

/// Which checksum a VRRP packet carries.
///
/// - v2 (RFC 3768 §5.3.8): always over the VRRP message alone (`withoutPseudoHeader`).
/// - v3 over IPv6 (RFC 9568 §5.2.8): always over the IPv6 pseudo-header (RFC 8200 §8.1) plus the
///   message (`withPseudoHeader`).
/// - v3 over IPv4: RFC 5798 §5.2.8 was read by keepalived (and Wireshark) as covering an IPv4
///   pseudo-header too, while Cisco, FRR and RFC 9568 §5.2.8 cover the message alone. vipd sends the
///   pseudo-header form by default, as keepalived does, and accepts both.
public enum ChecksumForm: Hashable, Sendable {
    case withPseudoHeader
    case withoutPseudoHeader
    /// v3 over IPv4 only: the IPv4 pseudo-header with the VRRP group 224.0.0.18 as its destination,
    /// whatever the packet's real destination. keepalived before 1.3.6 computed unicast adverts'
    /// checksums this way; 2.2.7 still sends and expects it with `old_unicast_checksum`, and by
    /// default switches to it when a unicast peer uses it. For multicast packets it is the same
    /// as `withPseudoHeader`.
    case withGroupPseudoHeader
}

/// A running ones' complement sum of 16-bit big-endian words (RFC 1071 §4.1).
struct InternetChecksum {
    /// Wide enough that no carry is lost for any input we sum (at most a few KiB), folded at the end.
    private var sum: UInt64 = 0

    mutating func add(word: UInt16) { sum &+= UInt64(word) }

    mutating func add(word32: UInt32) {
        add(word: UInt16(truncatingIfNeeded: word32 >> 16))
        add(word: UInt16(truncatingIfNeeded: word32))
    }

    /// Adds bytes as big-endian words; an odd trailing byte is padded with a zero byte (RFC 1071 §4.1).
    /// Only the last chunk summed may have an odd length.
    mutating func add(bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            add(word: UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        if index < bytes.endIndex { add(word: UInt16(bytes[index]) << 8) }
    }

    mutating func add(bytes: [UInt8]) { add(bytes: bytes[...]) }

    /// Adds an address as its big-endian bytes would be added, without building them (the
    /// receive path computes a pseudo-header per packet).
    mutating func add(address: IPAddress) {
        switch address {
        case .v4(let a):
            add(word32: a.value)
        case .v6(let a):
            add(word32: UInt32(truncatingIfNeeded: a.high >> 32)); add(word32: UInt32(truncatingIfNeeded: a.high))
            add(word32: UInt32(truncatingIfNeeded: a.low >> 32)); add(word32: UInt32(truncatingIfNeeded: a.low))
        }
    }

    /// The 16-bit ones' complement sum, carries folded back in.
    var folded: UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(truncatingIfNeeded: s)
    }

    /// The value to put in a checksum field: the complement of the sum (computed with the field 0).
    var checksum: UInt16 { ~folded }

    /// A received message verifies when the sum over it, checksum field included, is all ones.
    var verifies: Bool { folded == 0xFFFF }
}

extension VRRPCodec {
    /// Adds the pseudo-header for a VRRP message of `length` bytes between `source` and `destination`.
    ///
    /// - IPv4 (RFC 5798 §5.2.8 as keepalived reads it, RFC 768-style): source (4), destination (4),
    ///   zero (1), protocol 112 (1), length (2).
    /// - IPv6 (RFC 8200 §8.1): source (16), destination (16), upper-layer length (4), zero (3),
    ///   next header 112 (1).
    /// The address bytes are taken from each address as given, so a caller passing mixed families
    /// gets a checksum that simply will not match, never a trap.
    static func addPseudoHeader(to sum: inout InternetChecksum, source: IPAddress, destination: IPAddress,
                                length: Int) {
        sum.add(address: source)
        sum.add(address: destination)
        let clampedLength = UInt32(clamping: length)
        switch source.family {
        case .ipv4:
            sum.add(word: UInt16(ProtocolConstants.ipProtocol))
            sum.add(word: UInt16(clamping: clampedLength))
        case .ipv6:
            sum.add(word32: clampedLength)
            sum.add(word32: UInt32(ProtocolConstants.ipProtocol))
        }
    }

    /// The sum of the pseudo-header `form` puts under the checksum (nothing for `withoutPseudoHeader`).
    private static func startSum(form: ChecksumForm, source: IPAddress, destination: IPAddress,
                                 length: Int) -> InternetChecksum {
        var sum = InternetChecksum()
        switch form {
        case .withoutPseudoHeader:
            break
        case .withPseudoHeader:
            addPseudoHeader(to: &sum, source: source, destination: destination, length: length)
        case .withGroupPseudoHeader:
            let group: IPAddress = source.family == .ipv4 ? .v4(.vrrpMulticast) : .v6(.vrrpMulticast)
            addPseudoHeader(to: &sum, source: source, destination: group, length: length)
        }
        return sum
    }

    /// The checksum field value for `message` (whose checksum field must be zero).
    static func checksum(of message: ArraySlice<UInt8>, form: ChecksumForm, source: IPAddress,
                         destination: IPAddress) -> UInt16 {
        var sum = startSum(form: form, source: source, destination: destination, length: message.count)
        sum.add(bytes: message)
        return sum.checksum
    }

    /// Whether `message` (checksum field as received) verifies under `form`.
    static func verifies(_ message: ArraySlice<UInt8>, form: ChecksumForm, source: IPAddress,
                         destination: IPAddress) -> Bool {
        var sum = startSum(form: form, source: source, destination: destination, length: message.count)
        sum.add(bytes: message)
        return sum.verifies
    }

    /// True when the pseudo-header sums to ones' complement zero (0xFFFF), so both checksum forms
    /// give the same field value and a receiver cannot tell which one the sender used (about one
    /// address pair in 65535). Decoding then reports `withPseudoHeader`, the form tried first.
    static func checksumFormsCoincide(source: IPAddress, destination: IPAddress, length: Int) -> Bool {
        var sum = InternetChecksum()
        addPseudoHeader(to: &sum, source: source, destination: destination, length: length)
        return sum.folded == 0xFFFF
    }
}
