// Link and address change notifications (rtnetlink multicast groups) for the daemon's event loop.
import CLibmnl
import Glibc
import VIPDSystem
import VRRP

/// A change the daemon may react to. Only changes are reported: a repeated RTM_NEWLINK with the same
/// up/carrier state produces nothing.
public enum LinkEvent: Hashable, Sendable {
    /// Admin state or carrier changed (or name/MAC): the new state.
    case linkChanged(LinkInfo)
    /// A link we did not know (created, or moved into the namespace).
    case linkAppeared(LinkInfo)
    case linkRemoved(index: Int32, name: String)
    case addressAdded(InterfaceAddress)
    /// Flags of a known address changed (e.g. IPv6 DAD finished: no longer tentative).
    case addressUpdated(InterfaceAddress)
    case addressRemoved(InterfaceAddress)
    /// The kernel dropped notifications (ENOBUFS); the events before this marker were synthesized by
    /// diffing a fresh dump against the last known state.
    case resynchronized
}

/// Watches RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR on a non-blocking socket.
/// Not thread-safe: one owner (the daemon's event loop), which polls `fileDescriptor` for input.
public final class LinkMonitor {
    private let socket: OpaquePointer
    private let requests: RouteNetlink
    private var receiveBuffer = [UInt8](repeating: 0, count: 65536)
    public private(set) var links: [Int32: LinkInfo] = [:]
    private var addressTable: [AddressKey: InterfaceAddress] = [:]
    /// How often the kernel reported an overrun (ENOBUFS) and we re-dumped.
    public private(set) var resynchronizations = 0

    private struct AddressKey: Hashable { var index: Int32; var prefix: AddressPrefix }

