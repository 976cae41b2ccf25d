import Testing
import VRRP

@Suite struct AddressTests {
    @Test(arguments: ["192.0.2.1", "0.0.0.0", "255.255.255.255", "203.0.113.254"])
    func ipv4RoundTrip(_ text: String) {
        #expect(IPv4Address(text)?.description == text)
    }

    @Test(arguments: ["192.0.2", "192.0.2.1.5", "256.0.0.1", "01.2.3.4", "a.b.c.d", "", "1..2.3", " 1.2.3.4"])
    func ipv4Rejects(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"), ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"),
        ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("ff02::12", "ff02::12"), ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"),
    ])
    func ipv6Canonical(_ pair: (String, String)) {
        #expect(IPv6Address(pair.0)?.description == pair.1)
    }

    @Test(arguments: ["2001:db8:::1", "1:2:3:4:5:6:7:8:9", "2001:db8::1::2", "12345::", "g::1", ":1", "1:", "1:2:3:4:5:6:7"])
    func ipv6Rejects(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func ordering() {
        #expect(IPAddress("192.0.2.2")! > IPAddress("192.0.2.1")!)
        #expect(IPAddress("192.0.2.1")! < IPAddress("2001:db8::1")!)
        #expect(IPAddress("2001:db8::2")! > IPAddress("2001:db8::1")!)
        #expect(IPv6Address("fe80::1")!.isLinkLocal)
        #expect(!IPv6Address("2001:db8::1")!.isLinkLocal)
    }

    @Test func prefixes() {
        #expect(AddressPrefix("192.0.2.100/24")?.prefixLength == 24)
        #expect(AddressPrefix("192.0.2.100")?.prefixLength == 32)
        #expect(AddressPrefix("2001:db8::100/64")?.description == "2001:db8::100/64")
        #expect(AddressPrefix("192.0.2.100/33") == nil)
        #expect(AddressPrefix("192.0.2.100/") == nil)
        #expect(AddressPrefix("2001:db8::1/129") == nil)
    }

    @Test func timerExtremes() {
        // RFC 9568 §6.1 at both ends of priority and interval.
        let i100 = AdvertInterval(centiseconds: 10)
        #expect(ProtocolTimers.skewTimeMicroseconds(priority: 100, masterAdvertInterval: i100, version: .v3) == 60_937)
        #expect(ProtocolTimers.masterDownIntervalMicroseconds(priority: 100, masterAdvertInterval: i100, version: .v3) == 360_937)
        #expect(ProtocolTimers.skewTimeMicroseconds(priority: 254, masterAdvertInterval: .init(centiseconds: 1), version: .v3) == 78)
        #expect(ProtocolTimers.skewTimeMicroseconds(priority: 1, masterAdvertInterval: .maximumV3, version: .v3) == 40_790_039)
        #expect(ProtocolTimers.masterDownIntervalMicroseconds(priority: 1, masterAdvertInterval: .maximumV3, version: .v3) == 163_640_039)
        // RFC 3768 §6.1: v2 skew is (256 − priority)/256 s whatever the interval.
        #expect(ProtocolTimers.skewTimeMicroseconds(priority: 100, masterAdvertInterval: .init(seconds: 3), version: .v2) == 609_375)
    }
}
