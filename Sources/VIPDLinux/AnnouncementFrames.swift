// Pure builders of the frames a new Master sends so neighbours update their caches: gratuitous ARP
// (IPv4) and unsolicited Neighbor Advertisement (IPv6). Byte layouts follow what keepalived 2.2.7
// sends (captured in a namespace lab; see docs/linux-plane.md).
import VRRP

public enum AnnouncementFrame {
    /// Ethernet broadcast, the destination of gratuitous ARP (RFC 5227 §3).
    public static let broadcastMAC: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    /// 33:33:00:00:00:01: Ethernet mapping of ff02::1 (RFC 2464 §7).
    public static let allNodesMAC: [UInt8] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01]

    static let etherTypeARP: UInt16 = 0x0806
    static let etherTypeIPv6: UInt16 = 0x86dd
    static let arpHardwareEthernet: UInt16 = 1   // RFC 826 hrd
    static let arpProtocolIPv4: UInt16 = 0x0800  // RFC 826 pro
    static let arpRequest: UInt16 = 1            // RFC 826 op
    /// ICMPv6 Neighbor Advertisement (RFC 4861 §4.4).
    static let icmpv6NeighborAdvertisement: UInt8 = 136
    /// Next Header value of ICMPv6 (RFC 8200 / IANA).
    static let nextHeaderICMPv6: UInt8 = 58
    /// ND messages must carry hop limit 255 (RFC 4861 §7.1.2).
    static let ndHopLimit: UInt8 = 255
    /// Target Link-Layer Address option type (RFC 4861 §4.6.1).
    static let optionTargetLinkLayerAddress: UInt8 = 2
    /// NA flags (RFC 4861 §4.4): Router, Solicited, Override in the top bits of the first word.
    static let flagRouter: UInt8 = 0x80
    static let flagOverride: UInt8 = 0x20

    /// Gratuitous ARP for `address`: an ARP *request* broadcast with sender and target protocol
    /// address both the VIP and target hardware address ff:ff:ff:ff:ff:ff — exactly keepalived's form.
    /// RFC 5227 §3 allows request or reply ("ARP Announcement" uses a request); Linux neighbours
    /// update an existing entry from either, and a request is what keepalived sends.
    public static func gratuitousARP(senderMAC: [UInt8], address: IPv4Address) -> [UInt8] {
        precondition(senderMAC.count == 6, "Ethernet MAC is 6 bytes")
        var frame = broadcastMAC + senderMAC
        frame.append16(etherTypeARP)
        frame.append16(arpHardwareEthernet)
        frame.append16(arpProtocolIPv4)
        frame.append(6)                         // hardware address length
        frame.append(4)                         // protocol address length
        frame.append16(arpRequest)
        frame += senderMAC + address.bytes      // sender
        frame += broadcastMAC + address.bytes   // target
        return frame
    }

    /// Unsolicited Neighbor Advertisement for `target` (RFC 4861 §7.2.6): to ff02::1, Override set,
    /// Solicited clear, Router when asked, with a Target Link-Layer Address option.
    /// The IPv6 source defaults to the target itself, as keepalived sends it.
    public static func unsolicitedNeighborAdvertisement(sourceMAC: [UInt8], target: IPv6Address,
                                                        source: IPv6Address? = nil,
                                                        isRouter: Bool = false) -> [UInt8] {
        precondition(sourceMAC.count == 6, "Ethernet MAC is 6 bytes")
        let src = source ?? target
        var icmp: [UInt8] = [icmpv6NeighborAdvertisement, 0, 0, 0]   // type, code, checksum
        icmp += [flagOverride | (isRouter ? flagRouter : 0), 0, 0, 0]
        icmp += target.bytes
        icmp += [optionTargetLinkLayerAddress, 1] + sourceMAC       // length in units of 8 bytes
        let checksum = icmpv6Checksum(source: src, destination: .allNodes, message: icmp)
        icmp[2] = UInt8(checksum >> 8); icmp[3] = UInt8(checksum & 0xff)

        var frame = allNodesMAC + sourceMAC
        frame.append16(etherTypeIPv6)
        frame += [0x60, 0, 0, 0]                 // version 6, traffic class 0, flow label 0
        frame.append16(UInt16(icmp.count))
        frame += [nextHeaderICMPv6, ndHopLimit]
        frame += src.bytes + IPv6Address.allNodes.bytes
        return frame + icmp
    }

    /// ICMPv6 checksum (RFC 4443 §2.3) over the IPv6 pseudo-header (RFC 8200 §8.1) and the message,
    /// whose checksum field must be zero.
    public static func icmpv6Checksum(source: IPv6Address, destination: IPv6Address, message: [UInt8]) -> UInt16 {
        var pseudo = source.bytes + destination.bytes
        let length = UInt32(message.count)
        pseudo += [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
        pseudo += [0, 0, 0, nextHeaderICMPv6]
        return internetChecksum(pseudo + message)
    }

    /// RFC 1071 ones'-complement sum.
    public static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

/// Virtual router MAC addresses (RFC 9568 §7.3).
public enum VirtualMAC {
    /// 00:00:5e:00:01:{VRID} for IPv4, 00:00:5e:00:02:{VRID} for IPv6.
    public static func address(vrid: UInt8, family: AddressFamily) -> [UInt8] {
        [0x00, 0x00, 0x5e, 0x00, family == .ipv4 ? 0x01 : 0x02, vrid]
    }
    /// keepalived's default VMAC interface name, `vrrp.<VRID>`, for both families (so an IPv4 and an
    /// IPv6 instance with the same VRID on one host need a configured name, as with keepalived).
    public static func defaultInterfaceName(vrid: UInt8) -> String { "vrrp.\(vrid)" }
}

extension Array where Element == UInt8 {
    mutating func append16(_ value: UInt16) {
        append(UInt8(value >> 8)); append(UInt8(value & 0xff))
    }
}
