// Pure rtnetlink message building and parsing over byte buffers, using libmnl's helpers.
// No sockets here: RouteNetlink and LinkMonitor do the I/O.
import CLibmnl
import Glibc
import VRRP

/// Link flags from <linux/if.h> (not imported: it clashes with glibc's <net/if.h>).
enum LinkFlag {
    static let up: UInt32 = 0x1          // IFF_UP: administratively up
    static let lowerUp: UInt32 = 0x10000 // IFF_LOWER_UP: driver signals carrier
}

/// RFC 2863 operational states as rtnetlink reports them in IFLA_OPERSTATE.
enum OperState {
    static let up: UInt8 = 6       // IF_OPER_UP
}

/// A macvlan's forwarding mode (IFLA_MACVLAN_MODE).
public enum MacvlanMode: String, Hashable, Sendable, CaseIterable {
    /// No frames between sibling macvlans of the same parent (keepalived's use_vmac default).
    case `private`
    case vepa
    /// Sibling macvlans talk directly inside the host.
    case bridge
    case passthru

    var kernelValue: UInt32 {
        switch self {
        case .private: UInt32(MACVLAN_MODE_PRIVATE.rawValue)
        case .vepa: UInt32(MACVLAN_MODE_VEPA.rawValue)
        case .bridge: UInt32(MACVLAN_MODE_BRIDGE.rawValue)
        case .passthru: UInt32(MACVLAN_MODE_PASSTHRU.rawValue)
        }
    }
}

/// One network interface as rtnetlink describes it.
public struct LinkInfo: Hashable, Sendable {
    public var index: Int32
    public var name: String
    public var mac: [UInt8]
    /// IFF_UP: an administrator set it up.
    public var isAdminUp: Bool
    /// IFF_LOWER_UP, or operstate UP/UNKNOWN: the link can carry traffic.
    public var hasCarrier: Bool
    public var mtu: UInt32
    /// IFLA_INFO_KIND (`veth`, `macvlan`, `bridge`, ...), nil for plain devices.
    public var kind: String?
    /// IFLA_LINK: the parent's index for macvlan/vlan/veth, when reported.
    public var parentIndex: Int32?

    public init(index: Int32, name: String, mac: [UInt8], isAdminUp: Bool, hasCarrier: Bool, mtu: UInt32,
                kind: String? = nil, parentIndex: Int32? = nil) {
        self.index = index; self.name = name; self.mac = mac; self.isAdminUp = isAdminUp
        self.hasCarrier = hasCarrier; self.mtu = mtu; self.kind = kind; self.parentIndex = parentIndex
    }

    /// Up and with carrier: what VRRP needs to run on it.
    public var isOperational: Bool { isAdminUp && hasCarrier }
}

/// One address configured on an interface.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var interfaceIndex: Int32
    public var prefix: AddressPrefix
    /// IFA_F_SECONDARY: another address of the same subnet came first (IPv4), or a temporary (IPv6).
    public var isSecondary: Bool
    /// IFA_F_* flags (from IFA_FLAGS when present, else ifa_flags).
    public var flags: UInt32
    /// IFA_LABEL (IPv4 only), e.g. `eth0:vip`.
    public var label: String?

    public init(interfaceIndex: Int32, prefix: AddressPrefix, isSecondary: Bool = false, flags: UInt32 = 0,
                label: String? = nil) {
        self.interfaceIndex = interfaceIndex; self.prefix = prefix; self.isSecondary = isSecondary
        self.flags = flags; self.label = label
    }

    public var isTentative: Bool { flags & UInt32(IFA_F_TENTATIVE) != 0 }
    public var description: String { "\(prefix) on #\(interfaceIndex)" }
}

/// A parsed rtnetlink message the plane cares about.
enum RouteMessage: Hashable, Sendable {
    case newLink(LinkInfo)
    case deleteLink(LinkInfo)
    case newAddress(InterfaceAddress)
    case deleteAddress(InterfaceAddress)
    /// NLMSG_ERROR: errno (0 = ACK).
    case error(errno: Int32, sequence: UInt32)
    case done
    case other(type: UInt16)
}

