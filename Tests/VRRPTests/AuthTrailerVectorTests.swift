// SHA-256 and HMAC-SHA256 against published vectors, and whole signed advertisements (v2/v3 ×
// IPv4/IPv6) against an independent implementation: Python's `hashlib`/`hmac` with its own packet
// builder, following keepalived's vrrp_auth_hmac.c, compared byte for byte.
import Foundation
import Testing
import VRRP

@Suite struct SHA256VectorTests {
    // FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func fipsExamples(message: String, digest: String) {
        #expect(hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func millionAs() {
        #expect(hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length across the padding boundaries (55/56/63/64 bytes), fed whole and byte by byte.
    @Test func streamingMatchesOneShotAcrossBlockBoundaries() {
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for length in 0...data.count {
            var pieces = SHA256()
            for byte in data.prefix(length) { pieces.update([byte]) }
            #expect(pieces.finalize() == SHA256.hash(data.prefix(length)), "length \(length)")
        }
    }
}

@Suite struct HMACVectorTests {
    // RFC 4231 §4.2–4.8 (test case 5 is the truncated one: 128 bits, what the trailer carries).
    @Test(arguments: [
        ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", hex(Array("Hi There".utf8)),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (hex(Array("Jefe".utf8)), hex(Array("what do ya want for nothing?".utf8)),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("0102030405060708090a0b0c0d0e0f10111213141516171819", String(repeating: "cd", count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (String(repeating: "0c", count: 20), hex(Array("Test With Truncation".utf8)),
         "a3b6167473100ee06e0c796c2955552b"),
        (String(repeating: "aa", count: 131), hex(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131),
         hex(Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8)),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func rfc4231(key: String, data: String, mac: String) {
        let full = HMACSHA256(key: bytes(hex: key)).authenticationCode(for: bytes(hex: data))
        #expect(hex(Array(full.prefix(mac.count / 2))) == mac)
    }

    @Test func segmentsAreConcatenated() {
        let key = HMACSHA256(key: [UInt8](repeating: 7, count: 40))
        let message = (0..<150).map { UInt8($0) }
        #expect(key.authenticationCode(segments: [message[0..<3], message[3..<64], message[64..<65], message[65...]])
                == key.authenticationCode(for: message))
    }

    @Test func constantTimeEqualCompares() {
        #expect(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!HMACSHA256.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!HMACSHA256.constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(HMACSHA256.constantTimeEqual([], []))
    }
}

/// One signed advertisement, as both implementations build it.
struct SignedCase: Codable, CustomStringConvertible {
    var version: Int
    var vrid: Int
    var priority: Int
    /// Centiseconds (v3) or seconds (v2).
    var interval: Int
    var addresses: [String]
    var source: String
    var destination: String
    var keyID: Int
    var key: String
    var seconds: UInt32
    var fraction: Int
    var counter: Int
    var description: String { "v\(version) vrid \(vrid) from \(source) to \(destination) key \(keyID)" }
}

/// Python's independent builder: the VRRP message, the trailer (HMAC over pseudo-header, message
/// with checksum 0, trailer prefix, 16 zero bytes), and the checksum (IPv4: over the message with
/// the v3 pseudo-header of the message's length; IPv6: over the whole payload).
let pythonSigner = #"""
import hashlib, hmac, ipaddress, json, struct, sys
def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
out = []
for c in json.load(sys.stdin):
    src = ipaddress.ip_address(c["source"]); dst = ipaddress.ip_address(c["destination"])
    addrs = b"".join(ipaddress.ip_address(a).packed for a in c["addresses"])
    n = len(c["addresses"])
    if c["version"] == 3:
        msg = bytes([0x31, c["vrid"], c["priority"], n]) + struct.pack("!H", c["interval"]) + b"\0\0" + addrs
    else:
        msg = bytes([0x21, c["vrid"], c["priority"], n, 0, c["interval"]]) + b"\0\0" + addrs + b"\0" * 8
    prefix = struct.pack("!BBHIHH", 1, c["keyID"], 0, c["seconds"], c["fraction"], c["counter"])
    pseudo = bytes([src.version, c["version"], c["vrid"], 0]) + src.packed.ljust(16, b"\0")
    mac = hmac.new(bytes.fromhex(c["key"]), pseudo + msg + prefix + b"\0" * 16, hashlib.sha256).digest()[:16]
    payload = msg + prefix + mac
    if src.version == 4:
        ph = src.packed + dst.packed + struct.pack("!BBH", 0, 112, len(msg)) if c["version"] == 3 else b""
        sumv = csum(ph + msg)
    else:
        sumv = csum(src.packed + dst.packed + struct.pack("!I", len(payload)) + b"\0\0\0" + bytes([112]) + payload)
    payload = payload[:6] + struct.pack("!H", sumv) + payload[8:]
    out.append(payload.hex())
