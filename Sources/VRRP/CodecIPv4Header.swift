// Minimal IPv4 header parsing for raw IPv4 sockets, which deliver the IP header with the payload
// (Linux raw IPv4 sockets do; raw IPv6 sockets do not, their hop limit comes from ancillary data).

/// The fields of an IPv4 header the VRRP receive path needs.
public struct IPv4PacketHeader: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var ttl: UInt8
    /// IHL × 4: where the VRRP message starts.
    public var headerLength: Int

    public init(source: IPv4Address, destination: IPv4Address, ttl: UInt8, headerLength: Int) {
        self.source = source; self.destination = destination; self.ttl = ttl; self.headerLength = headerLength
    }
}

extension VRRPCodec {
    /// Header without options (RFC 791 §3.1: IHL is at least 5 words).
    public static let ipv4MinimumHeaderLength = 20
    /// RFC 791 §3.1 Version field of an IPv4 header.
    static let ipv4Version: UInt8 = 4

    /// Parses an IPv4 header.
    ///
    /// Checks, in order: fewer than 20 bytes → `.truncated`; version ≠ 4, IHL < 5, IHL × 4 beyond the
    /// buffer, Total Length ≠ buffer length, or protocol ≠ 112 → `.badIPHeader`. Total Length must
    /// equal the buffer length exactly: the kernel hands a raw socket the whole (reassembled)
    /// datagram, so a shorter buffer means the receive buffer cut it and a longer one means the
    /// header lies. The IP header checksum is not checked (the kernel already dropped bad ones).
    public static func decodeIPv4Header(_ bytes: ArraySlice<UInt8>) throws(ParseError) -> IPv4PacketHeader {
        let base = bytes.startIndex
        guard bytes.count >= ipv4MinimumHeaderLength else { throw .truncated }
        guard bytes[base] >> 4 == ipv4Version else { throw .badIPHeader }
        let headerLength = Int(bytes[base] & 0x0F) * 4
        guard headerLength >= ipv4MinimumHeaderLength, headerLength <= bytes.count else { throw .badIPHeader }
        let totalLength = Int(bytes[base + 2]) << 8 | Int(bytes[base + 3])
        guard totalLength == bytes.count else { throw .badIPHeader }
        guard bytes[base + 9] == ProtocolConstants.ipProtocol else { throw .badIPHeader }
        // Exactly 4 bytes each, so the failable initialisers cannot fail.
        guard let source = IPv4Address(bytes: bytes[(base + 12)..<(base + 16)]),
              let destination = IPv4Address(bytes: bytes[(base + 16)..<(base + 20)]) else { throw .badIPHeader }
        return IPv4PacketHeader(source: source, destination: destination, ttl: bytes[base + 8],
                                headerLength: headerLength)
    }

    /// Decodes a whole IPv4 packet as a raw IPv4 socket delivers it: the header (see
    /// `decodeIPv4Header`), then the VRRP message after it. With `checkHopLimit` the TTL must be 255
    /// (`.badHopLimit`, multicast mode); unicast mode passes false.
    public static func decodeIPv4Packet(_ bytes: [UInt8], checkHopLimit: Bool) throws(ParseError)
        -> (header: IPv4PacketHeader, decoded: DecodedAdvertisement) {
        try decodeIPv4Packet(bytes[...], checkHopLimit: checkHopLimit)
    }

    public static func decodeIPv4Packet(_ bytes: ArraySlice<UInt8>, checkHopLimit: Bool) throws(ParseError)
        -> (header: IPv4PacketHeader, decoded: DecodedAdvertisement) {
        let header = try decodeIPv4Header(bytes)
        let context = PacketContext(source: .v4(header.source), destination: .v4(header.destination),
                                    hopLimit: checkHopLimit ? header.ttl : nil)
        let decoded = try decode(bytes[(bytes.startIndex + header.headerLength)...], context: context)
        return (header, decoded)
    }
}
