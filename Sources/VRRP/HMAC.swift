// HMAC-SHA256 (RFC 2104, with SHA-256 as in RFC 4231), over `SHA256`. Pure: no I/O.

/// An HMAC-SHA256 key, prepared once: the inner and outer hash states after the padded key block,
/// so each message costs only its own blocks and the outer block.
public struct HMACSHA256: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    /// RFC 2104 §2: a key longer than the block is hashed first; a shorter one is padded with zeros.
    public init<C: Collection<UInt8>>(key: C) {
        var block = key.count > SHA256.blockLength ? SHA256.hash(key) : Array(key)
        block.append(contentsOf: repeatElement(0, count: SHA256.blockLength - block.count))
        var inner = SHA256(), outer = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
        self.inner = inner; self.outer = outer
    }

    /// The 32-byte MAC of the concatenation of `segments` (the message given in pieces, so a caller
    /// can substitute fields without copying the packet).
    public func authenticationCode(segments: [ArraySlice<UInt8>]) -> [UInt8] {
        var inner = self.inner
        for segment in segments { inner.update(segment) }
        var outer = self.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }

    public func authenticationCode<C: Collection<UInt8>>(for message: C) -> [UInt8] {
        authenticationCode(segments: [Array(message)[...]])
    }

    /// Compares two byte strings in time that depends only on their lengths, not on where they
    /// differ (so a forger learns nothing from how fast a guess is refused).
    public static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
