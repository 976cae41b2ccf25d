// Helpers shared by the codec tests: hex, a seeded PRNG, and an independent RFC 1071 checksum.
import Foundation
import VRRP

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough to drive property tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The base seed for a property test: `VRRP_TEST_SEED` from the environment to replay a failure,
/// otherwise a fresh one per run (always printed in failure messages).
func propertySeed() -> UInt64 {
    if let text = environmentValue("VRRP_TEST_SEED"), let seed = UInt64(text) { return seed }
    var system = SystemRandomNumberGenerator()
    return system.next()
}

func environmentValue(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name]
}

func bytes(hex: some StringProtocol) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex string")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// RFC 1071 written out directly, independent of the codec's implementation: the complement of the
/// ones' complement sum of 16-bit big-endian words, odd byte padded with zero.
func referenceChecksum(_ data: [UInt8]) -> UInt16 {
    var words = data
    if words.count % 2 == 1 { words.append(0) }
    var sum: UInt32 = 0
    for i in stride(from: 0, to: words.count, by: 2) {
        sum += UInt32(words[i]) << 8 | UInt32(words[i + 1])
        sum = (sum & 0xFFFF) + (sum >> 16)
    }
    return ~UInt16(sum)
}

/// The IPv4 (RFC 5798 reading) or IPv6 (RFC 8200 §8.1) pseudo-header for a VRRP message of `length` bytes.
func referencePseudoHeader(source: IPAddress, destination: IPAddress, length: Int) -> [UInt8] {
    switch source.family {
    case .ipv4:
        return source.bytes + destination.bytes + [0, 112, UInt8(length >> 8), UInt8(length & 0xFF)]
    case .ipv6:
        return source.bytes + destination.bytes
            + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 112]
    }
}

/// Rewrites bytes 6–7 of a VRRP message with a correct checksum in the given form.
func withFixedChecksum(_ message: [UInt8], form: ChecksumForm, source: IPAddress, destination: IPAddress) -> [UInt8] {
    var m = message
    guard m.count >= 8 else { return m }
    m[6] = 0; m[7] = 0
    let covered = form == .withPseudoHeader
        ? referencePseudoHeader(source: source, destination: destination, length: m.count) + m : m
    let sum = referenceChecksum(covered)
    m[6] = UInt8(sum >> 8); m[7] = UInt8(sum & 0xFF)
    return m
}

/// Test shorthand for literal addresses.
func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
    return a
}
