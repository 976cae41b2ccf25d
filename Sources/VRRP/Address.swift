// IP address value types for the protocol core. Pure Swift: no inet_pton, no Glibc.

/// An IPv4 address, stored in host byte order so comparison is numeric (RFC 9568 §6.4.3 compares
/// primary addresses as unsigned integers in network byte order, which this order preserves).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    /// The address from 4 bytes in network order.
    /// (Inlinable so that callers get it specialized for their collection type: it is on the
    /// receive path for every advertisement.)
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        var v: UInt32 = 0
        for b in bytes { v = v << 8 | UInt32(b) }
        value = v
    }
    /// Dotted-quad text, e.g. `192.0.2.1`. Rejects leading zeros that could read as octal.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(part.count > 1 && part.first == "0"),
                  let octet = UInt8(part) else { return nil }
            result = result << 8 | UInt32(octet)
        }
        value = result
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
    public var description: String { bytes.map(String.init).joined(separator: ".") }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// 224.0.0.18, the VRRP IPv4 multicast group (RFC 9568 §5.1.1.2).
    public static let vrrpMulticast = IPv4Address(224, 0, 0, 18)
    public var isMulticast: Bool { value >> 28 == 0xE }
}

/// An IPv6 address as two 64-bit halves in host order (numeric comparison = byte-wise comparison).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    /// The address from 16 bytes in network order.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h; low = l
    }
    /// RFC 4291 §2.2 text forms, including `::` compression and an embedded dotted quad.
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard !s.isEmpty, s.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tailGroups: [UInt16] = []
        var sawCompression = false
        var halves: [String] = []
        let chars = Array(s)
        var start = 0, k = 0
        while k < chars.count {
            if chars[k] == ":" && k + 1 < chars.count && chars[k + 1] == ":" {
                halves.append(String(chars[start..<k])); k += 2; start = k
                guard k >= chars.count || chars[k] != ":" else { return nil }
            } else { k += 1 }
        }
        halves.append(String(chars[start..<chars.count]))
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (i, f) in fields.enumerated() {
                if allowV4 && i == fields.count - 1 && f.contains(".") {
                    guard let v4 = IPv4Address(f) else { return nil }
                    out.append(UInt16(truncatingIfNeeded: v4.value >> 16))
                    out.append(UInt16(truncatingIfNeeded: v4.value))
                    continue
                }
                guard !f.isEmpty, f.count <= 4, let g = UInt16(f, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        if halves.count == 2 {
            sawCompression = true
            guard let a = parseGroups(halves[0], allowV4: false),
                  let b = parseGroups(halves[1], allowV4: true) else { return nil }
            groups = a; tailGroups = b
            guard groups.count + tailGroups.count <= 7 else { return nil }
        } else {
            guard let a = parseGroups(halves[0], allowV4: true), a.count == 8 else { return nil }
            groups = a
        }
        if sawCompression {
            groups += Array(repeating: 0, count: 8 - groups.count - tailGroups.count) + tailGroups
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, g) in groups.enumerated() {
            if i < 4 { h = h << 16 | UInt64(g) } else { l = l << 16 | UInt64(g) }
        }
        high = h; low = l
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }
    var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
    }
    /// RFC 5952 canonical text: lower case, longest run (≥ 2) of zero groups compressed.
    public var description: String {
        let g = groups
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ range: Range<Int>) -> String { g[range].map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
    public static func < (a: Self, b: Self) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// ff02::12, the VRRP IPv6 multicast group (RFC 9568 §5.1.2.2).
    public static let vrrpMulticast = IPv6Address(high: 0xff02_0000_0000_0000, low: 0x12)
    /// ff02::1, all nodes (destination of unsolicited Neighbor Advertisements).
    public static let allNodes = IPv6Address(high: 0xff02_0000_0000_0000, low: 0x1)
    public var isLinkLocal: Bool { high >> 54 == 0x3fa }
    public var isMulticast: Bool { high >> 56 == 0xff }
}

public enum AddressFamily: String, Hashable, Sendable, CustomStringConvertible {
    case ipv4, ipv6
    public var description: String { rawValue }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: some StringProtocol) {
        if let a = IPv4Address(text) { self = .v4(a) } else if let a = IPv6Address(text) { self = .v6(a) } else { return nil }
    }
    public var family: AddressFamily {
        switch self { case .v4: .ipv4; case .v6: .ipv6 }
    }
    public var bytes: [UInt8] {
        switch self { case .v4(let a): a.bytes; case .v6(let a): a.bytes }
    }
    public var description: String {
        switch self { case .v4(let a): a.description; case .v6(let a): a.description }
    }
    /// Orders IPv4 before IPv6; within a family, numerically.
    public static func < (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x < y
        case (.v6(let x), .v6(let y)): x < y
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

/// An address with its prefix length, as configured for a virtual IP (`192.0.2.100/24`).
public struct AddressPrefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: UInt8

    public init(address: IPAddress, prefixLength: UInt8) {
        self.address = address; self.prefixLength = prefixLength
    }
    /// `ADDR/LEN`, or a bare address meaning a host prefix (/32 or /128).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        let maxLength: UInt8 = address.family == .ipv4 ? 32 : 128
        if parts.count == 2 {
            guard parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let length = UInt8(parts[1]), length <= maxLength else { return nil }
            prefixLength = length
        } else {
            prefixLength = maxLength
        }
        self.address = address
    }
    public var family: AddressFamily { address.family }
    public var description: String { "\(address)/\(prefixLength)" }
}
