// Why the codec refused a byte string. One case per check so drops can be counted by reason.

public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than the fixed VRRP header (or the IP header, for whole IPv4 packets).
    case truncated
    /// Length disagrees with Count IPvX Addr (and, for v2, the 8 bytes of authentication data).
    case lengthMismatch
    /// Longer than any valid advertisement can be.
    case oversize
    /// Version field is not 2 or 3, or 2 over IPv6 (RFC 9568 §7.1).
    case unsupportedVersion(UInt8)
    /// Type field is not 1 (ADVERTISEMENT).
    case unknownType(UInt8)
    /// TTL / Hop Limit is not 255 (RFC 9568 §7.1).
    case badHopLimit(UInt8)
    case badChecksum
    /// VRID 0 is not a valid virtual router.
    case zeroVRID
    /// Max Advertise Interval (or v2 Adver Int) of 0.
    case zeroInterval
    /// Count IPvX Addr of 0.
    case noAddresses
    /// v2: Auth Type other than 0 (none) or 1 (simple password).
    case unsupportedAuthType(UInt8)
    /// IPv4 header inconsistent (bad version, IHL or total length) or not protocol 112.
    case badIPHeader

    /// Stable label for metrics and status.
    public var label: String {
        switch self {
        case .truncated: "truncated"
        case .lengthMismatch: "length_mismatch"
        case .oversize: "oversize"
        case .unsupportedVersion: "bad_version"
        case .unknownType: "bad_type"
        case .badHopLimit: "bad_ttl"
        case .badChecksum: "bad_checksum"
        case .zeroVRID: "bad_vrid"
        case .zeroInterval: "zero_interval"
        case .noAddresses: "no_addresses"
        case .unsupportedAuthType: "bad_auth_type"
        case .badIPHeader: "bad_ip_header"
        }
    }
    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "\(label) (\(v))"
        case .unknownType(let t): "\(label) (\(t))"
        case .badHopLimit(let h): "\(label) (\(h))"
        case .unsupportedAuthType(let a): "\(label) (\(a))"
        default: label
        }
    }
}
