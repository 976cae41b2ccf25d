// Raw IP sockets for VRRP (IP protocol 112), one per interface and family, shared by every virtual
// router on that interface; the daemon demultiplexes by VRID.
import CVIPDShim
import Glibc
import VRRP

/// A VRRP packet as it arrived.
public struct ReceivedPacket: Hashable, Sendable {
    /// The VRRP message (IPv4 header stripped).
    public var payload: [UInt8]
    public var source: IPAddress
    public var destination: IPAddress
    /// IPv4 TTL / IPv6 Hop Limit; RFC 9568 §7.1 requires 255 (multicast mode).
    public var hopLimit: UInt8?
    public var interfaceIndex: Int32
    /// The source is one of the addresses the owner declared its own (`localAddresses`).
    public var isFromSelf: Bool

    public init(payload: [UInt8], source: IPAddress, destination: IPAddress, hopLimit: UInt8?,
                interfaceIndex: Int32, isFromSelf: Bool = false) {
        self.payload = payload; self.source = source; self.destination = destination
        self.hopLimit = hopLimit; self.interfaceIndex = interfaceIndex; self.isFromSelf = isFromSelf
    }
}

/// The fields of an IPv4 header a VRRP receiver needs (RFC 791 §3.1).
public struct IPv4HeaderFields: Hashable, Sendable {
    public var ttl: UInt8
    public var protocolNumber: UInt8
    public var source: IPv4Address
    public var destination: IPv4Address
    public var headerLength: Int
    public var totalLength: Int

    /// Parses the header at the start of `packet`; nil when it is not a well-formed IPv4 header.
    public init?(_ packet: [UInt8]) {
        guard packet.count >= 20, packet[0] >> 4 == 4 else { return nil }
        let ihl = Int(packet[0] & 0x0f) * 4
        let total = Int(packet[2]) << 8 | Int(packet[3])
        guard ihl >= 20, total >= ihl, packet.count >= ihl else { return nil }
        headerLength = ihl
        // The kernel may hand raw sockets a buffer longer than the datagram (never shorter).
        totalLength = min(total, packet.count)
        ttl = packet[8]
        protocolNumber = packet[9]
        source = IPv4Address(bytes: packet[12..<16])!
        destination = IPv4Address(bytes: packet[16..<20])!
    }
}

public final class VRRPSocket {
    /// IP protocol number of VRRP (RFC 9568 §5.1.1.3 / §5.1.2.3).
    public static let ipProtocol: Int32 = 112
    /// TTL / Hop Limit VRRP sends with and checks for (RFC 9568 §5.1.1.3, §7.1).
    public static let requiredHopLimit: Int32 = 255

