import CLibmnl
import Glibc
import Testing
@testable import VIPDLinux
import VIPDSystem
import VRRP

@Suite struct NetlinkCodecTests {
    @Test(arguments: [("192.0.2.100/24", "eth0:vip" as String?), ("2001:db8::100/64", nil)])
    func addressMessageRoundTrip(prefixText: String, label: String?) throws {
        let prefix = try #require(AddressPrefix(prefixText))
        let message = NetlinkCodec.address(add: true, prefix: prefix, interfaceIndex: 7, label: label, sequence: 42)
        guard case .newAddress(let parsed) = NetlinkCodec.parse(message) else {
            Issue.record("not parsed as RTM_NEWADDR"); return
        }
        #expect(parsed.prefix == prefix)
        #expect(parsed.interfaceIndex == 7)
        #expect(parsed.label == label)
        // IPv6 VIPs carry IFA_F_NODAD so they are usable at once.
        #expect((parsed.flags & UInt32(IFA_F_NODAD) != 0) == (prefix.family == .ipv6))
        #expect(NetlinkCodec.split(message.withUnsafeBytes { $0 }).count == 1)
    }

    @Test func deleteAddressHasNoCreateFlags() throws {
        let prefix = try #require(AddressPrefix("198.51.100.9/32"))
        let message = NetlinkCodec.address(add: false, prefix: prefix, interfaceIndex: 3, label: nil, sequence: 1)
        guard case .deleteAddress(let parsed) = NetlinkCodec.parse(message) else { Issue.record("not RTM_DELADDR"); return }
        #expect(parsed.prefix == prefix)
        let flags = message.withUnsafeBytes { $0.load(fromByteOffset: 6, as: UInt16.self) }
        #expect(Int32(flags) & NLM_F_CREATE == 0)
        #expect(Int32(flags) & NLM_F_ACK != 0)
    }

    /// vipd's local route (routed VIPs' second release phase): a host route of type local in table
    /// local, with our protocol and metric, so that the kernel's removal of an address's own local
    /// route (protocol kernel) leaves it. Deleting carries the same keys and no create flags.
    @Test(arguments: ["203.0.113.10/32", "2001:db8:1::10/128"])
    func localRouteMessage(prefixText: String) throws {
        let address = try #require(AddressPrefix(prefixText)).address
        for add in [true, false] {
            let message = NetlinkCodec.localRoute(add: add, address: address, interfaceIndex: 5, protocol: 98, metric: 98, sequence: 9)
            message.withUnsafeBytes { raw in
                #expect(raw.load(fromByteOffset: 4, as: UInt16.self) == UInt16(add ? RTM_NEWROUTE : RTM_DELROUTE))
                let flags = Int32(raw.load(fromByteOffset: 6, as: UInt16.self))
                #expect((flags & NLM_F_CREATE != 0) == add && flags & NLM_F_ACK != 0)
                let header = MemoryLayout<nlmsghdr>.size
                let rtm = raw.load(fromByteOffset: header, as: rtmsg.self)
                #expect(Int32(rtm.rtm_family) == (address.family == .ipv4 ? AF_INET : AF_INET6))
                #expect(Int(rtm.rtm_dst_len) == address.bytes.count * 8)
                #expect(UInt32(rtm.rtm_table) == RT_TABLE_LOCAL.rawValue && rtm.rtm_protocol == 98)
                #expect(UInt32(rtm.rtm_scope) == RT_SCOPE_HOST.rawValue && Int(rtm.rtm_type) == Int(RTN_LOCAL))
            }
            #expect(message.count > MemoryLayout<nlmsghdr>.size + MemoryLayout<rtmsg>.size + address.bytes.count)
        }
    }