    /// Subscribes, then takes the initial snapshot (subscribing first means no change can fall between
    /// the dump and the subscription). `receiveBufferSize` sets SO_RCVBUF (tests use a tiny one).
    public init(receiveBufferSize: Int32? = nil) throws(NetlinkError) {
        // libmnl returns a pointer, not -1, so this one call can't use `syscall`.
        guard let nl = mnl_socket_open2(NETLINK_ROUTE, socketFlagsNonBlockingCloseOnExec) else {
            throw .system(SystemError(operation: "socket(AF_NETLINK)", errno: Glibc.errno))
        }
        socket = nl
        do throws(SystemError) {
            let fd = mnl_socket_get_fd(nl)
            if let receiveBufferSize {
                try setSocketOption(fd, SOL_SOCKET, SO_RCVBUF, receiveBufferSize, "setsockopt(SO_RCVBUF)")
            }
            try syscall("bind(AF_NETLINK)") { mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) }
            for group in [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR] {
                try setSocketOption(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, Int32(group.rawValue),
                                    "setsockopt(NETLINK_ADD_MEMBERSHIP)")
            }
        } catch {
            mnl_socket_close(nl)
            throw .system(error)
        }
        do {
            requests = try RouteNetlink()
        } catch {
            mnl_socket_close(nl)
            throw error
        }
        for link in try requests.links() { links[link.index] = link }
        for address in try requests.addresses() {
            addressTable[AddressKey(index: address.interfaceIndex, prefix: address.prefix)] = address
        }
    }

    deinit { mnl_socket_close(socket) }

    /// Readable when notifications are queued; never blocks.
    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    /// Known addresses (the monitor's current view).
    public var addresses: [InterfaceAddress] { Array(addressTable.values) }

    /// Reads every queued notification and returns the resulting changes. On overrun, discards the
    /// queue, re-dumps, and returns the differences followed by `.resynchronized`.
    public func readEvents() throws(NetlinkError) -> [LinkEvent] {
        var events: [LinkEvent] = []
        while true {
            let received: Int
            do throws(SystemError) {
                guard let n = try nonBlockingSyscall("recvfrom(netlink monitor)", {
                    receiveBuffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
                }) else { return events }
                received = n
            } catch where error.errno == ENOBUFS {
                events += try resynchronize()
                continue
            } catch {
                throw .system(error)
            }
            let messages = receiveBuffer.withUnsafeBytes {
                NetlinkCodec.split(UnsafeRawBufferPointer(rebasing: $0.prefix(received)))
            }
            for message in messages {
                events += apply(NetlinkCodec.parse(message))
            }
        }
    }

    /// Folds one notification into the snapshot; returns what changed.
    private func apply(_ message: RouteMessage) -> [LinkEvent] {
        switch message {
        case .newLink(let link):
            guard let old = links[link.index] else {
                links[link.index] = link
                return [.linkAppeared(link)]
            }
            links[link.index] = link
            let changed = old.isAdminUp != link.isAdminUp || old.hasCarrier != link.hasCarrier
                || old.name != link.name || old.mac != link.mac
            return changed ? [.linkChanged(link)] : []
        case .deleteLink(let link):
            guard let old = links.removeValue(forKey: link.index) else { return [] }
            var events: [LinkEvent] = []
            for (key, address) in addressTable where key.index == link.index {
                addressTable[key] = nil
                events.append(.addressRemoved(address))
            }
            events.append(.linkRemoved(index: link.index, name: old.name))
            return events
        case .newAddress(let address):
            let key = AddressKey(index: address.interfaceIndex, prefix: address.prefix)
            let old = addressTable.updateValue(address, forKey: key)
            if old == nil { return [.addressAdded(address)] }
            return old != address ? [.addressUpdated(address)] : []
        case .deleteAddress(let address):
            let key = AddressKey(index: address.interfaceIndex, prefix: address.prefix)
            return addressTable.removeValue(forKey: key) != nil ? [.addressRemoved(address)] : []
        case .error, .done, .other:
            return []
        }
    }

    /// After ENOBUFS the queue holds an arbitrary subset of changes; drop it, dump, and diff.
    private func resynchronize() throws(NetlinkError) -> [LinkEvent] {
        resynchronizations += 1
        var draining = true
        while draining {
            do throws(SystemError) {
                draining = try nonBlockingSyscall("recvfrom(netlink monitor)", {
                    receiveBuffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
                }) != nil
            } catch where error.errno == ENOBUFS {
                continue  // overrun reported again while draining: keep draining
            } catch {
                throw .system(error)
            }
        }
        let freshLinks = Dictionary(try requests.links().map { ($0.index, $0) }, uniquingKeysWith: { $1 })
        let freshAddresses = Dictionary(try requests.addresses().map {
            (AddressKey(index: $0.interfaceIndex, prefix: $0.prefix), $0)
        }, uniquingKeysWith: { $1 })
        var events = LinkMonitor.diff(oldLinks: links, newLinks: freshLinks)
        for (key, address) in addressTable.sorted(by: { $0.value.description < $1.value.description })
            where freshAddresses[key] == nil {
            events.append(.addressRemoved(address))
        }
        for (key, address) in freshAddresses.sorted(by: { $0.value.description < $1.value.description }) {
            if let old = addressTable[key] {
                if old != address { events.append(.addressUpdated(address)) }
            } else {
                events.append(.addressAdded(address))
            }
        }
        links = freshLinks
        addressTable = freshAddresses
        events.append(.resynchronized)
        return events
    }

    /// The events that turn `oldLinks` into `newLinks` (pure; used after an overrun).
    static func diff(oldLinks: [Int32: LinkInfo], newLinks: [Int32: LinkInfo]) -> [LinkEvent] {
        var events: [LinkEvent] = []
        for index in oldLinks.keys.sorted() where newLinks[index] == nil {
            events.append(.linkRemoved(index: index, name: oldLinks[index]!.name))
        }
        for index in newLinks.keys.sorted() {
            let link = newLinks[index]!
            guard let old = oldLinks[index] else { events.append(.linkAppeared(link)); continue }
            if old.isAdminUp != link.isAdminUp || old.hasCarrier != link.hasCarrier
                || old.name != link.name || old.mac != link.mac {
                events.append(.linkChanged(link))
            }
        }
        return events
    }
}
