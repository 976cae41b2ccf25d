// Whether a unicast instance checks that its peers' advertisements arrive with TTL / Hop Limit 255.
//
// RFC 9568 §7.1 requires 255 so that only on-link routers can speak VRRP; unicast mode was left
// unchecked (as keepalived does) because peers may be routed. Unchecked, anyone who can route
// protocol 112 to the node with a peer's source address can force a Backup. So: on by default
// when every peer is on a connected subnet, where 255 is what an honest peer's packet arrives with.

import VRRP

public enum UnicastTTLCheck {
    /// `configured` is `unicast.ttl_check` (nil when not set). Not set: on when every peer is
    /// connected — inside the subnet of an address on the instance's interface, or an IPv6
    /// link-local address (on-link by definition).
    public static func enabled(configured: Bool?, peers: [IPAddress], interfaceAddresses: [AddressPrefix]) -> Bool {
        if let configured { return configured }
        return !peers.isEmpty && peers.allSatisfy { isConnected($0, interfaceAddresses: interfaceAddresses) }
    }

    public static func isConnected(_ peer: IPAddress, interfaceAddresses: [AddressPrefix]) -> Bool {
        if case .v6(let address) = peer, address.isLinkLocal { return true }
        return interfaceAddresses.contains { $0.contains(peer) }
    }
}

extension AddressPrefix {
    /// True when `address` is inside this prefix's subnet (same family, same leading
    /// `prefixLength` bits). A /32 (IPv4) or /128 (IPv6) contains only itself.
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4(let net), .v4(let host)):
            let length = min(Int(prefixLength), 32)
            guard length > 0 else { return true }
            let mask = UInt32.max << (32 - length)
            return net.value & mask == host.value & mask
        case (.v6(let net), .v6(let host)):
            let length = min(Int(prefixLength), 128)
            let highBits = min(length, 64), lowBits = length - highBits
            func mask(_ bits: Int) -> UInt64 { bits == 0 ? 0 : UInt64.max << (64 - bits) }
            return net.high & mask(highBits) == host.high & mask(highBits)
                && net.low & mask(lowBits) == host.low & mask(lowBits)
        default:
            return false
        }
    }
}