    @Test func macvlanMessageRoundTrip() {
        let mac = VirtualMAC.address(vrid: 51, family: .ipv4)
        let message = NetlinkCodec.newMacvlan(name: "vrrp.51", parentIndex: 4, mac: mac, mode: .private, sequence: 9)
        guard case .newLink(let link) = NetlinkCodec.parse(message) else { Issue.record("not RTM_NEWLINK"); return }
        #expect(link.name == "vrrp.51")
        #expect(link.mac == mac)
        #expect(link.kind == "macvlan")
        #expect(link.parentIndex == 4)
    }

    @Test func bridgePortMessagesAreNotInterfaceChanges() {
        let message = NetlinkCodec.message(type: UInt16(RTM_DELLINK), flags: 0, sequence: 0) {
            NetlinkCodec.putIfinfo($0, family: AF_BRIDGE, index: 4)
        }
        #expect(NetlinkCodec.parse(message) == .other(type: UInt16(RTM_DELLINK)))
        let plain = NetlinkCodec.message(type: UInt16(RTM_DELLINK), flags: 0, sequence: 0) { NetlinkCodec.putIfinfo($0, index: 4) }
        guard case .deleteLink(let link) = NetlinkCodec.parse(plain) else { Issue.record("not RTM_DELLINK"); return }
        #expect(link.index == 4)
    }

    @Test func setLinkCarriesUpFlagAndChangeMask() {
        let message = NetlinkCodec.setLink(index: 5, up: true, sequence: 3)
        guard case .newLink(let link) = NetlinkCodec.parse(message) else { Issue.record("not RTM_NEWLINK"); return }
        #expect(link.index == 5)
        #expect(link.isAdminUp)
    }

    @Test func errorMessagesCarryErrno() {
        // NLMSG_ERROR with error = -EEXIST, as the kernel answers a duplicate RTM_NEWADDR.
        let message = NetlinkCodec.message(type: UInt16(NLMSG_ERROR), flags: 0, sequence: 77) { nlh in
            let err = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<nlmsgerr>.size)!.assumingMemoryBound(to: nlmsgerr.self)
            err.pointee.error = -EEXIST
        }
        #expect(NetlinkCodec.parse(message) == .error(errno: EEXIST, sequence: 77))
    }

    @Test func splitsConcatenatedMessages() {
        let a = NetlinkCodec.linkDump(sequence: 1), b = NetlinkCodec.getLink(sequence: 2, name: "eth0")
        let both = a + b
        let parts = both.withUnsafeBytes { NetlinkCodec.split($0) }
        #expect(parts == [a, b])
    }

    @Test func errnoMapping() {
        #expect(NetlinkError.from(errno: EPERM, operation: "x") == .permissionDenied(operation: "x", capability: .netAdmin))
        #expect(NetlinkError.from(errno: EINVAL, operation: "x") == .kernel(operation: "x", errno: EINVAL))
        #expect(NetlinkError.permissionDenied(operation: "add address", capability: .netAdmin).description.contains("needs CAP_NET_ADMIN"))
    }
}

/// The receive path parses IPv4 headers with the core's `VRRPCodec.decodeIPv4Header` (the only
/// IPv4 header parser); these are the cases VRRPSocket relies on.
@Suite struct IPv4HeaderTests {
    @Test func parsesTTLAndAddresses() throws {
        var packet: [UInt8] = [0x45, 0, 0, 28, 0, 0, 0, 0, 7, 112, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18]
        packet += [0x21, 1, 100, 1, 0, 1, 0, 0]
        let h = try VRRPCodec.decodeIPv4Header(packet[...])
        #expect(h.ttl == 7)
        #expect(h.source == IPv4Address(192, 0, 2, 1))
        #expect(h.destination == .vrrpMulticast)
        #expect(Array(packet[h.headerLength...]) == [0x21, 1, 100, 1, 0, 1, 0, 0])
    }

