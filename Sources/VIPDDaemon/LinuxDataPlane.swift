// The data plane on Linux, built from VIPDLinux: rtnetlink (RouteNetlink, LinkMonitor), raw VRRP
// sockets, AF_PACKET announcers, /proc/sys, fork/exec children, the wall clock, all on one epoll
// EventLoop.
// Opening it needs CAP_NET_ADMIN (netlink changes) and later CAP_NET_RAW (sockets).

import Glibc
import VIPDLinux
import VIPDSystem
import VRRP

extension EventLoop: DaemonLoop {}
extension ChildProcesses: ChildSpawner {}

public final class LinuxDataPlane: DataPlane {
    public let eventLoop: EventLoop
    private let childProcesses: ChildProcesses
    private let netlink: RouteNetlink
    private let monitor: LinkMonitor
    /// One AF_PACKET socket per interface that announced, kept for the daemon's life.
    private var announcers: [Int32: Announcer] = [:]

    public var loop: any DaemonLoop { eventLoop }
    public var children: any ChildSpawner { childProcesses }

    public init() throws {
        eventLoop = try EventLoop()
        childProcesses = ChildProcesses(loop: eventLoop)
        netlink = try RouteNetlink()
        monitor = try LinkMonitor()
    }

    public func interface(named name: String) throws -> LinkInfo { try netlink.interface(named: name) }
    public func interface(index: Int32) throws -> LinkInfo { try netlink.interface(index: index) }
    public func links() throws -> [LinkInfo] { try netlink.links() }
    public func monitoredLink(named name: String) -> LinkInfo? { monitor.links.values.first { $0.name == name } }
    public func addresses(interfaceIndex: Int32) throws -> [InterfaceAddress] { try netlink.addresses(interfaceIndex: interfaceIndex) }
    public func linkLocalIPv6(interfaceIndex: Int32) throws -> IPv6Address? { try netlink.linkLocalIPv6(interfaceIndex: interfaceIndex) }
    public func addAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws {
        try netlink.addAddress(prefix, interfaceIndex: interfaceIndex)
    }
    public func removeAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws {
        try netlink.removeAddress(prefix, interfaceIndex: interfaceIndex)
    }
    public func addLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {
        try netlink.addLocalRoute(address, interfaceIndex: interfaceIndex)
    }
    public func removeLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {
        try netlink.removeLocalRoute(address, interfaceIndex: interfaceIndex)
    }

    public func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8]) throws -> Int32 {
        try netlink.createMacvlan(name: name, parentIndex: parentIndex, mac: mac, mode: .private)
    }
    public func deleteLink(index: Int32) throws { try netlink.deleteLink(index: index) }
    public func setLink(index: Int32, up: Bool) throws { try netlink.setLink(index: index, up: up) }

    public func watchLinkEvents(_ handler: @escaping (Result<[LinkEvent], any Error>) -> Void) throws {
        try eventLoop.watch(fd: monitor.fileDescriptor) { [unowned self] in
            handler(Result { try self.monitor.readEvents() })
        }
    }

    public func openVRRPSocket(family: AddressFamily, interfaceName: String, interfaceIndex: Int32, source: IPAddress,
                               receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) throws -> any VRRPEndpoint {
        let socket = try VRRPSocket(family: family, interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source)
        let endpoint = LinuxVRRPEndpoint(socket: socket, loop: eventLoop, receive: receive)
        try eventLoop.watch(fd: socket.fileDescriptor) { [endpoint] in endpoint.readOnce() }
        return endpoint
    }

    public func announce(_ frames: [[UInt8]], interfaceIndex: Int32) throws {
        let announcer: Announcer
        if let existing = announcers[interfaceIndex] {
            announcer = existing
        } else {
            announcer = try Announcer(interfaceIndex: interfaceIndex)
            announcers[interfaceIndex] = announcer
        }
        _ = try announcer.send(frames)
    }

    public func readSysctl(_ components: [String]) throws -> String { try Sysctl.read(components) }
    public func writeSysctl(_ components: [String], _ value: String) throws { try Sysctl.write(components, value) }
}

/// A VRRPSocket watched by the event loop; `close` stops watching (the descriptor closes with it).
final class LinuxVRRPEndpoint: VRRPEndpoint {
    private let socket: VRRPSocket
    private let loop: EventLoop
    private let receive: (Result<[ReceivedPacket], any Error>) -> Void

    /// Packets one readiness callback reads (the socket stays readable when more are queued).
    static let readLimit = 256
    /// At most this many batches per `drain`: the queue is bounded by the socket's receive buffer,
    /// but packets keep arriving while a drain runs; a flood must not hold the loop forever.
    static let maximumDrainBatches = 64

    init(socket: VRRPSocket, loop: EventLoop, receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) {
        self.socket = socket
        self.loop = loop
        self.receive = receive
    }

    /// Read pacing (docs/benchmarks.md, "Read pacing"): while packets arrive faster than one per
    /// `readPacing`, the socket is read at most once per `readPacing` — a readiness callback that
    /// comes sooner after the last read first waits (the whole loop with it) for the rest of the
    /// period. Under a flood (255 instances at 10 ms: 25,500 packets a second) one wakeup and one
    /// recvmmsg then take a period's worth of packets, and the timers that fell due meanwhile fire
    /// together after it, instead of a wakeup every few packets and every timer. What it costs: a
    /// packet, or a timer, is handled up to `readPacing` later, and only while packets come faster
    /// than that; a packet that comes later than `readPacing` after the last read is read at once.
    static let readPacing: Int64 = 1_000_000   // nanoseconds
    /// When the last paced read started (CLOCK_MONOTONIC nanoseconds).
    private var lastRead = Int64.min / 2

    /// One readiness callback: one batch (level-triggered epoll comes back for the rest).
    func readOnce() {
        let now = MonotonicClock.nanoseconds()
        let due = lastRead + Self.readPacing
        if now < due {
            Self.sleep(until: due)
            lastRead = due
        } else {
            lastRead = now
        }
        receive(Result { try socket.readPackets(limit: Self.readLimit) })
    }

    private static func sleep(until nanoseconds: Int64) {
        var deadline = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
    }

    func drain() -> Int {
        var delivered = 0
        for _ in 0..<Self.maximumDrainBatches {
            let packets: [ReceivedPacket]
            do { packets = try socket.readPackets(limit: Self.readLimit) } catch {
                receive(.failure(error))
                break
            }
            if packets.isEmpty { break }
            delivered += packets.count
            receive(.success(packets))
            // A short batch means the queue was empty: `readPackets` reads until `limit` unless a
            // recvmmsg comes back short.
            if packets.count < Self.readLimit { break }
        }
        return delivered
    }

    func send(_ payload: [UInt8], to destination: IPAddress) throws { try socket.send(payload, to: destination) }
    func close() { loop.unwatch(fd: socket.fileDescriptor) }
}

extension LinuxDataPlane {
    /// CLOCK_REALTIME, for `auth_hmac` sequences and their freshness check.
    public func wallClock() -> UTCTime {
        let (seconds, nanoseconds) = WallClock.now()
        return UTCTime(unixSeconds: seconds, nanoseconds: Int64(nanoseconds))
    }
}
