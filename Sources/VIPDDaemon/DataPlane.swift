// The data-plane seam: everything the daemon asks of the kernel, as three small protocols. The Linux
// plane (LinuxDataPlane.swift: netlink, raw sockets, AF_PACKET, /proc/sys, fork/exec children, epoll) is what
// `vipd run` uses; the daemon simulation (Tests/DaemonSimulation) implements them over a virtual LAN
// and a virtual clock, so that N real `Daemon`s run deterministically in one test process.
//
// The daemon never opens a socket, reads a clock or spawns a process itself; it gets a plane. What
// lives outside the plane is the process around the daemon (signals, control socket, metrics HTTP
// server, systemd, scheduling): only `Daemon.run()` touches it.

import VIPDConfig
import VIPDLinux
import VRRP

/// The daemon's clock and timers: one serial executor (the event loop), every callback on its thread.
public protocol DaemonLoop: AnyObject {
    /// The monotonic clock, as the core's `Instant`.
    func now() -> Instant
    /// Calls `callback` once `deadline` has passed, or up to `slack` earlier when awake anyway.
    @discardableResult
    func schedule(at deadline: Instant, slack: Duration, _ callback: @escaping () -> Void) -> TimerID
    func cancel(_ id: TimerID?)
    /// Ends the loop after the callback running now (daemon exit).
    func stop()
}

extension DaemonLoop {
    @discardableResult
    func schedule(at deadline: Instant, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: deadline, slack: .zero, callback)
    }

    @discardableResult
    func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: now() + delay, slack: .zero, callback)
    }
}

/// Child processes (notify hooks, track scripts) that never block the loop.
public protocol ChildSpawner: AnyObject {
    /// Starts `arguments[0]` with `arguments`, `environment` added to the daemon's, as `user` (nil:
    /// the daemon's own); `completion` runs on the loop once it has exited, was killed after
    /// `timeout`, or could not be started.
    func spawn(_ arguments: [String], environment: [String: String], user: ScriptUser?, timeout: Duration?,
               completion: @escaping (ChildOutcome) -> Void)
    /// Kills every running child (daemon exit).
    func killAll()
}

/// One VRRP socket (raw, IP protocol 112) bound to an interface and a source address.
public protocol VRRPEndpoint: AnyObject {
    func send(_ payload: [UInt8], to destination: IPAddress) throws
    /// Reads every packet queued on the socket now, without blocking, and delivers them through the
    /// `receive` handler given to `openVRRPSocket` — synchronously, before returning, in arrival
    /// order, in as many calls as the implementation likes. Packets that arrive while it runs may be
    /// delivered too; it stops once the queue is empty (or after a bound, so that a flood cannot
    /// hold it forever). A read error goes to the handler as a failure and ends the drain. Returns
    /// how many packets were delivered. The daemon calls it before acting on an expired
    /// Master_Down_Timer (the rule "drain before expiry", docs/design.md).
    @discardableResult
    func drain() -> Int
    /// Stops delivering packets; the socket is released with the endpoint.
    func close()
}

/// The kernel, as the daemon uses it: links and addresses, VRRP sockets, announcements, link and
/// address events, sysctls, macvlans, the clock and child processes.
public protocol DataPlane: AnyObject {
    var loop: any DaemonLoop { get }
    var children: any ChildSpawner { get }

    // MARK: Links and addresses
    func interface(named name: String) throws -> LinkInfo
    func interface(index: Int32) throws -> LinkInfo
    func links() throws -> [LinkInfo]
    /// The link as last reported by link events (no kernel round trip), nil when unknown.
    func monitoredLink(named name: String) -> LinkInfo?
    func addresses(interfaceIndex: Int32) throws -> [InterfaceAddress]
    func linkLocalIPv6(interfaceIndex: Int32) throws -> IPv6Address?
    func addAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws
    func removeAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws
    /// vipd's own local route for `address` (routed VIPs' second release phase, DaemonRouted.swift):
    /// packets for it are accepted with the address gone. Adding one present, or removing one
    /// absent, is success.
    func addLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws
    func removeLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws

    // MARK: Macvlans (virtual MAC)
    /// Creates a private-mode macvlan on `parentIndex` with `mac`; returns its index.
    func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8]) throws -> Int32
    func deleteLink(index: Int32) throws
    func setLink(index: Int32, up: Bool) throws

    // MARK: Events and packets
    /// Delivers link and address changes on the loop from now on.
    func watchLinkEvents(_ handler: @escaping (Result<[LinkEvent], any Error>) -> Void) throws
    /// Opens a VRRP socket; received packets (not yet filtered or decoded) arrive on the loop.
    func openVRRPSocket(family: AddressFamily, interfaceName: String, interfaceIndex: Int32, source: IPAddress,
                        receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) throws -> any VRRPEndpoint
    /// Sends gratuitous ARP / unsolicited NA frames (complete Ethernet frames) out of an interface.
    func announce(_ frames: [[UInt8]], interfaceIndex: Int32) throws

    // MARK: Wall clock
    /// CLOCK_REALTIME as the core's `UTCTime`: only for `auth_hmac` sequences and their freshness
    /// (every timer uses `loop.now()`, the monotonic clock).
    func wallClock() -> UTCTime

    // MARK: Sysctls (/proc/sys); the daemon changes them only through its SysctlJournal
    func readSysctl(_ components: [String]) throws -> String
    func writeSysctl(_ components: [String], _ value: String) throws
}

extension DataPlane {
    /// A sysctl read as a whole number, nil when it can't be read or isn't one.
    func sysctlInteger(_ components: [String]) -> Int? {
        (try? readSysctl(components)).flatMap { Int($0) }
    }
}
