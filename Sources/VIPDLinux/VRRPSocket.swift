// Raw IP sockets for VRRP (IP protocol 112), one per interface and family, shared by every virtual
// router on that interface; the daemon demultiplexes by VRID.
import CVIPDShim
import Glibc
import VIPDSystem
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
    /// How many packets the kernel dropped on this socket because its receive queue was full
    /// between the packet read before this one and this one (from SO_RXQ_OVFL).
    public var droppedBefore: UInt32

    public init(payload: [UInt8], source: IPAddress, destination: IPAddress, hopLimit: UInt8?,
                interfaceIndex: Int32, isFromSelf: Bool = false, droppedBefore: UInt32 = 0) {
        self.payload = payload; self.source = source; self.destination = destination
        self.hopLimit = hopLimit; self.interfaceIndex = interfaceIndex; self.isFromSelf = isFromSelf
        self.droppedBefore = droppedBefore
    }
}

public final class VRRPSocket {
    /// The protocol constants as the socket calls take them (`ProtocolConstants` has the RFC sections).
    private static let ipProtocol = Int32(ProtocolConstants.ipProtocol)
    private static let hopLimit = Int32(ProtocolConstants.requiredHopLimit)

    public let family: AddressFamily
    public let interfaceIndex: Int32
    public let fileDescriptor: Int32
    /// Source of outgoing packets: the interface's primary IPv4 / link-local IPv6 (RFC 9568 §5.1.1.1,
    /// §5.1.2.1), or the configured unicast source. Changeable when the primary address changes.
    public var source: IPAddress
    /// Addresses whose packets are flagged `isFromSelf` (our own sources; the daemon drops them).
    public var localAddresses: Set<IPAddress>
    private let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: receiveSlotSize * receiveBatch, alignment: 8)
    private let controlBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: controlSlotSize * receiveBatch, alignment: 8)
    private let receivePeers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: receiveBatch)
    private let sendAddress = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
    private let sendVector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
    private let sendControl = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    private let receiveLengths = UnsafeMutablePointer<Int>.allocate(capacity: receiveBatch)
    private let receiveControlLengths = UnsafeMutablePointer<Int>.allocate(capacity: receiveBatch)
    private let receiveFlags = UnsafeMutablePointer<Int32>.allocate(capacity: receiveBatch)

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
            try enlargeReceiveBuffer(fd)
            // The kernel's count of packets dropped for a full receive queue, on every packet read.
            try setSocketOption(fd, SOL_SOCKET, SO_RXQ_OVFL, Int32(1), "setsockopt(SO_RXQ_OVFL)")
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
        receivePeers.deallocate()
        sendAddress.deallocate()
        sendVector.deallocate()
        sendControl.deallocate()
        receiveLengths.deallocate()
        receiveControlLengths.deallocate()
        receiveFlags.deallocate()
    }

    /// What the receive queue may hold (SO_RCVBUF; the kernel doubles it for its bookkeeping).
    /// The default (net.core.rmem_default, 208 KiB) holds about 10 ms of 255 instances' adverts at
    /// 10 ms intervals: a Backup not scheduled for longer lost adverts and took over. 4 MiB holds
    /// about 0.3 s of that load, and memory is used only while packets wait.
    public static let receiveBufferBytes: Int32 = 4 << 20

    /// SO_RCVBUFFORCE (CAP_NET_ADMIN, which the daemon has) goes past net.core.rmem_max; without
    /// the capability SO_RCVBUF gets as much as rmem_max allows.
    private func enlargeReceiveBuffer(_ fd: Int32) throws(SystemError) {
        do throws(SystemError) {
            try setSocketOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, Self.receiveBufferBytes, "setsockopt(SO_RCVBUFFORCE)")
        } catch {
            try setSocketOption(fd, SOL_SOCKET, SO_RCVBUF, Self.receiveBufferBytes, "setsockopt(SO_RCVBUF)")
        }
    }

    /// The receive queue's limit as the kernel set it (SO_RCVBUF read back).
    public var receiveBufferLimit: Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 else { return 0 }
        return Int(value)
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
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, VRRPSocket.hopLimit, "setsockopt(IP_MULTICAST_TTL)")
        try setSocketOption(fd, Int32(IPPROTO_IP), IP_TTL, VRRPSocket.hopLimit, "setsockopt(IP_TTL)")
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
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, VRRPSocket.hopLimit, "setsockopt(IPV6_MULTICAST_HOPS)")
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, VRRPSocket.hopLimit, "setsockopt(IPV6_UNICAST_HOPS)")
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
    /// The destination, the control message and the iovec live in buffers of the socket, written
    /// in place: sending allocates nothing.
    public func send(_ payload: [UInt8], to destination: IPAddress? = nil) throws(SystemError) {
        sendAddress.initialize(to: sockaddr_storage())
        sendControl.initializeMemory(as: UInt8.self, repeating: 0)
        let addressLength: Int
        let level: Int32, type: Int32, infoLength: Int
        switch (source, destination ?? (family == .ipv4 ? .v4(.vrrpMulticast) : .v6(.vrrpMulticast))) {
        case (.v4(let src), .v4(let dst)):
            UnsafeMutableRawPointer(sendAddress).withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                address.pointee.sin_family = sa_family_t(AF_INET)
                address.pointee.sin_addr.s_addr = dst.value.bigEndian
            }
            addressLength = MemoryLayout<sockaddr_in>.size
            // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
            (level, type, infoLength) = (Int32(IPPROTO_IP), IP_PKTINFO, 12)
            let data = controlData(level: level, type: type, length: infoLength)
            data.storeBytes(of: interfaceIndex, toByteOffset: 0, as: Int32.self)
            data.storeBytes(of: src.value.bigEndian, toByteOffset: 4, as: UInt32.self)
        case (.v6(let src), .v6(let dst)):
            UnsafeMutableRawPointer(sendAddress).withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &address.pointee.sin6_addr) {
                    $0.storeBytes(of: dst.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                    $0.storeBytes(of: dst.low.bigEndian, toByteOffset: 8, as: UInt64.self)
                }
                if dst.isLinkLocal || dst.isMulticast { address.pointee.sin6_scope_id = UInt32(bitPattern: interfaceIndex) }
            }
            addressLength = MemoryLayout<sockaddr_in6>.size
            // struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
            (level, type, infoLength) = (Int32(IPPROTO_IPV6), IPV6_PKTINFO, 20)
            let data = controlData(level: level, type: type, length: infoLength)
            data.storeBytes(of: src.high.bigEndian, toByteOffset: 0, as: UInt64.self)
            data.storeBytes(of: src.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            data.storeBytes(of: UInt32(bitPattern: interfaceIndex), toByteOffset: 16, as: UInt32.self)
        default:
            throw SystemError(operation: "sendmsg(VRRP): address family mismatch", errno: EAFNOSUPPORT)
        }
        let sent = try nonBlockingSyscall("sendmsg(VRRP)", needs: .netRaw) {
            payload.withUnsafeBytes { bytes in
                sendVector.pointee = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                var message = msghdr()
                message.msg_name = UnsafeMutableRawPointer(sendAddress)
                message.msg_namelen = socklen_t(addressLength)
                message.msg_iov = sendVector
                message.msg_iovlen = 1
                message.msg_control = sendControl.baseAddress
                message.msg_controllen = vipd_cmsg_space(infoLength)
                return sendmsg(fileDescriptor, &message, 0)
            }
        }
        if sent == nil {
            throw SystemError(operation: "sendmsg(VRRP): socket buffer full", errno: EAGAIN)
        }
    }

    /// Writes the header of the one control message into `sendControl`; returns its data area.
    private func controlData(level: Int32, type: Int32, length: Int) -> UnsafeMutableRawPointer {
        var message = msghdr()
        message.msg_control = sendControl.baseAddress
        message.msg_controllen = vipd_cmsg_space(length)
        let header = vipd_cmsg_firsthdr(&message)!
        header.pointee.cmsg_level = level
        header.pointee.cmsg_type = type
        header.pointee.cmsg_len = vipd_cmsg_len(length)
        return UnsafeMutableRawPointer(vipd_cmsg_data(header))
    }

    // MARK: receiving

    /// Reads queued packets, at most `limit` (never blocks); with more queued the descriptor stays
    /// readable, so a level-triggered poll comes back. Malformed IPv4 headers are skipped.
    ///
    /// One recvmmsg(2) per batch of up to `receiveBatch` datagrams; a batch that comes back short
    /// means the queue is empty, so the usual case (one advertisement per wakeup) costs one system
    /// call, not a second one that returns EAGAIN.
    ///
    /// Allocates nothing once warmed up: the returned array and every packet's payload reuse the
    /// socket's storage, which is unique again once the caller has let go of the result (a caller
    /// that keeps it only makes the next read copy, as value semantics require).
    public func readPackets(limit: Int = 256) throws(SystemError) -> [ReceivedPacket] {
        batch.removeAll(keepingCapacity: true)
        while batch.count < limit {
            let wanted = Swift.min(Self.receiveBatch, limit - batch.count)
            guard let received = try nonBlockingSyscall("recvmmsg(VRRP)", {
                vipd_recv_batch(fileDescriptor, receiveBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.receiveSlotSize,
                                controlBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.controlSlotSize,
                                receivePeers, receiveLengths, receiveControlLengths, receiveFlags, UInt32(wanted))
            }), received > 0 else { break }
            for slot in 0..<Int(received) {
                if let packet = parse(slot: slot, into: batch.count) { batch.append(packet) }
            }
            if Int(received) < wanted { break }
        }
        return batch
    }

    /// The last batch read; its storage is reused by the next `readPackets`.
    private var batch: [ReceivedPacket] = []
    /// One payload buffer per position in `batch`, kept across reads: `batch` holds a second
    /// reference only until the caller is done, so refilling one copies bytes, never allocates.
    private var payloads: [[UInt8]] = []
    /// The whole IPv4 datagram, for the core's header parser.
    private var datagramScratch: [UInt8] = []

    /// Copies `bytes` into payload buffer `position` and returns it (shared with the pool).
    private func payload(_ bytes: UnsafeRawBufferPointer, position: Int) -> [UInt8] {
        if position == payloads.count { payloads.append([]) }
        payloads[position].removeAll(keepingCapacity: true)
        payloads[position].append(contentsOf: bytes)
        return payloads[position]
    }

    /// Receive slots: any valid VRRP packet fits one (IPv6: 8 + 255 × 16 bytes; IPv4 with the
    /// longest header: 60 + 8 + 255 × 4 + 8). A longer datagram arrives truncated (MSG_TRUNC) and
    /// fails to decode: it is dropped and counted as malformed, as it would be whole.
    static let receiveSlotSize = 8192
    static let controlSlotSize = 128
    /// Datagrams per recvmmsg(2): about a millisecond of 255 instances at 10 ms, what one paced
    /// read finds queued (`LinuxVRRPEndpoint.readPacing`), in one system call.
    static let receiveBatch = 32

    private func parse(slot: Int, into position: Int) -> ReceivedPacket? {
        let length = Swift.min(receiveLengths[slot], Self.receiveSlotSize)
        let datagram = UnsafeRawBufferPointer(start: receiveBuffer.baseAddress! + slot * Self.receiveSlotSize, count: length)
        let control = UnsafeRawBufferPointer(start: controlBuffer.baseAddress! + slot * Self.controlSlotSize,
                                             count: Swift.min(receiveControlLengths[slot], Self.controlSlotSize))
        switch family {
        case .ipv4: return parseIPv4(datagram, control, position)
        case .ipv6: return parseIPv6(datagram, receivePeers[slot], control, position)
        }
    }

    /// Calls `body` with (level, type, data) for each control message in `control`.
    private func forEachControlMessage(_ control: UnsafeRawBufferPointer, _ body: (Int32, Int32, UnsafeRawBufferPointer) -> Void) {
        guard control.count > 0 else { return }
        var message = msghdr()
        message.msg_control = UnsafeMutableRawPointer(mutating: control.baseAddress)
        message.msg_controllen = control.count
        var header = vipd_cmsg_firsthdr(&message)
        while let h = header {
            let dataLength = Swift.max(0, Int(h.pointee.cmsg_len) - vipd_cmsg_len(0))
            body(h.pointee.cmsg_level, h.pointee.cmsg_type, UnsafeRawBufferPointer(start: vipd_cmsg_data(h), count: dataLength))
            header = vipd_cmsg_nxthdr(&message, h)
        }
    }

    private func parseIPv4(_ datagram: UnsafeRawBufferPointer, _ control: UnsafeRawBufferPointer,
                           _ position: Int) -> ReceivedPacket? {
        // The core's header parser (RFC 791 §3.1, protocol 112, Total Length = what arrived): the
        // kernel hands a raw IPv4 socket the whole datagram, so anything else is not a VRRP packet.
        datagramScratch.removeAll(keepingCapacity: true)
        datagramScratch.append(contentsOf: datagram)
        guard let header = try? VRRPCodec.decodeIPv4Header(datagramScratch[...]) else { return nil }
        var index = interfaceIndex
        var drops = dropCount
        forEachControlMessage(control) { level, type, data in
            if level == Int32(IPPROTO_IP) && type == IP_PKTINFO && data.count >= 4 {
                index = data.loadUnaligned(as: Int32.self)
            } else if let count = Self.socketDrops(level, type, data) {
                drops = count
            }
        }
        let source = IPAddress.v4(header.source)
        return ReceivedPacket(payload: payload(UnsafeRawBufferPointer(rebasing: datagram[header.headerLength...]), position: position),
                              source: source,
                              destination: .v4(header.destination), hopLimit: header.ttl, interfaceIndex: index,
                              isFromSelf: localAddresses.contains(source), droppedBefore: droppedSince(drops))
    }

    private func parseIPv6(_ datagram: UnsafeRawBufferPointer, _ peer: sockaddr_storage,
                           _ control: UnsafeRawBufferPointer, _ position: Int) -> ReceivedPacket? {
        guard Int32(peer.ss_family) == AF_INET6 else { return nil }
        let sourceAddress = withUnsafeBytes(of: peer) { raw in
            IPv6Address(bytes: raw[MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!...].prefix(16))
        }
        guard let sourceAddress else { return nil }
        var destination: IPv6Address?
        var hopLimit: UInt8?
        var index = interfaceIndex
        var drops = dropCount
        forEachControlMessage(control) { level, type, data in
            if let count = Self.socketDrops(level, type, data) { drops = count }
            guard level == Int32(IPPROTO_IPV6) else { return }
            if type == IPV6_PKTINFO && data.count >= 20 {
                destination = IPv6Address(bytes: data[0..<16])
                index = Int32(bitPattern: data.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            } else if type == IPV6_HOPLIMIT && data.count >= 4 {
                hopLimit = UInt8(truncatingIfNeeded: data.loadUnaligned(as: Int32.self))
            }
        }
        guard let destination else { return nil }
        let source = IPAddress.v6(sourceAddress)
        return ReceivedPacket(payload: payload(datagram, position: position), source: source, destination: .v6(destination), hopLimit: hopLimit,
                              interfaceIndex: index, isFromSelf: localAddresses.contains(source), droppedBefore: droppedSince(drops))
    }

    /// The kernel's count of packets dropped on this socket for a full receive queue, as of the last
    /// packet read (SO_RXQ_OVFL: a 32-bit counter since the socket was opened, sent with a packet
    /// once it is not zero).
    private var dropCount: UInt32 = 0

    /// How much the drop count grew up to `count`, the count that came with the packet being read.
    private func droppedSince(_ count: UInt32) -> UInt32 {
        defer { dropCount = count }
        return count &- dropCount
    }

    /// The SO_RXQ_OVFL control message: the socket's drop counter (a 32-bit unsigned integer).
    private static func socketDrops(_ level: Int32, _ type: Int32, _ data: UnsafeRawBufferPointer) -> UInt32? {
        guard level == SOL_SOCKET && type == SO_RXQ_OVFL && data.count >= 4 else { return nil }
        return data.loadUnaligned(as: UInt32.self)
    }
}