print(json.dumps(out))
"""#

func runPython(_ script: String, input: Data) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    return output
}

@Suite struct AuthTrailerVectorTests {
    static func address(_ text: String) -> IPAddress { IPAddress(text)! }

    static let cases: [SignedCase] = [
        SignedCase(version: 3, vrid: 51, priority: 150, interval: 100, addresses: ["192.0.2.100"],
                   source: "192.0.2.11", destination: "224.0.0.18", keyID: 1,
                   key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   seconds: 1_780_000_000, fraction: 0x8000, counter: 0),
        SignedCase(version: 3, vrid: 7, priority: 255, interval: 4095, addresses: ["198.51.100.1", "198.51.100.2", "203.0.113.9"],
                   source: "192.0.2.12", destination: "192.0.2.13", keyID: 200,
                   key: String(repeating: "5a", count: 64), seconds: 0xFFFF_FFFF, fraction: 0xFFFF, counter: 0xFFFF),
        SignedCase(version: 2, vrid: 1, priority: 100, interval: 1, addresses: ["192.0.2.100"],
                   source: "192.0.2.11", destination: "224.0.0.18", keyID: 2,
                   key: String(repeating: "a7", count: 33), seconds: 1_700_000_123, fraction: 1, counter: 2),
        SignedCase(version: 2, vrid: 255, priority: 1, interval: 255, addresses: ["198.51.100.7", "198.51.100.8"],
                   source: "198.51.100.3", destination: "198.51.100.4", keyID: 255,
                   key: String(repeating: "01", count: 48), seconds: 12, fraction: 0, counter: 65535),
        SignedCase(version: 3, vrid: 51, priority: 100, interval: 100, addresses: ["2001:db8::100"],
                   source: "fe80::11", destination: "ff02::12", keyID: 1,
                   key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   seconds: 1_780_000_000, fraction: 0x1234, counter: 7),
        SignedCase(version: 3, vrid: 9, priority: 0, interval: 1, addresses: ["2001:db8::1", "2001:db8::2"],
                   source: "2001:db8::11", destination: "2001:db8::12", keyID: 17,
                   key: String(repeating: "c3", count: 64), seconds: 3, fraction: 0xFFFF, counter: 0),
    ]

    static func advertisement(_ c: SignedCase) -> Advertisement {
        Advertisement(version: c.version == 3 ? .v3 : .v2, vrid: UInt8(c.vrid), priority: UInt8(c.priority),
                      interval: c.version == 3 ? AdvertInterval(centiseconds: UInt16(c.interval))
                                               : AdvertInterval(seconds: UInt8(c.interval)),
                      addresses: c.addresses.map(address))
    }

    static func ours(_ c: SignedCase) -> [UInt8] {
        let ad = advertisement(c)
        let source = address(c.source), destination = address(c.destination)
        let message = VRRPCodec.encode(ad, source: source, destination: destination)
        let trailer = AuthTrailer.sign(message: message[...], source: source, keyID: UInt8(c.keyID),
                                       key: HMACSHA256(key: bytes(hex: c.key)),
                                       sequence: AuthSequence(seconds: c.seconds, fraction: UInt16(c.fraction),
                                                              counter: UInt16(c.counter)))
        return VRRPCodec.encode(ad, source: source, destination: destination, authTrailer: trailer)
    }

    @Test func matchesPythonByteForByte() throws {
        let output = try runPython(pythonSigner, input: try JSONEncoder().encode(Self.cases))
        let expected = try JSONDecoder().decode([String].self, from: output)
        try #require(expected.count == Self.cases.count)
        for (c, theirs) in zip(Self.cases, expected) {
            #expect(hex(Self.ours(c)) == theirs, "\(c)")
        }
    }

    @Test func signedPacketsDecodeWithTheirTrailer() throws {
        for c in Self.cases {
            let wire = Self.ours(c)
            let source = Self.address(c.source)
            let context = PacketContext(source: source, destination: Self.address(c.destination), hopLimit: nil)
            let decoded = try VRRPCodec.decode(wire, context: context)
            #expect(decoded.advertisement == VRRPCodec.normalizedForEncoding(Self.advertisement(c), family: source.family))
            let received = try #require(decoded.authTrailer, "\(c)")
            #expect(received.message == Array(wire.prefix(wire.count - AuthTrailer.length)))
            #expect(received.trailer.keyID == UInt8(c.keyID))
            #expect(received.trailer.sequence == AuthSequence(seconds: c.seconds, fraction: UInt16(c.fraction), counter: UInt16(c.counter)))
            #expect(received.trailer.bytes == Array(wire.suffix(AuthTrailer.length)))
            #expect(received.verifies(source: source, key: HMACSHA256(key: bytes(hex: c.key))))
            // The HMAC binds the source, the key and every signed byte.
            #expect(!received.verifies(source: Self.address(c.destination), key: HMACSHA256(key: bytes(hex: c.key))))
            #expect(!received.verifies(source: source, key: HMACSHA256(key: bytes(hex: String(repeating: "ee", count: 32)))))
            for index in [1, 2, 8, received.message.count - 1] {
                var altered = received
                altered.message[index] ^= 0x01
                #expect(!altered.verifies(source: source, key: HMACSHA256(key: bytes(hex: c.key))), "byte \(index)")
            }
            // The checksum field is read as zero: changing it changes nothing.
            var rechecksummed = received
            rechecksummed.message[6] ^= 0xFF
            #expect(rechecksummed.verifies(source: source, key: HMACSHA256(key: bytes(hex: c.key))))
        }
    }
}
