// Hand-computed wire vectors: one per ParseError case, both checksum forms, v2 authentication.
import Testing
@testable import VRRP

private let v4Source = ip("192.0.2.1")
private let v4Group = ip("224.0.0.18")
private let v6Source = ip("fe80::1")
private let v6Group = ip("ff02::12")
private let v4Context = PacketContext(source: v4Source, destination: v4Group, hopLimit: 255)
private let v6Context = PacketContext(source: v6Source, destination: v6Group, hopLimit: 255)

/// v3, VRID 1, priority 100, 1 address, 100 cs, 192.0.2.100, from 192.0.2.1 to 224.0.0.18.
/// Message words: 3101 6401 0064 [cksum] c000 0264 → sum 0x57cb.
/// Without pseudo-header: ~0x57cb = 0xa834.
/// With pseudo-header: c000+0201+e000+0012 (addresses) + 0070 (protocol) + 000c (length) = 0xa290
/// (carry folded); 0xa290 + 0x57cb = 0xfa5b; ~0xfa5b = 0x05a4.
private let v3IPv4WithPseudo = bytes(hex: "31016401 006405a4 c0000264")
private let v3IPv4WithoutPseudo = bytes(hex: "31016401 0064a834 c0000264")
/// The same advertisement over IPv6 from fe80::1 to ff02::12 carrying 2001:db8::100 (checksum 0x3dc1).
private let v3IPv6 = bytes(hex: "31016401 00643dc1 20010db8000000000000000000000100")
/// v2, VRID 1, priority 100, 1 address, auth type 1, 1 s, 192.0.2.100, password "secret12".
/// Words: 2101 6401 0101 c000 0264 7365 6372 6574 3132 → ~sum = 0x4a19 (no pseudo-header).
private let v2Password = bytes(hex: "21016401 01014a19 c0000264 7365637265743132")

private let baseAdvertisement = Advertisement(version: .v3, vrid: 1, priority: 100,
                                              interval: AdvertInterval(centiseconds: 100),
                                              addresses: [ip("192.0.2.100")])

