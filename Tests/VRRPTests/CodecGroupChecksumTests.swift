// keepalived's old unicast VRRPv3 checksum (before 1.3.6, and 2.2.7 with `old_unicast_checksum`):
// the IPv4 pseudo-header names the group 224.0.0.18 even when the packet goes to a unicast peer.
import Testing
@testable import VRRP

@Suite struct CodecGroupChecksumTests {
    private let source = ip("192.0.2.1")
    private let peer = ip("192.0.2.2")
    private let advertisement = Advertisement(version: .v3, vrid: 1, priority: 100,
                                              interval: AdvertInterval(centiseconds: 100), addresses: [ip("192.0.2.100")])
    /// The hand-computed multicast vector of CodecVectorTests (pseudo-header to 224.0.0.18, 0x05a4):
    /// byte for byte what keepalived's old form sends to a unicast peer.
    private let groupForm = bytes(hex: "31016401 006405a4 c0000264")

    @Test func unicastAdvertWithTheGroupInThePseudoHeaderDecodes() throws {
        let decoded = try VRRPCodec.decode(groupForm, context: PacketContext(source: source, destination: peer, hopLimit: nil))
        #expect(decoded == DecodedAdvertisement(advertisement: advertisement, checksumForm: .withGroupPseudoHeader))
    }

    @Test func encodesTheGroupFormWhateverTheDestination() {
        #expect(VRRPCodec.encode(advertisement, source: source, destination: peer, checksumForm: .withGroupPseudoHeader) == groupForm)
        // The usual form for a unicast peer differs: the peer's address is in the pseudo-header.
        #expect(VRRPCodec.encode(advertisement, source: source, destination: peer) != groupForm)
    }

    @Test func multicastAdvertStillReportsThePseudoHeaderForm() throws {
        let decoded = try VRRPCodec.decode(groupForm, context: PacketContext(source: source, destination: ip("224.0.0.18"), hopLimit: 255))
        #expect(decoded.checksumForm == .withPseudoHeader)
    }

    @Test func aChecksumMatchingNoFormIsStillRefused() {
        var bad = groupForm
        bad[7] ^= 0x01
        #expect(throws: ParseError.badChecksum) {
            try VRRPCodec.decode(bad, context: PacketContext(source: source, destination: peer, hopLimit: nil))
        }
    }

    @Test func ipv6IgnoresTheGroupForm() throws {
        // IPv6 always uses the real destination (RFC 9568 §5.2.8): a group-form checksum to a unicast peer is bad.
        let v6Source = ip("fe80::1"), v6Peer = ip("fe80::2")
        let ad = Advertisement(version: .v3, vrid: 1, priority: 100, interval: AdvertInterval(centiseconds: 100),
                               addresses: [ip("2001:db8::100")])
        let toGroup = VRRPCodec.encode(ad, source: v6Source, destination: ip("ff02::12"))
        #expect(throws: ParseError.badChecksum) {
            try VRRPCodec.decode(toGroup, context: PacketContext(source: v6Source, destination: v6Peer, hopLimit: nil))
        }
    }
}
