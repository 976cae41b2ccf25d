// The advertisement as a value: what the codec parses into and builds from.

/// VRRP protocol version on the wire.
public enum VRRPVersion: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// RFC 3768: IPv4 only, interval in whole seconds, optional simple-password authentication.
    case v2 = 2
    /// RFC 9568 (obsoletes RFC 5798): IPv4 and IPv6, interval in centiseconds, no authentication.
    case v3 = 3
    public var description: String { "v\(rawValue)" }
}

/// VRRPv2 authentication (RFC 3768 §5.3.6). v3 has none.
public enum Authentication: Hashable, Sendable {
    /// Auth Type 0.
    case none
    /// Auth Type 1: up to 8 bytes of password, sent in clear, zero padded (keepalived `auth_type PASS`).
    case simplePassword([UInt8])

    /// Builds a simple password from text, as keepalived does: at most 8 bytes, zero padded.
    public static func password(_ text: String) -> Authentication {
        var bytes = Array(text.utf8.prefix(8))
        bytes += Array(repeating: 0, count: 8 - bytes.count)
        return .simplePassword(bytes)
    }
}

/// One VRRP advertisement, independent of its encoding.
public struct Advertisement: Hashable, Sendable {
    public var version: VRRPVersion
    /// Virtual Router Identifier, 1...255 (RFC 9568 §5.2.3).
    public var vrid: UInt8
    /// Sender's priority: 255 = address owner, 1...254 backups, 0 = the Master is stopping (§5.2.4).
    public var priority: UInt8
    /// Max Advertise Interval (v3) or Adver Int (v2, whole seconds × 100).
    public var interval: AdvertInterval
    /// The virtual addresses, all of one family.
    public var addresses: [IPAddress]
    /// v2 only; always `.none` for v3.
    public var authentication: Authentication

    public init(version: VRRPVersion, vrid: UInt8, priority: UInt8, interval: AdvertInterval,
                addresses: [IPAddress], authentication: Authentication = .none) {
        self.version = version; self.vrid = vrid; self.priority = priority
        self.interval = interval; self.addresses = addresses; self.authentication = authentication
    }

    /// Family of the addresses carried (the family of the packet).
    public var family: AddressFamily? { addresses.first?.family }
}
