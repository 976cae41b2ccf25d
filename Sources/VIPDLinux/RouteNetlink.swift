// Request/ack rtnetlink socket: address and link queries and changes, through libmnl.
import CLibmnl
import CVIPDShim
import Glibc
import VIPDSystem
import VRRP

/// What can go wrong talking to rtnetlink, with enough context for a user-facing message.
public enum NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchInterface(String)
    case noSuchInterfaceIndex(Int32)
    case permissionDenied(operation: String, capability: Capability)
    /// EEXIST when creating a link: another interface already has this name.
    case interfaceExists(String)
    /// EADDRINUSE / EADDRNOTAVAIL from the kernel for an address operation.
    case addressInUse(operation: String)
    /// The kernel's NLMSG_ERROR for this request.
    case kernel(operation: String, errno: Int32)
    /// A reply that did not belong to our request or could not be parsed.
    case protocolError(operation: String, detail: String)
    /// A socket-level failure (socket, bind, sendto, recvfrom).
    case system(SystemError)

    public var description: String {
        switch self {
        case .noSuchInterface(let name): "no such interface: \(name)"
        case .noSuchInterfaceIndex(let index): "no interface with index \(index)"
        case .permissionDenied(let operation, let capability):
            "\(operation): permission denied (\(capability.advice))"
        case .interfaceExists(let name): "an interface named \(name) already exists"
        case .addressInUse(let operation): "\(operation): address in use"
        case .kernel(let operation, let errno): "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
        case .protocolError(let operation, let detail): "\(operation): netlink protocol error: \(detail)"
        case .system(let error): error.description
        }
    }

    /// Maps a kernel errno for `operation` to the most useful case.
    static func from(errno: Int32, operation: String) -> NetlinkError {
        switch errno {
        case EPERM, EACCES: .permissionDenied(operation: operation, capability: .netAdmin)
        case EADDRINUSE: .addressInUse(operation: operation)
        default: .kernel(operation: operation, errno: errno)
        }
    }
}

/// An rtnetlink socket for requests with acknowledgements. Not thread-safe: one owner.
public final class RouteNetlink {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32
    private var receiveBuffer: [UInt8]