    public let family: AddressFamily
    public let interfaceIndex: Int32
    public let fileDescriptor: Int32
    /// Source of outgoing packets: the interface's primary IPv4 / link-local IPv6 (RFC 9568 §5.1.1.1,
    /// §5.1.2.1), or the configured unicast source. Changeable when the primary address changes.
    public var source: IPAddress
    /// Addresses whose packets are flagged `isFromSelf` (our own sources; the daemon drops them).
    public var localAddresses: Set<IPAddress>
    private let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    private let controlBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)

    /// Opens and configures the socket: bound to the interface, joined to the VRRP group, TTL/hop
    /// limit 255, no loopback of our own multicast. Needs CAP_NET_RAW (raw socket; SO_BINDTODEVICE
    /// also checked CAP_NET_RAW before Linux 5.7).
    public init(family: AddressFamily, interfaceName: String, interfaceIndex: Int32, source: IPAddress) throws(SystemError) {
        precondition(source.family == family, "source address family must match the socket family")
        self.family = family
        self.interfaceIndex = interfaceIndex
        self.source = source
        self.localAddresses = [source]
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = try syscall("socket(\(family == .ipv4 ? "AF_INET" : "AF_INET6"), SOCK_RAW, 112)", needs: .netRaw) {
            socket(domain, Int32(SOCK_RAW.rawValue) | socketFlagsNonBlockingCloseOnExec,
                   VRRPSocket.ipProtocol)
        }
        fileDescriptor = fd
        do throws(SystemError) {
            try bindToDevice(fd, interfaceName)
            switch family {
            case .ipv4: try configureIPv4(fd)
            case .ipv6: try configureIPv6(fd)
            }
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    deinit {
        closeDescriptor(fileDescriptor)
        receiveBuffer.deallocate()
        controlBuffer.deallocate()
    }

    private func bindToDevice(_ fd: Int32, _ name: String) throws(SystemError) {
        let bytes = Array(name.utf8) + [0]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try syscall("setsockopt(SO_BINDTODEVICE, \(name))", needs: .netRaw) {
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buffer.baseAddress, socklen_t(buffer.count))
        }
    }

    private func configureIPv4(_ fd: Int32) throws(SystemError) {
        var membership = ip_mreqn()
        membership.imr_multiaddr.s_addr = IPv4Address.vrrpMulticast.value.bigEndian
        membership.imr_ifindex = interfaceIndex
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, membership, "setsockopt(IP_ADD_MEMBERSHIP 224.0.0.18)")
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, VRRPSocket.requiredHopLimit, "setsockopt(IP_MULTICAST_TTL)")
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_TTL, VRRPSocket.requiredHopLimit, "setsockopt(IP_TTL)")
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, Int32(0), "setsockopt(IP_MULTICAST_LOOP)")
        var outgoing = ip_mreqn()
        outgoing.imr_ifindex = interfaceIndex
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, outgoing, "setsockopt(IP_MULTICAST_IF)")
        // Arrival interface per packet (the header gives addresses and TTL).
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_PKTINFO, Int32(1), "setsockopt(IP_PKTINFO)")
    }

    private func configureIPv6(_ fd: Int32) throws(SystemError) {
        var membership = ipv6_mreq()
        withUnsafeMutableBytes(of: &membership.ipv6mr_multiaddr) { $0.copyBytes(from: IPv6Address.vrrpMulticast.bytes) }
        membership.ipv6mr_interface = UInt32(bitPattern: interfaceIndex)
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, membership, "setsockopt(IPV6_JOIN_GROUP ff02::12)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, VRRPSocket.requiredHopLimit, "setsockopt(IPV6_MULTICAST_HOPS)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, VRRPSocket.requiredHopLimit, "setsockopt(IPV6_UNICAST_HOPS)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, Int32(0), "setsockopt(IPV6_MULTICAST_LOOP)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, UInt32(bitPattern: interfaceIndex), "setsockopt(IPV6_MULTICAST_IF)")
        // Our codec computes the VRRP checksum over the pseudo-header (RFC 9568 §5.2.8): the kernel
        // must neither fill it in nor verify it (-1 = off, the default for non-ICMPv6 raw sockets).
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_CHECKSUM, Int32(-1), "setsockopt(IPV6_CHECKSUM)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, Int32(1), "setsockopt(IPV6_RECVHOPLIMIT)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, Int32(1), "setsockopt(IPV6_RECVPKTINFO)")
    }

    // MARK: sending

    /// Sends one VRRP message to the VRRP group, or to `destination` (unicast mode), from `source`.
    /// The source is set per packet with IP_PKTINFO / IPV6_PKTINFO rather than bind(), because a bound
    /// raw socket would only receive packets addressed to that address, not to the group.
    public func send(_ payload: [UInt8], to destination: IPAddress? = nil) throws(SystemError) {
        switch (source, destination ?? (family == .ipv4 ? .v4(.vrrpMulticast) : .v6(.vrrpMulticast))) {
        case (.v4(let src), .v4(let dst)):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = dst.value.bigEndian
            // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
            var info = withUnsafeBytes(of: interfaceIndex) { Array($0) }
            info += src.bytes + [0, 0, 0, 0]
            try sendMessage(payload, to: &address, level: Int32(IPPROTO_IP), type: IP_PKTINFO, control: info)
        case (.v6(let src), .v6(let dst)):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: dst.bytes) }
            if dst.isLinkLocal || dst.isMulticast { address.sin6_scope_id = UInt32(bitPattern: interfaceIndex) }
            // struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
            let info = src.bytes + withUnsafeBytes(of: UInt32(bitPattern: interfaceIndex)) { Array($0) }
            try sendMessage(payload, to: &address, level: Int32(IPPROTO_IPV6), type: IPV6_PKTINFO, control: info)
        default:
            throw SystemError(operation: "sendmsg(VRRP): address family mismatch", errno: EAFNOSUPPORT)
        }
    }

    private func sendMessage<A>(_ payload: [UInt8], to address: inout A, level: Int32, type: Int32,
                                control: [UInt8]) throws(SystemError) {
        let payloadBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, payload.count), alignment: 8)
        defer { payloadBuffer.deallocate() }
        payloadBuffer.copyBytes(from: payload)
        let controlBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: vipd_cmsg_space(control.count), alignment: 8)
        defer { controlBuffer.deallocate() }
        controlBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        let addressBuffer = UnsafeMutablePointer<A>.allocate(capacity: 1)
        defer { addressBuffer.deallocate() }
        addressBuffer.initialize(to: address)
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer { vector.deallocate() }
        vector.initialize(to: iovec(iov_base: payloadBuffer.baseAddress, iov_len: payload.count))
        var message = msghdr()
        message.msg_name = UnsafeMutableRawPointer(addressBuffer)
        message.msg_namelen = socklen_t(MemoryLayout<A>.size)
        message.msg_iov = vector
        message.msg_iovlen = 1
        message.msg_control = controlBuffer.baseAddress
        message.msg_controllen = controlBuffer.count
        let header = vipd_cmsg_firsthdr(&message)!
        header.pointee.cmsg_level = level
        header.pointee.cmsg_type = type
        header.pointee.cmsg_len = vipd_cmsg_len(control.count)
        UnsafeMutableRawBufferPointer(start: vipd_cmsg_data(header), count: control.count).copyBytes(from: control)
        let sent = try nonBlockingSyscall("sendmsg(VRRP)", needs: .netRaw) { sendmsg(fileDescriptor, &message, 0) }
        if sent == nil {
            throw SystemError(operation: "sendmsg(VRRP): socket buffer full", errno: EAGAIN)
        }
    }

    // MARK: receiving

    /// Reads queued packets, at most `limit` (never blocks); with more queued the descriptor stays
    /// readable, so a level-triggered poll comes back. Malformed IPv4 headers are skipped.
    public func readPackets(limit: Int = 256) throws(SystemError) -> [ReceivedPacket] {
        var packets: [ReceivedPacket] = []
        while packets.count < limit, let packet = try receiveOne() {
            if let packet = packet.packet { packets.append(packet) }
        }
        return packets
    }

    /// One datagram; nil when the queue is empty, `.packet == nil` when it was not usable.
    private func receiveOne() throws(SystemError) -> (packet: ReceivedPacket?, Void)? {
        let peer = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        defer { peer.deallocate() }
        peer.initialize(to: sockaddr_storage())
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer { vector.deallocate() }
        vector.initialize(to: iovec(iov_base: receiveBuffer.baseAddress, iov_len: receiveBuffer.count))
        var message = msghdr()
        message.msg_name = UnsafeMutableRawPointer(peer)
        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        message.msg_iov = vector
        message.msg_iovlen = 1
        message.msg_control = controlBuffer.baseAddress
        message.msg_controllen = controlBuffer.count
        guard let received = try nonBlockingSyscall("recvmsg(VRRP)", { recvmsg(fileDescriptor, &message, 0) }) else {
            return nil
        }
        var control: [(level: Int32, type: Int32, data: [UInt8])] = []
        var header = vipd_cmsg_firsthdr(&message)
        while let h = header {
            let dataLength = max(0, Int(h.pointee.cmsg_len) - vipd_cmsg_len(0))
            control.append((h.pointee.cmsg_level, h.pointee.cmsg_type,
                            Array(UnsafeBufferPointer(start: vipd_cmsg_data(h), count: dataLength))))
            header = vipd_cmsg_nxthdr(&message, h)
        }
        let datagram = Array(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<received]))
        switch family {
        case .ipv4: return (parseIPv4(datagram, control), ())
        case .ipv6: return (parseIPv6(datagram, peer.pointee, control), ())
        }
    }

    private func parseIPv4(_ datagram: [UInt8], _ control: [(level: Int32, type: Int32, data: [UInt8])]) -> ReceivedPacket? {
        guard let header = IPv4HeaderFields(datagram), header.protocolNumber == UInt8(VRRPSocket.ipProtocol) else { return nil }
        var index = interfaceIndex
        for c in control where c.level == Int32(IPPROTO_IP) && c.type == IP_PKTINFO && c.data.count >= 4 {
            index = c.data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
        }
        let source = IPAddress.v4(header.source)
        return ReceivedPacket(payload: Array(datagram[header.headerLength..<header.totalLength]), source: source,
                              destination: .v4(header.destination), hopLimit: header.ttl, interfaceIndex: index,
                              isFromSelf: localAddresses.contains(source))
    }

    private func parseIPv6(_ datagram: [UInt8], _ peer: sockaddr_storage,
                           _ control: [(level: Int32, type: Int32, data: [UInt8])]) -> ReceivedPacket? {
        guard Int32(peer.ss_family) == AF_INET6 else { return nil }
        let sourceBytes = withUnsafeBytes(of: peer) { raw in
            Array(raw[MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!...].prefix(16))
        }
        guard let sourceAddress = IPv6Address(bytes: sourceBytes) else { return nil }
        var destination: IPv6Address?
        var hopLimit: UInt8?
        var index = interfaceIndex
        for c in control where c.level == Int32(IPPROTO_IPV6) {
            if c.type == IPV6_PKTINFO && c.data.count >= 20 {
                destination = IPv6Address(bytes: c.data[0..<16])
                index = Int32(bitPattern: c.data[16..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
            } else if c.type == IPV6_HOPLIMIT && c.data.count >= 4 {
                hopLimit = UInt8(truncatingIfNeeded: c.data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
            }
        }
        guard let destination else { return nil }
        let source = IPAddress.v6(sourceAddress)
        return ReceivedPacket(payload: datagram, source: source, destination: .v6(destination), hopLimit: hopLimit,
                              interfaceIndex: index, isFromSelf: localAddresses.contains(source))
    }
}