    @Test(arguments: [[UInt8](repeating: 0x45, count: 10), [0x65] + [UInt8](repeating: 0, count: 19),
                      [0x44] + [UInt8](repeating: 0, count: 19),
                      // protocol 6 (TCP), not 112
                      [0x45, 0, 0, 20, 0, 0, 0, 0, 255, 6, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18]])
    func rejectsMalformed(_ packet: [UInt8]) {
        #expect(throws: ParseError.self) { try VRRPCodec.decodeIPv4Header(packet[...]) }
    }
}

@Suite struct MonitorDiffTests {
    static func link(_ i: Int32, up: Bool = true, carrier: Bool = true) -> LinkInfo {
        LinkInfo(index: i, name: "if\(i)", mac: [2, 0, 0, 0, 0, UInt8(i)], isAdminUp: up, hasCarrier: carrier, mtu: 1500)
    }

    @Test func diffReportsOnlyChanges() {
        let old: [Int32: LinkInfo] = [1: Self.link(1), 2: Self.link(2), 3: Self.link(3)]
        let new: [Int32: LinkInfo] = [1: Self.link(1), 2: Self.link(2, carrier: false), 4: Self.link(4)]
        #expect(LinkMonitor.diff(oldLinks: old, newLinks: new) ==
                [.linkRemoved(index: 3, name: "if3"), .linkChanged(Self.link(2, carrier: false)), .linkAppeared(Self.link(4))])
        #expect(LinkMonitor.diff(oldLinks: old, newLinks: old).isEmpty)
    }
}

@Suite struct VirtualMACSettingsTests {
    /// keepalived 2.2.7's settings, plus arp_announce=2 on the parent (vipd's addition: see Sysctl.swift).
    @Test func ipv4SettingsMatchKeepalivedPlusArpAnnounce() {
        let keys = VirtualMAC.sysctlSettings(parent: "eth0", vmac: "vrrp.51", family: .ipv4).map { "\($0.key)=\($0.value)" }
        #expect(keys == ["net.ipv4.conf.eth0.arp_ignore=1", "net.ipv4.conf.eth0.arp_filter=1",
                         "net.ipv4.conf.eth0.arp_announce=2",
                         "net.ipv4.conf.vrrp.51.arp_ignore=1", "net.ipv4.conf.vrrp.51.accept_local=1",
                         "net.ipv4.conf.vrrp.51.rp_filter=0", "net.ipv6.conf.vrrp.51.disable_ipv6=1"])
        #expect(Sysctl.path(["net", "ipv4", "conf", "vrrp.51", "rp_filter"]) == "/proc/sys/net/ipv4/conf/vrrp.51/rp_filter")
    }

    /// keepalived's clear_rp_filter: all's value moves to default and to every interface below it,
    /// then all becomes 0; nothing when all is 0 or unreadable.
    @Test func strictAllReversePathFilterMovesOntoTheInterfaces() {
        let keys = VirtualMAC.reversePathSettings(all: 1, defaultValue: 0,
                                                  interfaces: ["lo": 0, "eth1": 2, "eth0": 1, "vrrp.51": 0])
            .map { "\($0.key)=\($0.value)" }
        #expect(keys == ["net.ipv4.conf.default.rp_filter=1", "net.ipv4.conf.lo.rp_filter=1",
                         "net.ipv4.conf.vrrp.51.rp_filter=1", "net.ipv4.conf.all.rp_filter=0"])
        // Loose (2) everywhere: interfaces in strict mode are raised to loose, as the kernel
        // already treated them (the larger value wins).
        let loose = VirtualMAC.reversePathSettings(all: 2, defaultValue: 2, interfaces: ["eth0": 1])
            .map { "\($0.key)=\($0.value)" }
        #expect(loose == ["net.ipv4.conf.eth0.rp_filter=2", "net.ipv4.conf.all.rp_filter=0"])
        #expect(VirtualMAC.reversePathSettings(all: 0, defaultValue: 1, interfaces: ["eth0": 0]).isEmpty)
        #expect(VirtualMAC.reversePathSettings(all: nil, defaultValue: 1, interfaces: ["eth0": 0]).isEmpty)
    }
}