    public init() throws(NetlinkError) {
        // libmnl returns a pointer, not -1, so this one call can't use `syscall`.
        guard let nl = mnl_socket_open2(NETLINK_ROUTE, socketFlagCloseOnExec) else {
            throw .system(SystemError(operation: "socket(AF_NETLINK)", errno: Glibc.errno))
        }
        do throws(SystemError) {
            try syscall("bind(AF_NETLINK)") { mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) }
            // Errors only echo the failing message's header, not the whole request.
            try setSocketOption(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, Int32(1), "setsockopt(NETLINK_CAP_ACK)")
        } catch {
            mnl_socket_close(nl)
            throw .system(error)
        }
        socket = nl
        portID = mnl_socket_get_portid(nl)
        // A time-derived start keeps sequences of successive sockets apart (as libmnl's examples do).
        sequence = UInt32(truncatingIfNeeded: time(nil))
        receiveBuffer = [UInt8](repeating: 0, count: 65536)
    }

    deinit { mnl_socket_close(socket) }

    /// The socket's file descriptor (for diagnostics).
    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    // MARK: queries

    public func interface(named name: String) throws(NetlinkError) -> LinkInfo {
        do throws(NetlinkError) {
            let links = try request("get link \(name)", NetlinkCodec.getLink(sequence: nextSequence(), name: name))
                .compactMap { if case .newLink(let l) = $0 { l } else { nil } }
            guard let link = links.first else { throw NetlinkError.noSuchInterface(name) }
            return link
        } catch .kernel(_, let errno) where errno == ENODEV || errno == ENOENT {
            throw .noSuchInterface(name)
        }
    }

    public func interface(index: Int32) throws(NetlinkError) -> LinkInfo {
        do throws(NetlinkError) {
            let links = try request("get link #\(index)", NetlinkCodec.getLink(sequence: nextSequence(), index: index))
                .compactMap { if case .newLink(let l) = $0 { l } else { nil } }
            guard let link = links.first else { throw NetlinkError.noSuchInterfaceIndex(index) }
            return link
        } catch .kernel(_, let errno) where errno == ENODEV || errno == ENOENT {
            throw .noSuchInterfaceIndex(index)
        }
    }

    public func links() throws(NetlinkError) -> [LinkInfo] {
        try dump("dump links") { NetlinkCodec.linkDump(sequence: $0) }
            .compactMap { if case .newLink(let l) = $0 { l } else { nil } }
    }

    /// All addresses, or those of one interface.
    public func addresses(interfaceIndex: Int32? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        try dump("dump addresses") { NetlinkCodec.addressDump(sequence: $0) }
            .compactMap { if case .newAddress(let a) = $0 { a } else { nil } }
            .filter { interfaceIndex == nil || $0.interfaceIndex == interfaceIndex }
    }

    /// The first IPv4 address without IFA_F_SECONDARY: the one the kernel uses as source, which
    /// VRRP sends from (RFC 9568 §5.1.1.1). Excluding our own VIPs is the caller's job.
    public func primaryIPv4(interfaceIndex: Int32) throws(NetlinkError) -> IPv4Address? {
        for a in try addresses(interfaceIndex: interfaceIndex) where !a.isSecondary {
            if case .v4(let v4) = a.prefix.address { return v4 }
        }
        return nil
    }

    /// The interface's link-local IPv6 address, the source of VRRP IPv6 adverts (RFC 9568 §5.1.2.1).
    /// Tentative addresses (DAD running) are skipped: the kernel won't send from them.
    public func linkLocalIPv6(interfaceIndex: Int32) throws(NetlinkError) -> IPv6Address? {
        for a in try addresses(interfaceIndex: interfaceIndex) where !a.isTentative {
            if case .v6(let v6) = a.prefix.address, v6.isLinkLocal { return v6 }
        }
        return nil
    }

    // MARK: changes

    /// Adds an address; already present is success. IPv6 gets IFA_F_NODAD.
    public func addAddress(_ prefix: AddressPrefix, interfaceIndex: Int32, label: String? = nil) throws(NetlinkError) {
        try change("add address \(prefix) on #\(interfaceIndex)", interfaceIndex, alreadyDone: [EEXIST],
                   NetlinkCodec.address(add: true, prefix: prefix, interfaceIndex: interfaceIndex, label: label, sequence: nextSequence()))
    }

    /// Removes an address; already absent is success.
    public func removeAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws(NetlinkError) {
        try change("remove address \(prefix) from #\(interfaceIndex)", interfaceIndex, alreadyDone: [EADDRNOTAVAIL, ENOENT, ESRCH],
                   NetlinkCodec.address(add: false, prefix: prefix, interfaceIndex: interfaceIndex, label: nil, sequence: nextSequence()))
    }

    /// The routing protocol number of vipd's local routes (`ip route show table local proto 98`).
    public static let localRouteProtocol: UInt8 = 98
    /// Their metric: not the kernel's 0, so that a configured address's own local route and ours
    /// can exist side by side.
    public static let localRouteMetric: UInt32 = 98

    /// Adds vipd's local route for `address` on `interfaceIndex` (table local, type local);
    /// already present is success.
    public func addLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws(NetlinkError) {
        try change("add local route \(address) dev #\(interfaceIndex)", interfaceIndex, alreadyDone: [EEXIST],
                   NetlinkCodec.localRoute(add: true, address: address, interfaceIndex: interfaceIndex, protocol: Self.localRouteProtocol,
                                           metric: Self.localRouteMetric, sequence: nextSequence()))
    }

    /// Removes vipd's local route for `address` on `interfaceIndex`; already absent is success.
    public func removeLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws(NetlinkError) {
        try change("remove local route \(address) dev #\(interfaceIndex)", interfaceIndex, alreadyDone: [ENOENT, ESRCH, EADDRNOTAVAIL],
                   NetlinkCodec.localRoute(add: false, address: address, interfaceIndex: interfaceIndex, protocol: Self.localRouteProtocol,
                                           metric: Self.localRouteMetric, sequence: nextSequence()))
    }

    /// Sends an address or route change: the errnos of `alreadyDone` (present when adding, absent
    /// when removing) are success; ENODEV names the interface.
    private func change(_ operation: String, _ interfaceIndex: Int32, alreadyDone: [Int32], _ message: [UInt8]) throws(NetlinkError) {
        do throws(NetlinkError) {
            _ = try request(operation, message)
        } catch .kernel(_, let errno) where alreadyDone.contains(errno) {
            return
        } catch .kernel(_, let errno) where errno == ENODEV {
            throw .noSuchInterfaceIndex(interfaceIndex)
        }
    }

    /// Creates a macvlan on `parentIndex` with the given MAC, without automatic IPv6 link-local
    /// (addrgenmode none); returns the new interface's index. The link starts down; call
    /// `setLink(index:up:)`.
    public func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8], mode: MacvlanMode) throws(NetlinkError) -> Int32 {
        let operation = "create macvlan \(name) on #\(parentIndex)"
        do throws(NetlinkError) {
            _ = try request(operation, NetlinkCodec.newMacvlan(name: name, parentIndex: parentIndex, mac: mac,
                                                               mode: mode, sequence: nextSequence()))
        } catch .kernel(_, let errno) where errno == EEXIST {
            throw .interfaceExists(name)
        } catch .kernel(_, let errno) where errno == ENODEV {
            throw .noSuchInterfaceIndex(parentIndex)
        }
        let index = try interface(named: name).index
        do throws(NetlinkError) {
            _ = try request("set addrgenmode none on \(name)",
                            NetlinkCodec.disableAddressGeneration(index: index, sequence: nextSequence()))
        } catch {
            try? deleteLink(index: index)
            throw error
        }
        return index
    }

    public func deleteLink(index: Int32) throws(NetlinkError) {
        do throws(NetlinkError) {
            _ = try request("delete link #\(index)", NetlinkCodec.deleteLink(index: index, sequence: nextSequence()))
        } catch .kernel(_, let errno) where errno == ENODEV {
            throw .noSuchInterfaceIndex(index)
        }
    }

    public func setLink(index: Int32, up: Bool) throws(NetlinkError) {
        do throws(NetlinkError) {
            _ = try request("set link #\(index) \(up ? "up" : "down")",
                            NetlinkCodec.setLink(index: index, up: up, sequence: nextSequence()))
        } catch .kernel(_, let errno) where errno == ENODEV {
            throw .noSuchInterfaceIndex(index)
        }
    }

    // MARK: transport

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends one request and collects replies until the ack (NLMSG_ERROR 0), NLMSG_DONE for dumps,
    /// or the single reply of a non-dump get. Replies with another sequence or port id are skipped
    /// (stale answers of an earlier, failed request); a kernel error becomes `NetlinkError`.
    private func request(_ operation: String, _ message: [UInt8]) throws(NetlinkError) -> [RouteMessage] {
        try exchange(operation, message).replies
    }

    /// A dump, repeated (with a new sequence number) while the kernel flags it NLM_F_DUMP_INTR: the
    /// table changed mid-dump, so the result may mix old and new state.
    private func dump(_ operation: String, _ build: (UInt32) -> [UInt8]) throws(NetlinkError) -> [RouteMessage] {
        let attempts = 5
        for _ in 1..<attempts {
            let result = try exchange(operation, build(nextSequence()))
            if !result.interrupted { return result.replies }
        }
        return try exchange(operation, build(nextSequence())).replies
    }

    private func exchange(_ operation: String, _ message: [UInt8]) throws(NetlinkError) -> (replies: [RouteMessage], interrupted: Bool) {
        let (sequence, flags) = message.withUnsafeBytes { raw in
            let nlh = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self).pointee
            return (nlh.nlmsg_seq, Int32(nlh.nlmsg_flags))
        }
        let isDump = flags & NLM_F_DUMP == NLM_F_DUMP
        let wantsAck = flags & NLM_F_ACK != 0
        do throws(SystemError) {
            try syscall("sendto(netlink): \(operation)", needs: .netAdmin) {
                message.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
            }
        } catch {
            throw error.isPermissionDenied ? .permissionDenied(operation: operation, capability: .netAdmin) : .system(error)
        }
        var replies: [RouteMessage] = []
        var interrupted = false
        while true {
            let received: Int
            do throws(SystemError) {
                received = try syscall("recvfrom(netlink): \(operation)") {
                    receiveBuffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
                }
            } catch {
                throw .system(error)
            }
            let messages = receiveBuffer.withUnsafeBytes {
                NetlinkCodec.split(UnsafeRawBufferPointer(rebasing: $0.prefix(received)))
            }
            for bytes in messages {
                let (seqOK, portOK, replyFlags) = bytes.withUnsafeBytes { raw in
                    let nlh = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)
                    return (mnl_nlmsg_seq_ok(nlh, sequence), mnl_nlmsg_portid_ok(nlh, portID), Int32(nlh.pointee.nlmsg_flags))
                }
                guard seqOK && portOK else { continue }
                if replyFlags & NLM_F_DUMP_INTR != 0 { interrupted = true }
                let parsed = NetlinkCodec.parse(bytes)
                switch parsed {
                case .error(let errno, _):
                    if errno != 0 { throw NetlinkError.from(errno: errno, operation: operation) }
                    return (replies, interrupted)
                case .done:
                    return (replies, interrupted)
                default:
                    replies.append(parsed)
                    if !isDump && !wantsAck { return (replies, interrupted) }
                }
            }
        }
    }
}