@Suite struct CodecVectorTests {
    @Test func v3IPv4BothChecksumForms() throws {
        #expect(VRRPCodec.encode(baseAdvertisement, source: v4Source, destination: v4Group) == v3IPv4WithPseudo)
        #expect(VRRPCodec.encode(baseAdvertisement, source: v4Source, destination: v4Group,
                                 checksumForm: .withoutPseudoHeader) == v3IPv4WithoutPseudo)
        let with = try VRRPCodec.decode(v3IPv4WithPseudo, context: v4Context)
        #expect(with == DecodedAdvertisement(advertisement: baseAdvertisement, checksumForm: .withPseudoHeader))
        let without = try VRRPCodec.decode(v3IPv4WithoutPseudo, context: v4Context)
        #expect(without == DecodedAdvertisement(advertisement: baseAdvertisement, checksumForm: .withoutPseudoHeader))
    }

    @Test func pseudoHeaderCoversTheDestination() {
        // The pseudo-header form only verifies with the destination the sender used (or, for
        // unicast, the group 224.0.0.18: keepalived's old form, see CodecGroupChecksumTests).
        let unicast = PacketContext(source: v4Source, destination: ip("192.0.2.2"), hopLimit: nil)
        let toOtherPeer = VRRPCodec.encode(baseAdvertisement, source: v4Source, destination: ip("192.0.2.3"))
        #expect(throws: ParseError.badChecksum) { try VRRPCodec.decode(toOtherPeer, context: unicast) }
        // The message-only form does not depend on addresses at all.
        #expect((try? VRRPCodec.decode(v3IPv4WithoutPseudo, context: unicast))?.checksumForm == .withoutPseudoHeader)
    }

    @Test func indistinguishableFormsReportPseudoHeader() throws {
        // 192.0.2.132 → 203.0.113.254, 12 bytes: c000+0284+cb00+71fe+0070+000c = 0x1FFFE → 0xFFFF
        // folded, ones' complement zero, so both forms give the same checksum field.
        let source = ip("192.0.2.132"), destination = ip("203.0.113.254")
        #expect(VRRPCodec.checksumFormsCoincide(source: source, destination: destination, length: 12))
        #expect(!VRRPCodec.checksumFormsCoincide(source: v4Source, destination: v4Group, length: 12))
        let with = VRRPCodec.encode(baseAdvertisement, source: source, destination: destination)
        let without = VRRPCodec.encode(baseAdvertisement, source: source, destination: destination,
                                       checksumForm: .withoutPseudoHeader)
        #expect(with == without)
        let context = PacketContext(source: source, destination: destination, hopLimit: nil)
        #expect(try VRRPCodec.decode(without, context: context).checksumForm == .withPseudoHeader)
    }

    @Test func v3IPv6AlwaysUsesPseudoHeader() throws {
        var ad = baseAdvertisement
        ad.addresses = [ip("2001:db8::100")]
        #expect(VRRPCodec.encode(ad, source: v6Source, destination: v6Group) == v3IPv6)
        // The form parameter cannot turn the IPv6 pseudo-header off (RFC 9568 §5.2.8).
        #expect(VRRPCodec.encode(ad, source: v6Source, destination: v6Group, checksumForm: .withoutPseudoHeader) == v3IPv6)
        #expect(try VRRPCodec.decode(v3IPv6, context: v6Context)
                == DecodedAdvertisement(advertisement: ad, checksumForm: .withPseudoHeader))
        // A message-only checksum is not accepted over IPv6.
        let messageOnly = withFixedChecksum(v3IPv6, form: .withoutPseudoHeader, source: v6Source, destination: v6Group)
        #expect(throws: ParseError.badChecksum) { try VRRPCodec.decode(messageOnly, context: v6Context) }
    }

    @Test func v2SimplePassword() throws {
        let ad = Advertisement(version: .v2, vrid: 1, priority: 100, interval: AdvertInterval(seconds: 1),
                               addresses: [ip("192.0.2.100")], authentication: .password("secret12"))
        #expect(VRRPCodec.encode(ad, source: v4Source, destination: v4Group) == v2Password)
        #expect(try VRRPCodec.decode(v2Password, context: v4Context)
                == DecodedAdvertisement(advertisement: ad, checksumForm: .withoutPseudoHeader))
        // v2 never uses a pseudo-header, whatever the caller asks for.
        #expect(VRRPCodec.encode(ad, source: v4Source, destination: v4Group, checksumForm: .withPseudoHeader) == v2Password)
    }

    @Test func v2NoAuthenticationIgnoresAuthDataOnReceiveAndSendsZeros() throws {
        var message = bytes(hex: "21016401 00010000 c0000264 0102030405060708")
        message = withFixedChecksum(message, form: .withoutPseudoHeader, source: v4Source, destination: v4Group)
        let decoded = try VRRPCodec.decode(message, context: v4Context)
        #expect(decoded.advertisement.authentication == .none)
        let reencoded = VRRPCodec.encode(decoded.advertisement, source: v4Source, destination: v4Group)
        #expect(Array(reencoded[12...]) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(reencoded[4] == 0)
    }

    @Test func shortPasswordIsZeroPadded() throws {
        let ad = Advertisement(version: .v2, vrid: 9, priority: 1, interval: AdvertInterval(seconds: 3),
                               addresses: [ip("192.0.2.9")], authentication: .simplePassword(Array("abc".utf8)))
        let wire = VRRPCodec.encode(ad, source: v4Source, destination: v4Group)
        #expect(Array(wire[12...]) == [0x61, 0x62, 0x63, 0, 0, 0, 0, 0])
        #expect(try VRRPCodec.decode(wire, context: v4Context).advertisement.authentication == .password("abc"))
    }

    @Test func reservedBitsAreIgnoredOnReceive() throws {
        // Rsvd = 0xF over a 100 cs interval (RFC 9568 §5.2.6: ignored on receive).
        let message = withFixedChecksum(bytes(hex: "31016401 f0640000 c0000264"), form: .withPseudoHeader,
                                        source: v4Source, destination: v4Group)
        #expect(try VRRPCodec.decode(message, context: v4Context).advertisement == baseAdvertisement)
    }

    @Test func hopLimitIsOnlyCheckedWhenGiven() throws {
        let unchecked = PacketContext(source: v4Source, destination: v4Group, hopLimit: nil)
        #expect(try VRRPCodec.decode(v3IPv4WithPseudo, context: unchecked).advertisement == baseAdvertisement)
    }

    @Test func sliceDecodeMatchesArrayDecode() throws {
        let padded = [0xAA, 0xBB] + v3IPv4WithPseudo + [0xCC]
        let slice = padded[2..<(2 + v3IPv4WithPseudo.count)]
        #expect(try VRRPCodec.decode(slice, context: v4Context) == VRRPCodec.decode(v3IPv4WithPseudo, context: v4Context))
    }

    // MARK: One vector per ParseError

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var message: [UInt8]
        var context: PacketContext
        var expected: ParseError
        var testDescription: String { "\(name) → \(expected)" }
    }

    static func fixed(_ hexText: String, _ context: PacketContext = v4Context,
                      form: ChecksumForm = .withPseudoHeader) -> [UInt8] {
        withFixedChecksum(bytes(hex: hexText), form: form, source: context.source, destination: context.destination)
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "empty", message: [], context: v4Context, expected: .truncated),
        ErrorCase(name: "7 bytes", message: Array(v3IPv4WithPseudo.prefix(7)), context: v4Context, expected: .truncated),
        // 4088 (the longest message) + 28 (an auth_hmac trailer) is the longest payload.
        ErrorCase(name: "4117 bytes", message: [0x31] + Array(repeating: 0, count: 4116), context: v6Context,
                  expected: .oversize),
        ErrorCase(name: "4116 bytes is not oversize", message: [0x31] + Array(repeating: 0, count: 4115), context: v6Context,
                  expected: .noAddresses),
        ErrorCase(name: "27 bytes after the message", message: v3IPv4WithPseudo + Array(repeating: 0, count: 27),
                  context: v4Context, expected: .lengthMismatch),
        ErrorCase(name: "29 bytes after the message", message: v3IPv4WithPseudo + Array(repeating: 0, count: 29),
                  context: v4Context, expected: .lengthMismatch),
        ErrorCase(name: "version 4", message: bytes(hex: "41016401 006405a4 c0000264"), context: v4Context,
                  expected: .unsupportedVersion(4)),
        ErrorCase(name: "version 0", message: bytes(hex: "01016401 006405a4 c0000264"), context: v4Context,
                  expected: .unsupportedVersion(0)),
        ErrorCase(name: "v2 over IPv6", message: fixed("21016401 00010000 20010db8000000000000000000000100 0000000000000000", v6Context,
                                                     form: .withoutPseudoHeader),
                  context: v6Context, expected: .unsupportedVersion(2)),
        ErrorCase(name: "type 2", message: bytes(hex: "32016401 006405a4 c0000264"), context: v4Context,
                  expected: .unknownType(2)),
        ErrorCase(name: "type 0", message: bytes(hex: "30016401 006405a4 c0000264"), context: v4Context,
                  expected: .unknownType(0)),
        ErrorCase(name: "TTL 64", message: v3IPv4WithPseudo,
                  context: PacketContext(source: v4Source, destination: v4Group, hopLimit: 64), expected: .badHopLimit(64)),
        ErrorCase(name: "hop limit 254", message: v3IPv6,
                  context: PacketContext(source: v6Source, destination: v6Group, hopLimit: 254), expected: .badHopLimit(254)),
        ErrorCase(name: "count 0", message: fixed("31016400 00640000"), context: v4Context, expected: .noAddresses),
        ErrorCase(name: "one byte extra", message: v3IPv4WithPseudo + [0], context: v4Context, expected: .lengthMismatch),
        ErrorCase(name: "count 2, one address", message: bytes(hex: "31016402 006405a4 c0000264"), context: v4Context,
                  expected: .lengthMismatch),
        ErrorCase(name: "IPv4 packet read as IPv6", message: v3IPv4WithPseudo, context: v6Context, expected: .lengthMismatch),
        ErrorCase(name: "v2 without auth data", message: fixed("21016401 01010000 c0000264", form: .withoutPseudoHeader),
                  context: v4Context, expected: .lengthMismatch),
        ErrorCase(name: "flipped address bit", message: bytes(hex: "31016401 006405a4 c0000265"), context: v4Context,
                  expected: .badChecksum),
        ErrorCase(name: "v2 checksum with pseudo-header", message: fixed("21016401 01010000 c0000264 7365637265743132"),
                  context: v4Context, expected: .badChecksum),
        ErrorCase(name: "auth type 2", message: fixed("21016401 02010000 c0000264 0000000000000000", form: .withoutPseudoHeader),
                  context: v4Context, expected: .unsupportedAuthType(2)),
        ErrorCase(name: "auth type 255", message: fixed("21016401 ff010000 c0000264 0000000000000000", form: .withoutPseudoHeader),
                  context: v4Context, expected: .unsupportedAuthType(255)),
        ErrorCase(name: "VRID 0 v3", message: fixed("31006401 00640000 c0000264"), context: v4Context, expected: .zeroVRID),
        ErrorCase(name: "VRID 0 v2", message: fixed("21006401 00010000 c0000264 0000000000000000", form: .withoutPseudoHeader),
                  context: v4Context, expected: .zeroVRID),
        ErrorCase(name: "interval 0 v3", message: fixed("31016401 00000000 c0000264"), context: v4Context, expected: .zeroInterval),
        ErrorCase(name: "interval 0 under reserved bits", message: fixed("31016401 f0000000 c0000264"), context: v4Context,
                  expected: .zeroInterval),
        ErrorCase(name: "interval 0 v2", message: fixed("21016401 00000000 c0000264 0000000000000000", form: .withoutPseudoHeader),
                  context: v4Context, expected: .zeroInterval),
    ]

    @Test(arguments: errorCases)
    func rejects(_ c: ErrorCase) {
        #expect(throws: c.expected) { try VRRPCodec.decode(c.message, context: c.context) }
    }

    @Test func everyParseErrorHasAVector() {
        // Keeps the table above complete: each label is produced by at least one vector
        // (bad_ip_header is covered by the IPv4 header tests).
        let labels = Set(Self.errorCases.map(\.expected.label))
        #expect(labels == ["truncated", "oversize", "bad_version", "bad_type", "bad_ttl", "no_addresses",
                           "length_mismatch", "bad_checksum", "bad_auth_type", "bad_vrid", "zero_interval"])
    }

    @Test func checkOrderPrefersEarlierChecks() {
        // Version before type, type before hop limit, count before length, length before checksum.
        let ttl1 = PacketContext(source: v4Source, destination: v4Group, hopLimit: 1)
        #expect(throws: ParseError.unsupportedVersion(5)) { try VRRPCodec.decode(bytes(hex: "52016400 00000000"), context: ttl1) }
        #expect(throws: ParseError.unknownType(7)) { try VRRPCodec.decode(bytes(hex: "37016400 00000000"), context: ttl1) }
        #expect(throws: ParseError.badHopLimit(1)) { try VRRPCodec.decode(bytes(hex: "31016400 00000000"), context: ttl1) }
        #expect(throws: ParseError.noAddresses) { try VRRPCodec.decode(bytes(hex: "31016400 00000000 00"), context: v4Context) }
        #expect(throws: ParseError.lengthMismatch) { try VRRPCodec.decode(bytes(hex: "31006401 00000000"), context: v4Context) }
        #expect(throws: ParseError.badChecksum) { try VRRPCodec.decode(bytes(hex: "31006401 00000000 c0000264"), context: v4Context) }
    }

    // MARK: Encoding of values the wire cannot carry

    @Test func encodeClampsWhatTheWireCannotCarry() throws {
        let many = (0..<300).map { IPAddress.v4(IPv4Address(0xC000_0200 &+ UInt32($0))) }
        let ad = Advertisement(version: .v3, vrid: 7, priority: 50, interval: AdvertInterval(centiseconds: 5000),
                               addresses: many + [ip("2001:db8::1")], authentication: .password("ignored"))
        let wire = VRRPCodec.encode(ad, source: v4Source, destination: v4Group)
        #expect(wire.count == 8 + 255 * 4)
        let decoded = try VRRPCodec.decode(wire, context: v4Context).advertisement
        #expect(decoded.interval == .maximumV3)
        #expect(decoded.addresses == Array(many.prefix(255)))
        #expect(decoded.authentication == .none)
        #expect(decoded == VRRPCodec.normalizedForEncoding(ad, family: .ipv4))
    }

    static let v2Intervals: [(sent: UInt16, wire: UInt16)] = [
        (1, 100), (100, 100), (101, 200), (250, 300), (25_500, 25_500), (30_000, 25_500), (UInt16.max, 25_500),
    ]

    @Test(arguments: v2Intervals)
    func v2IntervalRoundsUpToWholeSecondsAndCaps(_ pair: (sent: UInt16, wire: UInt16)) throws {
        let ad = Advertisement(version: .v2, vrid: 1, priority: 100, interval: AdvertInterval(centiseconds: pair.0),
                               addresses: [ip("192.0.2.100")])
        let decoded = try VRRPCodec.decode(VRRPCodec.encode(ad, source: v4Source, destination: v4Group), context: v4Context)
        #expect(decoded.advertisement.interval.centiseconds == pair.1)
    }

    // MARK: Whole IPv4 packets

    static func ipv4Packet(ihl: UInt8 = 5, totalLength: Int? = nil, ttl: UInt8 = 255, proto: UInt8 = 112,
                           version: UInt8 = 4, payload: [UInt8] = v3IPv4WithPseudo) -> [UInt8] {
        let headerLength = max(Int(ihl) * 4, 20)
        let length = totalLength ?? headerLength + payload.count
        var header: [UInt8] = [version << 4 | ihl, 0xC0, UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
                               0, 1, 0, 0, ttl, proto, 0, 0] + v4Source.bytes + v4Group.bytes
        header += Array(repeating: 1, count: headerLength - 20)  // options (content not interpreted)
        return header + payload
    }

    @Test func ipv4PacketDecodes() throws {
        let (header, decoded) = try VRRPCodec.decodeIPv4Packet(Self.ipv4Packet(), checkHopLimit: true)
        #expect(header == IPv4PacketHeader(source: IPv4Address(192, 0, 2, 1), destination: .vrrpMulticast, ttl: 255,
                                           headerLength: 20))
        #expect(decoded.advertisement == baseAdvertisement)
        let withOptions = try VRRPCodec.decodeIPv4Packet(Self.ipv4Packet(ihl: 6), checkHopLimit: true)
        #expect(withOptions.header.headerLength == 24)
        #expect(withOptions.decoded.advertisement == baseAdvertisement)
        // TTL is reported, and checked only on request.
        let lowTTL = Self.ipv4Packet(ttl: 1)
        #expect(try VRRPCodec.decodeIPv4Packet(lowTTL, checkHopLimit: false).header.ttl == 1)
        #expect(throws: ParseError.badHopLimit(1)) { try VRRPCodec.decodeIPv4Packet(lowTTL, checkHopLimit: true) }
    }

    struct IPv4Case: Sendable, CustomTestStringConvertible {
        var name: String
        var packet: [UInt8]
        var expected: ParseError
        var testDescription: String { "\(name) → \(expected)" }
    }

    static let ipv4Cases: [IPv4Case] = [
        IPv4Case(name: "19 bytes", packet: Array(ipv4Packet().prefix(19)), expected: .truncated),
        IPv4Case(name: "version 6", packet: ipv4Packet(version: 6), expected: .badIPHeader),
        IPv4Case(name: "IHL 4", packet: ipv4Packet(ihl: 4), expected: .badIPHeader),
        IPv4Case(name: "IHL 15 beyond a 32-byte buffer", packet: ipv4Packet(ihl: 15, payload: []).prefix(32).map { $0 },
                 expected: .badIPHeader),
        IPv4Case(name: "total length short", packet: ipv4Packet(totalLength: 31), expected: .badIPHeader),
        IPv4Case(name: "total length long", packet: ipv4Packet(totalLength: 33), expected: .badIPHeader),
        IPv4Case(name: "total length below header", packet: ipv4Packet(totalLength: 10), expected: .badIPHeader),
        IPv4Case(name: "protocol 17", packet: ipv4Packet(proto: 17), expected: .badIPHeader),
        IPv4Case(name: "header only", packet: ipv4Packet(payload: []), expected: .truncated),
        IPv4Case(name: "payload checksum", packet: ipv4Packet(payload: v3IPv4WithPseudo.dropLast() + [0x65]),
                 expected: .badChecksum),
    ]

    @Test(arguments: ipv4Cases)
    func ipv4PacketRejects(_ c: IPv4Case) {
        #expect(throws: c.expected) { try VRRPCodec.decodeIPv4Packet(c.packet, checkHopLimit: true) }
    }
}
