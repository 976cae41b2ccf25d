import Testing
@testable import VIPDLinux
import VRRP

func bytes(hex: String) -> [UInt8] {
    let chars = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(chars[$0...$0 + 1]), radix: 16)! }
}

@Suite struct FrameTests {
    static let mac: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a]

    /// keepalived 2.2.7's gratuitous ARP for 192.0.2.100 from 02:00:00:00:00:0a, captured with
    /// `tcpdump -XX` in a namespace lab (docs/linux-plane.md).
    @Test func gratuitousARPMatchesKeepalivedCapture() {
        let captured = bytes(hex: """
            ffff ffff ffff 0200 0000 000a 0806 0001
            0800 0604 0001 0200 0000 000a c000 0264
            ffff ffff ffff c000 0264
            """)
        #expect(AnnouncementFrame.gratuitousARP(senderMAC: Self.mac, address: IPv4Address(192, 0, 2, 100)) == captured)
    }

    /// keepalived 2.2.7's unsolicited NA for 2001:db8::100; tshark decoded its checksum 0xf723 as correct.
    @Test func neighborAdvertisementMatchesKeepalivedCapture() {
        let captured = bytes(hex: """
            3333 0000 0001 0200 0000 000a 86dd 6000
            0000 0020 3aff 2001 0db8 0000 0000 0000
            0000 0000 0100 ff02 0000 0000 0000 0000
            0000 0000 0001 8800 f723 2000 0000 2001
            0db8 0000 0000 0000 0000 0000 0100 0201
            0200 0000 000a
            """)
        let frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(sourceMAC: Self.mac, target: IPv6Address("2001:db8::100")!)
        #expect(frame == captured)
    }

    /// Router flag set: the ICMPv6 word 0x2000 becomes 0xa000, so by RFC 1624 the checksum drops by
    /// 0x8000 (0xf723 → 0x7723). tshark (`-V` on this frame written as a pcap) also reports 0x7723 correct.
    @Test func neighborAdvertisementRouterFlag() {
        let frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(sourceMAC: Self.mac, target: IPv6Address("2001:db8::100")!,
                                                                        isRouter: true)
        #expect(frame[54] == 136)
        #expect(frame[58] == 0xa0)
        #expect(Array(frame[56...57]) == [0x77, 0x23])
    }

    @Test func neighborAdvertisementFromLinkLocalVerifies() {
        let source = IPv6Address("fe80::1")!
        let target = IPv6Address("2001:db8::7")!
        let frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(sourceMAC: Self.mac, target: target, source: source)
        #expect(Array(frame[22..<38]) == source.bytes)
        #expect(frame[21] == 255)
        // Summing over pseudo-header + message including the checksum yields 0 when it is right.
        #expect(AnnouncementFrame.icmpv6Checksum(source: source, destination: .allNodes, message: Array(frame[54...])) == 0)
    }

    @Test func internetChecksumOddLengthAndRFC1071Example() {
        // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2 → checksum 220d.
        #expect(AnnouncementFrame.internetChecksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == 0x220d)
        #expect(AnnouncementFrame.internetChecksum([0xff]) == 0x00ff)
    }

    @Test(arguments: [(UInt8(51), AddressFamily.ipv4, [UInt8]([0, 0, 0x5e, 0, 1, 51])),
                      (UInt8(255), AddressFamily.ipv6, [UInt8]([0, 0, 0x5e, 0, 2, 255]))])
    func virtualMAC(vrid: UInt8, family: AddressFamily, expected: [UInt8]) {
        #expect(VirtualMAC.address(vrid: vrid, family: family) == expected)
    }
}

@Suite struct AnnouncementPlanTests {
    @Test func keepalivedDefaults() {
        let plan = AnnouncementPlan.keepalivedDefaults
        #expect(plan.transitionOffsets == Array(repeating: .zero, count: 5) + Array(repeating: .seconds(5), count: 5))
        #expect(plan.refreshOffsets.isEmpty)
    }

    @Test func spacedBurstsAndRefresh() {
        let plan = AnnouncementPlan(count: 3, interval: .milliseconds(10), repeatAfter: .seconds(2),
                                    refresh: .seconds(60), refreshCount: 2)
        #expect(plan.transitionOffsets == [.zero, .milliseconds(10), .milliseconds(20),
                                           .seconds(2), .milliseconds(2010), .milliseconds(2020)])
        #expect(plan.refreshOffsets == [.zero, .milliseconds(10)])
        #expect(plan.refresh == .seconds(60))
    }

    @Test func zeroMeansOff() {
        let plan = AnnouncementPlan(count: 2, repeatAfter: .zero, refresh: .zero)
        #expect(plan.repeatAfter == nil)
        #expect(plan.refresh == nil)
        #expect(plan.transitionOffsets == [.zero, .zero])
    }
}