enum NetlinkCodec {
    static let bufferSize = 8192

    // MARK: building

    /// Builds one message: header, then `body` adds the family header and attributes.
    static func message(type: UInt16, flags: Int32, sequence: UInt32,
                        _ body: (UnsafeMutablePointer<nlmsghdr>) -> Void) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        return buffer.withUnsafeMutableBytes { raw -> [UInt8] in
            let nlh = mnl_nlmsg_put_header(raw.baseAddress)!
            nlh.pointee.nlmsg_type = type
            nlh.pointee.nlmsg_flags = UInt16(flags)
            nlh.pointee.nlmsg_seq = sequence
            body(nlh)
            return Array(raw.prefix(Int(nlh.pointee.nlmsg_len)))
        }
    }

    static func putIfinfo(_ nlh: UnsafeMutablePointer<nlmsghdr>, family: Int32 = AF_UNSPEC, index: Int32 = 0,
                          flags: UInt32 = 0, change: UInt32 = 0) {
        let ifi = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size)!
            .assumingMemoryBound(to: ifinfomsg.self)
        ifi.pointee.ifi_family = UInt8(family)
        ifi.pointee.ifi_index = index
        ifi.pointee.ifi_flags = flags
        ifi.pointee.ifi_change = change
    }

    static func putBytes(_ nlh: UnsafeMutablePointer<nlmsghdr>, _ type: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { mnl_attr_put(nlh, UInt16(type), bytes.count, $0.baseAddress) }
    }

    static func linkDump(sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_GETLINK), flags: NLM_F_REQUEST | NLM_F_DUMP, sequence: sequence) {
            putIfinfo($0)
        }
    }

    static func getLink(sequence: UInt32, index: Int32 = 0, name: String? = nil) -> [UInt8] {
        message(type: UInt16(RTM_GETLINK), flags: NLM_F_REQUEST, sequence: sequence) { nlh in
            putIfinfo(nlh, index: index)
            if let name { mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name) }
        }
    }

    static func addressDump(sequence: UInt32, family: Int32 = AF_UNSPEC) -> [UInt8] {
        message(type: UInt16(RTM_GETADDR), flags: NLM_F_REQUEST | NLM_F_DUMP, sequence: sequence) { nlh in
            let ifa = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size)!
                .assumingMemoryBound(to: ifaddrmsg.self)
            ifa.pointee.ifa_family = UInt8(family)
        }
    }

    /// RTM_NEWADDR / RTM_DELADDR for one prefix. IPv6 additions carry IFA_F_NODAD so the VIP is usable
    /// at once (duplicate detection would hold it tentative for ~1 s while the old Master still has it).
    static func address(add: Bool, prefix: AddressPrefix, interfaceIndex: Int32, label: String?,
                        sequence: UInt32) -> [UInt8] {
        let flags = add ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_REQUEST | NLM_F_ACK
        return message(type: UInt16(add ? RTM_NEWADDR : RTM_DELADDR), flags: flags, sequence: sequence) { nlh in
            let ifa = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size)!
                .assumingMemoryBound(to: ifaddrmsg.self)
            ifa.pointee.ifa_family = UInt8(prefix.family == .ipv4 ? AF_INET : AF_INET6)
            ifa.pointee.ifa_prefixlen = prefix.prefixLength
            ifa.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
            ifa.pointee.ifa_index = UInt32(bitPattern: interfaceIndex)
            let bytes = prefix.address.bytes
            putBytes(nlh, Int32(IFA_LOCAL), bytes)
            putBytes(nlh, Int32(IFA_ADDRESS), bytes)
            if prefix.family == .ipv6 && add {
                ifa.pointee.ifa_flags = UInt8(IFA_F_NODAD)
                mnl_attr_put_u32(nlh, UInt16(IFA_FLAGS), UInt32(IFA_F_NODAD))
            }
            if let label, prefix.family == .ipv4 { mnl_attr_put_strz(nlh, UInt16(IFA_LABEL), label) }
        }
    }

    /// RTM_NEWROUTE / RTM_DELROUTE for a host route of type local in table local (the kernel
    /// accepts packets for `address` without the address being configured). `protocol` and
    /// `metric` tell it apart from the local route the kernel keeps for a configured address: that
    /// one is removed with the address, matching on protocol kernel, and ours stays.
    static func localRoute(add: Bool, address: IPAddress, interfaceIndex: Int32, protocol proto: UInt8, metric: UInt32,
                           sequence: UInt32) -> [UInt8] {
        let flags = add ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_REQUEST | NLM_F_ACK
        return message(type: UInt16(add ? RTM_NEWROUTE : RTM_DELROUTE), flags: flags, sequence: sequence) { nlh in
            let rtm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<rtmsg>.size)!
                .assumingMemoryBound(to: rtmsg.self)
            let bytes = address.bytes
            rtm.pointee.rtm_family = UInt8(address.family == .ipv4 ? AF_INET : AF_INET6)
            rtm.pointee.rtm_dst_len = UInt8(bytes.count * 8)
            rtm.pointee.rtm_table = UInt8(RT_TABLE_LOCAL.rawValue)
            rtm.pointee.rtm_protocol = proto
            rtm.pointee.rtm_scope = UInt8(RT_SCOPE_HOST.rawValue)
            rtm.pointee.rtm_type = UInt8(RTN_LOCAL)
            putBytes(nlh, Int32(RTA_DST.rawValue), bytes)
            mnl_attr_put_u32(nlh, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: interfaceIndex))
            mnl_attr_put_u32(nlh, UInt16(RTA_PRIORITY.rawValue), metric)
        }
    }

    static func newMacvlan(name: String, parentIndex: Int32, mac: [UInt8], mode: MacvlanMode,
                           sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                sequence: sequence) { nlh in
            putIfinfo(nlh)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name)
            mnl_attr_put_u32(nlh, UInt16(IFLA_LINK), UInt32(bitPattern: parentIndex))
            putBytes(nlh, Int32(IFLA_ADDRESS), mac)
            let info = mnl_attr_nest_start(nlh, UInt16(IFLA_LINKINFO))
            mnl_attr_put_strz(nlh, UInt16(IFLA_INFO_KIND), "macvlan")
            let data = mnl_attr_nest_start(nlh, UInt16(IFLA_INFO_DATA))
            mnl_attr_put_u32(nlh, UInt16(IFLA_MACVLAN_MODE), mode.kernelValue)
            mnl_attr_nest_end(nlh, data)
            mnl_attr_nest_end(nlh, info)
        }
    }

    /// Turns off automatic IPv6 link-local generation (IFLA_INET6_ADDR_GEN_MODE none). For a VMAC the
    /// address would derive from the virtual MAC and be identical on every router of the VRID, failing
    /// DAD (keepalived sets addrgenmode none too). The kernel refuses IFLA_AF_SPEC in the create
    /// request (EAFNOSUPPORT), so this is a separate RTM_NEWLINK, sent before the link goes up.
    static func disableAddressGeneration(index: Int32, sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST | NLM_F_ACK, sequence: sequence) { nlh in
            putIfinfo(nlh, index: index)
            let afSpec = mnl_attr_nest_start(nlh, UInt16(IFLA_AF_SPEC))
            let inet6 = mnl_attr_nest_start(nlh, UInt16(AF_INET6))
            mnl_attr_put_u8(nlh, UInt16(IFLA_INET6_ADDR_GEN_MODE), UInt8(IN6_ADDR_GEN_MODE_NONE.rawValue))
            mnl_attr_nest_end(nlh, inet6)
            mnl_attr_nest_end(nlh, afSpec)
        }
    }

    static func deleteLink(index: Int32, sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_DELLINK), flags: NLM_F_REQUEST | NLM_F_ACK, sequence: sequence) {
            putIfinfo($0, index: index)
        }
    }

    static func setLink(index: Int32, up: Bool, sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST | NLM_F_ACK, sequence: sequence) {
            putIfinfo($0, index: index, flags: up ? LinkFlag.up : 0, change: LinkFlag.up)
        }
    }

    // MARK: parsing

    /// Splits a datagram into messages (mnl_nlmsg_ok/next), copying each.
    static func split(_ datagram: UnsafeRawBufferPointer) -> [[UInt8]] {
        guard let base = datagram.baseAddress else { return [] }
        var out: [[UInt8]] = []
        var nlh: UnsafePointer<nlmsghdr>? = base.assumingMemoryBound(to: nlmsghdr.self)
        var remaining = Int32(datagram.count)
        while let current = nlh, mnl_nlmsg_ok(current, remaining) {
            out.append(Array(UnsafeRawBufferPointer(start: current, count: Int(current.pointee.nlmsg_len))))
            nlh = UnsafePointer(mnl_nlmsg_next(current, &remaining))
        }
        return out
    }

    /// Walks the attributes after a family header of `headerSize` bytes.
    static func forEachAttribute(_ nlh: UnsafePointer<nlmsghdr>, headerSize: Int,
                                 _ body: (UnsafePointer<nlattr>) -> Void) {
        guard Int(nlh.pointee.nlmsg_len) >= Int(mnl_nlmsg_size(0)) + headerSize else { return }
        var attr = mnl_nlmsg_get_payload_offset(nlh, headerSize)!.assumingMemoryBound(to: nlattr.self)
        let tail = mnl_nlmsg_get_payload_tail(nlh)!
        while mnl_attr_ok(attr, Int32(tail - UnsafeMutableRawPointer(attr))) {
            body(attr)
            attr = mnl_attr_next(attr)!
        }
    }

    /// Walks the attributes nested inside `parent`.
    static func forEachNested(_ parent: UnsafePointer<nlattr>, _ body: (UnsafePointer<nlattr>) -> Void) {
        let start = mnl_attr_get_payload(parent)!
        let length = Int(mnl_attr_get_payload_len(parent))
        var attr = start.assumingMemoryBound(to: nlattr.self)
        while mnl_attr_ok(attr, Int32(start + length - UnsafeMutableRawPointer(attr))) {
            body(attr)
            attr = mnl_attr_next(attr)!
        }
    }

    static func payloadBytes(_ attr: UnsafePointer<nlattr>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: mnl_attr_get_payload(attr), count: Int(mnl_attr_get_payload_len(attr))))
    }

    static func string(_ attr: UnsafePointer<nlattr>) -> String {
        let bytes = payloadBytes(attr).prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func u32(_ attr: UnsafePointer<nlattr>) -> UInt32? {
        mnl_attr_get_payload_len(attr) >= 4 ? mnl_attr_get_u32(attr) : nil
    }

    /// Parses one message (as split out by `split`).
    static func parse(_ message: [UInt8]) -> RouteMessage {
        message.withUnsafeBytes { raw -> RouteMessage in
            guard raw.count >= MemoryLayout<nlmsghdr>.size else { return .other(type: 0) }
            let nlh = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)
            let type = nlh.pointee.nlmsg_type
            switch Int32(type) {
            case NLMSG_ERROR:
                guard Int(nlh.pointee.nlmsg_len) >= Int(mnl_nlmsg_size(0)) + MemoryLayout<nlmsgerr>.size else {
                    return .error(errno: EBADMSG, sequence: nlh.pointee.nlmsg_seq)
                }
                let err = mnl_nlmsg_get_payload(nlh)!.assumingMemoryBound(to: nlmsgerr.self)
                return .error(errno: -err.pointee.error, sequence: nlh.pointee.nlmsg_seq)
            case NLMSG_DONE:
                return .done
            case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
                // AF_BRIDGE link messages describe bridge *ports* (a port leaving sends RTM_DELLINK
                // while the interface lives on); only AF_UNSPEC ones describe interfaces.
                guard isInterfaceFamily(nlh), let link = parseLink(nlh) else { return .other(type: type) }
                return Int32(type) == Int32(RTM_NEWLINK) ? .newLink(link) : .deleteLink(link)
            case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
                guard let address = parseAddress(nlh) else { return .other(type: type) }
                return Int32(type) == Int32(RTM_NEWADDR) ? .newAddress(address) : .deleteAddress(address)
            default:
                return .other(type: type)
            }
        }
    }

    static func isInterfaceFamily(_ nlh: UnsafePointer<nlmsghdr>) -> Bool {
        guard Int(nlh.pointee.nlmsg_len) >= Int(mnl_nlmsg_size(0)) + MemoryLayout<ifinfomsg>.size else { return false }
        return Int32(mnl_nlmsg_get_payload(nlh)!.assumingMemoryBound(to: ifinfomsg.self).pointee.ifi_family) != AF_BRIDGE
    }

    static func parseLink(_ nlh: UnsafePointer<nlmsghdr>) -> LinkInfo? {
        guard Int(nlh.pointee.nlmsg_len) >= Int(mnl_nlmsg_size(0)) + MemoryLayout<ifinfomsg>.size else { return nil }
        let ifi = mnl_nlmsg_get_payload(nlh)!.assumingMemoryBound(to: ifinfomsg.self).pointee
        var name = "", mac: [UInt8] = [], mtu: UInt32 = 0, kind: String?, parent: Int32?
        var operState: UInt8?
        forEachAttribute(nlh, headerSize: MemoryLayout<ifinfomsg>.size) { attr in
            switch Int32(mnl_attr_get_type(attr)) {
            case Int32(IFLA_IFNAME): name = string(attr)
            case Int32(IFLA_ADDRESS): mac = payloadBytes(attr)
            case Int32(IFLA_MTU): mtu = u32(attr) ?? 0
            case Int32(IFLA_LINK): parent = u32(attr).map { Int32(bitPattern: $0) }
            case Int32(IFLA_OPERSTATE): operState = payloadBytes(attr).first
            case Int32(IFLA_LINKINFO):
                forEachNested(attr) { inner in
                    if Int32(mnl_attr_get_type(inner)) == Int32(IFLA_INFO_KIND) { kind = string(inner) }
                }
            default: break
            }
        }
        let lowerUp = ifi.ifi_flags & LinkFlag.lowerUp != 0
        // IFF_LOWER_UP is the driver's carrier; operstate UP covers stacked devices that report only that.
        let carrier = lowerUp || operState == OperState.up
        return LinkInfo(index: ifi.ifi_index, name: name, mac: mac, isAdminUp: ifi.ifi_flags & LinkFlag.up != 0,
                        hasCarrier: carrier, mtu: mtu, kind: kind,
                        parentIndex: parent.flatMap { $0 == ifi.ifi_index || $0 == 0 ? nil : $0 })
    }

    static func parseAddress(_ nlh: UnsafePointer<nlmsghdr>) -> InterfaceAddress? {
        guard Int(nlh.pointee.nlmsg_len) >= Int(mnl_nlmsg_size(0)) + MemoryLayout<ifaddrmsg>.size else { return nil }
        let ifa = mnl_nlmsg_get_payload(nlh)!.assumingMemoryBound(to: ifaddrmsg.self).pointee
        var local: [UInt8]?, address: [UInt8]?, label: String?, flags = UInt32(ifa.ifa_flags)
        forEachAttribute(nlh, headerSize: MemoryLayout<ifaddrmsg>.size) { attr in
            switch Int32(mnl_attr_get_type(attr)) {
            case Int32(IFA_LOCAL): local = payloadBytes(attr)
            case Int32(IFA_ADDRESS): address = payloadBytes(attr)
            case Int32(IFA_LABEL): label = string(attr)
            case Int32(IFA_FLAGS): if let f = u32(attr) { flags = f }
            default: break
            }
        }
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
        guard let bytes = local ?? address else { return nil }
        let ip: IPAddress
        switch Int32(ifa.ifa_family) {
        case AF_INET: guard let a = IPv4Address(bytes: bytes) else { return nil }; ip = .v4(a)
        case AF_INET6: guard let a = IPv6Address(bytes: bytes) else { return nil }; ip = .v6(a)
        default: return nil
        }
        return InterfaceAddress(interfaceIndex: Int32(bitPattern: ifa.ifa_index),
                                prefix: AddressPrefix(address: ip, prefixLength: ifa.ifa_prefixlen),
                                isSecondary: flags & UInt32(IFA_F_SECONDARY) != 0, flags: flags, label: label)
    }
}
