import Testing
import VRRP
@testable import VRRPNode

@Suite("unicast.ttl_check: connected peers and the default")
struct UnicastTTLCheckTests {
    let lan = [AddressPrefix("192.0.2.2/24")!, AddressPrefix("fe80::2/64")!]

    @Test("not set: on when every peer is on a connected subnet")
    func automatic() {
        #expect(UnicastTTLCheck.enabled(configured: nil, peers: [IPAddress("192.0.2.3")!, IPAddress("192.0.2.254")!], interfaceAddresses: lan))
        // One routed peer: its packets cannot arrive with TTL 255, so the default stays off.
        #expect(!UnicastTTLCheck.enabled(configured: nil, peers: [IPAddress("192.0.2.3")!, IPAddress("198.51.100.3")!], interfaceAddresses: lan))
        // No address on the interface (yet): nothing is known to be connected.
        #expect(!UnicastTTLCheck.enabled(configured: nil, peers: [IPAddress("192.0.2.3")!], interfaceAddresses: []))
        // A /32 (cloud point-to-point style) connects nobody else.
        #expect(!UnicastTTLCheck.enabled(configured: nil, peers: [IPAddress("192.0.2.3")!], interfaceAddresses: [AddressPrefix("192.0.2.2/32")!]))
        #expect(!UnicastTTLCheck.enabled(configured: nil, peers: [], interfaceAddresses: lan))
    }

    @Test("set: the configured value wins either way")
    func configured() {
        #expect(UnicastTTLCheck.enabled(configured: true, peers: [IPAddress("198.51.100.3")!], interfaceAddresses: lan))
        #expect(!UnicastTTLCheck.enabled(configured: false, peers: [IPAddress("192.0.2.3")!], interfaceAddresses: lan))
    }

    @Test("IPv6: link-local peers are on-link by definition; global ones need a connected prefix")
    func ipv6() {
        #expect(UnicastTTLCheck.isConnected(IPAddress("fe80::99")!, interfaceAddresses: []))
        #expect(UnicastTTLCheck.isConnected(IPAddress("2001:db8:1::3")!, interfaceAddresses: [AddressPrefix("2001:db8:1::2/64")!]))
        #expect(!UnicastTTLCheck.isConnected(IPAddress("2001:db8:2::3")!, interfaceAddresses: [AddressPrefix("2001:db8:1::2/64")!]))
        #expect(!UnicastTTLCheck.isConnected(IPAddress("192.0.2.3")!, interfaceAddresses: [AddressPrefix("2001:db8:1::2/0")!]))
    }

    /// Bit-by-bit reference for prefix containment.
    func referenceContains(_ prefix: AddressPrefix, _ address: IPAddress) -> Bool {
        guard prefix.family == address.family else { return false }
        let a = prefix.address.bytes, b = address.bytes
        for bit in 0..<min(Int(prefix.prefixLength), a.count * 8) {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if a[bit / 8] & mask != b[bit / 8] & mask { return false }
        }
        return true
    }

    @Test("property: AddressPrefix.contains agrees with a bit-by-bit reference at every prefix length")
    func containsMatchesReference() {
        for i in 0..<3000 {
            let r1 = mixed(i, salt: 1), r2 = mixed(i, salt: 2), r3 = mixed(i, salt: 3)
            let flip = r3 % 130  // which bit to differ in (≥ 128: none)
            if i % 2 == 0 {
                let net = IPv4Address(UInt32(truncatingIfNeeded: r1))
                let length = UInt8(r2 % 33)
                var host = net.value
                if flip < 32 { host ^= UInt32(1) << UInt32(flip) } else { host ^= UInt32(truncatingIfNeeded: r2 >> 8) & (length >= 32 ? 0 : UInt32.max >> UInt32(length)) }
                let prefix = AddressPrefix(address: .v4(net), prefixLength: length)
                #expect(prefix.contains(.v4(IPv4Address(host))) == referenceContains(prefix, .v4(IPv4Address(host))), "\(prefix) \(IPv4Address(host))")
            } else {
                let net = IPv6Address(high: r1, low: r2)
                let length = UInt8(r3 % 129)
                var host = net
                if flip < 64 { host.low ^= 1 << flip } else if flip < 128 { host.high ^= 1 << (flip - 64) }
                let prefix = AddressPrefix(address: .v6(net), prefixLength: length)
                #expect(prefix.contains(.v6(host)) == referenceContains(prefix, .v6(host)), "\(prefix) \(host)")
            }
        }
    }

    @Test("edges: /0 holds every address of its family, a full-length prefix only itself")
    func edges() {
        #expect(AddressPrefix("0.0.0.0/0")!.contains(IPAddress("203.0.113.9")!))
        #expect(AddressPrefix("192.0.2.1/32")!.contains(IPAddress("192.0.2.1")!))
        #expect(!AddressPrefix("192.0.2.1/32")!.contains(IPAddress("192.0.2.0")!))
        #expect(AddressPrefix("2001:db8::1/128")!.contains(IPAddress("2001:db8::1")!))
        #expect(!AddressPrefix("2001:db8::1/128")!.contains(IPAddress("2001:db8::")!))
        #expect(!AddressPrefix("192.0.2.1/0")!.contains(IPAddress("2001:db8::1")!))
    }
}
