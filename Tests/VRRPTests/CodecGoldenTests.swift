// Packets captured from keepalived 2.2.7 (scripts/capture-golden, Golden/README.md): decoding gives
// the configured fields and encoding the decoded value reproduces keepalived's bytes exactly.
import Foundation
import Testing
@testable import VRRP

/// One capture file: `key value` lines, `#` comments.
struct GoldenPacket: Sendable {
    var source: IPAddress
    var destination: IPAddress
    var hopLimit: UInt8
    var payload: [UInt8]
    /// The whole IP packet as sent by the kernel.
    var ipPacket: [UInt8]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func load(_ name: String) throws -> GoldenPacket {
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).txt"), encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let source = fields["source"].flatMap(IPAddress.init), let destination = fields["destination"].flatMap(IPAddress.init),
              let hopLimit = fields["hop-limit"].flatMap({ UInt8($0) }), let payload = fields["payload"],
              let packet = fields["ip-packet"] else {
            throw GoldenFileError(name: name, fields: fields)
        }
        return GoldenPacket(source: source, destination: destination, hopLimit: hopLimit,
                            payload: bytes(hex: payload), ipPacket: bytes(hex: packet))
    }

    var context: PacketContext { PacketContext(source: source, destination: destination, hopLimit: hopLimit) }
}

struct GoldenFileError: Error, CustomStringConvertible {
    var name: String
    var fields: [String: String]
    var description: String { "golden file \(name).txt lacks fields: has \(fields.keys.sorted())" }
}

struct GoldenCase: Sendable, CustomTestStringConvertible {
    var file: String
    var expected: Advertisement
    var form: ChecksumForm
    var testDescription: String { file }
}

@Suite struct CodecGoldenTests {
    /// The values are the keepalived configurations in scripts/capture-golden (also copied into each file).
    static let cases: [GoldenCase] = [
        GoldenCase(file: "v3-ipv4",
                   expected: Advertisement(version: .v3, vrid: 51, priority: 150, interval: .init(centiseconds: 50),
                                           addresses: [ip("192.0.2.100"), ip("192.0.2.101")]),
                   form: .withPseudoHeader),
        GoldenCase(file: "v3-ipv4-unicast",
                   expected: Advertisement(version: .v3, vrid: 55, priority: 254, interval: .init(centiseconds: 10),
                                           addresses: [ip("192.0.2.130")]),
                   form: .withPseudoHeader),
        GoldenCase(file: "v3-ipv6",
                   expected: Advertisement(version: .v3, vrid: 52, priority: 200, interval: .init(centiseconds: 25),
                                           addresses: [ip("2001:db8::100"), ip("2001:db8::101"), ip("2001:db8::102")]),
                   form: .withPseudoHeader),
        GoldenCase(file: "v2-pass",
                   expected: Advertisement(version: .v2, vrid: 53, priority: 120, interval: .init(seconds: 1),
                                           addresses: [ip("192.0.2.110")], authentication: .password("secret12")),
                   form: .withoutPseudoHeader),
        GoldenCase(file: "v2-noauth",
                   expected: Advertisement(version: .v2, vrid: 54, priority: 100, interval: .init(seconds: 1),
                                           addresses: [ip("192.0.2.120"), ip("192.0.2.121"), ip("192.0.2.122")]),
                   form: .withoutPseudoHeader),
    ]

    @Test(arguments: cases)
    func decodesAndReencodesByteForByte(_ c: GoldenCase) throws {
        let golden = try GoldenPacket.load(c.file)
        #expect(golden.hopLimit == ProtocolConstants.requiredHopLimit)
        let decoded = try VRRPCodec.decode(golden.payload, context: golden.context)
        #expect(decoded.advertisement == c.expected)
        #expect(decoded.checksumForm == c.form)
        let reencoded = VRRPCodec.encode(decoded.advertisement, source: golden.source, destination: golden.destination,
                                         checksumForm: decoded.checksumForm)
        #expect(hex(reencoded) == hex(golden.payload))
        // The default form for v3 IPv4 is keepalived's.
        #expect(VRRPCodec.encode(c.expected, source: golden.source, destination: golden.destination) == golden.payload)
    }

    @Test(arguments: cases.filter { $0.expected.family == .ipv4 })
    func wholeIPv4PacketFromTheKernel(_ c: GoldenCase) throws {
        let golden = try GoldenPacket.load(c.file)
        let (header, decoded) = try VRRPCodec.decodeIPv4Packet(golden.ipPacket, checkHopLimit: true)
        #expect(IPAddress.v4(header.source) == golden.source)
        #expect(IPAddress.v4(header.destination) == golden.destination)
        #expect(header.ttl == golden.hopLimit)
        #expect(Array(golden.ipPacket[header.headerLength...]) == golden.payload)
        #expect(decoded.advertisement == c.expected)
    }

    /// keepalived 2.2.7 has no `v3_checksum_as_v2` (added in 2.2.8), so no captured message-only v3
    /// IPv4 packet exists here. This takes keepalived's packet, recomputes its checksum over the
    /// message alone with the test's own RFC 1071 code (0xb3cd, checked with tshark's
    /// `vrrp.v3_checksum_as_in_v2` preference, see Golden/README.md), and requires it to decode as
    /// `withoutPseudoHeader` and to be what `encode(..., checksumForm: .withoutPseudoHeader)` builds.
    @Test func messageOnlyChecksumOfKeepalivedPacket() throws {
        let golden = try GoldenPacket.load("v3-ipv4")
        let messageOnly = withFixedChecksum(golden.payload, form: .withoutPseudoHeader,
                                            source: golden.source, destination: golden.destination)
        #expect(hex(messageOnly) == "313396020032b3cdc0000264c0000265")
        let decoded = try VRRPCodec.decode(messageOnly, context: golden.context)
        #expect(decoded.checksumForm == .withoutPseudoHeader)
        #expect(VRRPCodec.encode(decoded.advertisement, source: golden.source, destination: golden.destination,
                                 checksumForm: .withoutPseudoHeader) == messageOnly)
    }
}
