// libFuzzer harness for the VRRP codec. Built by scripts/fuzz together with Sources/VRRP/*.swift as
// one module (so internal helpers are visible), never as a SwiftPM target: the fuzzer flags would be
// unsafeFlags.
//
// Each input is tried as a VRRP message under three receive contexts (IPv4 multicast, IPv4 unicast
// without a hop-limit check, IPv6 multicast — the addresses of the golden captures, so seeds taken
// from them decode) and as a whole IPv4 packet. Decoding must never trap; when it succeeds, these
// invariants must hold (a violation traps, which libFuzzer reports as a crash):
//   1. re-encoding the decoded value in the reported checksum form and decoding it again gives the
//      same value and form;
//   2. the re-encoded bytes equal the input outside the fields the decoder is allowed to ignore:
//      v3 reserved bits, v2 authentication data under Auth Type 0, and the checksum field (0x0000 and
//      0xFFFF are the same ones' complement value, and the reserved bits change it);
//   3. decoding the same bytes from an array slice at a non-zero offset gives the same result;
//   4. a whole IPv4 packet decodes exactly like its payload under the context its header gives;
//   5. with an `auth_hmac` trailer: it is the input's last 28 bytes and re-encodes to them exactly,
//      its message is the bytes before it, checking its MAC never traps, and the message re-signed
//      with a known key verifies while the same trailer under another key or source does not (a source
//      that differs from the packet's: a whole IPv4 packet may name the same address as source and
//      destination).

let multicastV4 = PacketContext(source: .v4(IPv4Address(192, 0, 2, 11)), destination: .v4(.vrrpMulticast), hopLimit: 255)
let unicastV4 = PacketContext(source: .v4(IPv4Address(192, 0, 2, 11)), destination: .v4(IPv4Address(192, 0, 2, 12)),
                              hopLimit: nil)
let multicastV6 = PacketContext(source: .v6(IPv6Address(high: 0xfe80_0000_0000_0000, low: 0x11)),
                                destination: .v6(.vrrpMulticast), hopLimit: 255)
let fuzzKey = HMACSHA256(key: Array(0..<32 as Range<UInt8>))
let otherKey = HMACSHA256(key: Array(repeating: 0x5A as UInt8, count: 40))

/// A source that differs from `source` (its lowest bit flipped). Not the packet's destination: a whole
/// IPv4 packet may carry the same address in both fields.
func anotherSource(than source: IPAddress) -> IPAddress {
    switch source {
    case .v4(let address): .v4(IPv4Address(address.value ^ 1))
    case .v6(let address): .v6(IPv6Address(high: address.high, low: address.low ^ 1))
    }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

func checkMessage(_ bytes: [UInt8], context: PacketContext) {
    let result = Result { () throws(ParseError) in try VRRPCodec.decode(bytes, context: context) }
    // 3: slices at an offset behave like arrays.
    let padded = [0xA5] + bytes
    let sliced = Result { () throws(ParseError) in try VRRPCodec.decode(padded[1...], context: context) }
    check(result == sliced, "slice decode \(sliced) differs from array decode \(result)")

    guard case .success(let decoded) = result else { return }
    let ad = decoded.advertisement
    let trailer = decoded.authTrailer?.trailer
    let wire = VRRPCodec.encode(ad, source: context.source, destination: context.destination,
                                checksumForm: decoded.checksumForm, authTrailer: trailer)
    let messageLength = bytes.count - (trailer == nil ? 0 : AuthTrailer.length)
    // 1: decode ∘ encode is the identity on decoded values (the trailer's message is the re-encoded one).
    let again = Result { () throws(ParseError) in try VRRPCodec.decode(wire, context: context) }
    var expectedAgain = decoded
    expectedAgain.authTrailer?.message = Array(wire.prefix(messageLength))
    check(again == .success(expectedAgain), "re-encoded \(wire) decodes to \(again), not \(expectedAgain)")
    // 5: the trailer.
    if let received = decoded.authTrailer {
        check(received.message == Array(bytes.prefix(messageLength)), "trailer message is not the bytes before it")
        check(received.trailer.bytes == Array(bytes.suffix(AuthTrailer.length)), "trailer does not re-encode to its bytes")
        _ = received.verifies(source: context.source, key: fuzzKey)
        let resigned = AuthTrailer.sign(message: received.message[...], source: context.source, keyID: received.trailer.keyID,
                                        key: fuzzKey, sequence: received.trailer.sequence)
        let good = ReceivedAuthTrailer(trailer: resigned, message: received.message)
        check(good.verifies(source: context.source, key: fuzzKey), "re-signed message does not verify")
        check(!good.verifies(source: context.source, key: otherKey), "verifies under another key")
        check(!good.verifies(source: anotherSource(than: context.source), key: fuzzKey), "verifies for another source")
    }
    // 2: byte equality outside the ignorable fields.
    check(wire.count == bytes.count, "re-encoded length \(wire.count) ≠ \(bytes.count)")
    var expected = bytes
    expected[6] = wire[6]; expected[7] = wire[7]
    switch ad.version {
    case .v3: expected[4] &= 0x0F
    case .v2:
        if ad.authentication == .none {
            for i in (messageLength - VRRPCodec.v2AuthenticationDataLength)..<messageLength { expected[i] = 0 }
        }
    }
    check(wire == expected, "re-encoded \(wire) differs from input \(bytes)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkMessage(bytes, context: multicastV4)
    checkMessage(bytes, context: unicastV4)
    checkMessage(bytes, context: multicastV6)
    // 4: whole IPv4 packets.
    for checkHopLimit in [true, false] {
        let whole = Result { () throws(ParseError) in try VRRPCodec.decodeIPv4Packet(bytes, checkHopLimit: checkHopLimit) }
        guard case .success(let (header, decoded)) = whole else { continue }
        check(header.headerLength >= 20 && header.headerLength <= bytes.count, "header length \(header.headerLength)")
        let context = PacketContext(source: .v4(header.source), destination: .v4(header.destination),
                                    hopLimit: checkHopLimit ? header.ttl : nil)
        let payload = Array(bytes[header.headerLength...])
        let direct = Result { () throws(ParseError) in try VRRPCodec.decode(payload, context: context) }
        check(direct == .success(decoded), "packet decode \(decoded) ≠ payload decode \(direct)")
        checkMessage(payload, context: context)
    }
    return 0
}
