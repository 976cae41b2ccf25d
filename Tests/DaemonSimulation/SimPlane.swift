// The fake data plane: a virtual world of hosts ("kernels": links, addresses, sysctls) on one L2
// segment, with a virtual clock and one event queue; each running daemon gets a SimPlane on its
// host. Packets, link events and child exits are delivered as queued events, never inside the call
// that caused them, as the kernel does. Everything random comes from the world's seeded SimRandom.

import Simulation
import VIPDConfig
import VIPDDaemon
import VIPDLinux
import VRRP

/// Virtual time, the event queue and the segment's behaviour.
public final class SimWorld {
    public private(set) var now: Int64 = 0
    private var queue = EventQueue<() -> Void>()
    var random: SimRandom
    var hosts: [SimHost] = []
    /// Segment behaviour, changed by the scenario's phases.
    var loss = 0.0
    var maxDelay: Int64 = 1_000_000
    /// A planted bug for the checker's own test: removeAddress reports success and does nothing.
    var forgetAddressRemoval = false

    /// Which timers run early within their slack (SimLoop): a stream of its own, so that the
    /// draws of the scenario and the segment are the same ones whatever the timers' slack.
    var earlyRandom: SimRandom

    init(seed: UInt64) {
        random = SimRandom(seed: seed)
        earlyRandom = SimRandom(seed: seed ^ 0x5EED_EA51_7000_0001)
    }

    func at(_ time: Int64, _ event: @escaping () -> Void) { queue.push(event, at: max(time, now)) }
    func after(_ delay: Int64, _ event: @escaping () -> Void) { at(now + delay, event) }

    /// Runs every event due up to `time`, then sets the clock to it.
    func run(until time: Int64) {
        while let next = queue.nextTime, next <= time, let (at, event) = queue.pop() {
            now = at
            event()
        }
        now = max(now, time)
    }

    func delay() -> Int64 { random.int64(50_000...max(maxDelay, 50_000)) }
}

/// One host's kernel state: it outlives the daemons that run on it (a crash leaves it as it was).
final class SimHost {
    let id: Int
    unowned let world: SimWorld
    var links: [Int32: LinkInfo] = [:]
    var addresses: [InterfaceAddress] = []
    /// vipd's local routes (routed VIPs' second release phase): address and interface index.
    var localRoutes: [(address: IPAddress, interfaceIndex: Int32)] = []
    var sysctls: [String: String] = [:]
    private var nextIndex: Int32 = 10
    /// Track scripts' results: command → succeeds.
    var scripts: [String: Bool] = [:]
    /// The running daemon's plane, nil while none runs.
    var plane: SimPlane?
    /// When the last link or address event reaches the daemon (netlink keeps their order).
    private var lastEventDelivery: Int64 = 0
    /// CPU starvation (nil: the node gets the CPU when it needs it). While set, the daemon's loop
    /// runs late: timers fire up to `timerLateness` late, and queued packets are read up to
    /// `readLateness` after they arrive, at most `readBatch` per readiness callback.
    var load: SimLoad?
    /// Notify hooks as started: instance, family (`VIPD_FAMILY`), state, and how many earlier
    /// transitions of that router the daemon folded into it (`VIPD_COALESCED`).
    var hooks: [(instance: String, family: String, state: String, folded: Int)] = []

    static let lan: Int32 = 2, uplink: Int32 = 3
    /// Where `announce: route` instances put their host addresses (`route.device: lo`).
    static let loopback: Int32 = 1

    init(id: Int, world: SimWorld, rpFilterAll: Int) {
        self.id = id
        self.world = world
        for (index, name) in [(Self.loopback, "lo"), (Self.lan, "eth0"), (Self.uplink, "eth1")] {
            links[index] = LinkInfo(index: index, name: name, mac: [2, 0, 0, 0, UInt8(id), UInt8(index)],
                                    isAdminUp: true, hasCarrier: true, mtu: 1500)
            addSysctls(for: name, rpFilter: 0)
        }
        addSysctls(for: "all", rpFilter: rpFilterAll)
        addSysctls(for: "default", rpFilter: 0)
        addresses.append(InterfaceAddress(interfaceIndex: Self.lan, prefix: AddressPrefix("192.0.2.\(10 + id)/24")!))
        addresses.append(InterfaceAddress(interfaceIndex: Self.lan, prefix: AddressPrefix("fe80::\(id)/64")!))
    }

    private func addSysctls(for name: String, rpFilter: Int) {
        for key in ["accept_local", "arp_ignore", "arp_filter", "arp_announce"] { sysctls["net.ipv4.conf.\(name).\(key)"] = "0" }
        sysctls["net.ipv4.conf.\(name).rp_filter"] = String(rpFilter)
        sysctls["net.ipv6.conf.\(name).disable_ipv6"] = "0"
    }

    func link(named name: String) -> LinkInfo? { links.values.first { $0.name == name } }

    /// How late the loop runs a timer (scheduling latency, more when starved).
    func timerLateness() -> Int64 { world.random.int64(0...max(200_000, load?.timerLateness ?? 0)) }
    /// How long after a packet arrives the loop gets to read the socket.
    func readLateness() -> Int64 { load.map { world.random.int64(0...$0.readLateness) } ?? 0 }
    /// How many packets one readiness callback reads.
    func readBatchSize() -> Int { load.map { world.random.int(1...$0.readBatch) } ?? Int.max }

    /// Whether frames from or to this interface reach the segment (the LAN, or a macvlan on it).
    func onSegment(_ index: Int32) -> Bool {
        guard let link = links[index], link.isOperational else { return false }
        if index == Self.lan { return true }
        return link.parentIndex == Self.lan && links[Self.lan]?.isOperational == true
    }

    func vips(on index: Int32) -> [AddressPrefix] { addresses.filter { $0.interfaceIndex == index }.map(\.prefix) }

    // MARK: Kernel operations (also used by the scenario: external removal, link flaps)

    func addAddress(_ prefix: AddressPrefix, _ index: Int32) throws {
        guard links[index] != nil else { throw SimError.noSuchInterface(index) }
        guard !addresses.contains(where: { $0.interfaceIndex == index && $0.prefix.address == prefix.address }) else { return }
        let sameSubnet = addresses.contains { $0.interfaceIndex == index && $0.prefix.family == prefix.family && !$0.prefix.address.isLinkLocal }
        let address = InterfaceAddress(interfaceIndex: index, prefix: prefix, isSecondary: sameSubnet && prefix.family == .ipv4)
        addresses.append(address)
        emit(.addressAdded(address))
    }

    func removeAddress(_ prefix: AddressPrefix, _ index: Int32) {
        guard let found = addresses.firstIndex(where: { $0.interfaceIndex == index && $0.prefix.address == prefix.address }) else { return }
        let removed = addresses.remove(at: found)
        emit(.addressRemoved(removed))
    }

    func setCarrier(_ index: Int32, _ up: Bool) {
        guard var link = links[index], link.hasCarrier != up else { return }
        link.hasCarrier = up
        links[index] = link
        emit(.linkChanged(link))
    }

    func createMacvlan(name: String, parent: Int32, mac: [UInt8]) throws -> Int32 {
        guard link(named: name) == nil else { throw SimError.exists(name) }
        nextIndex += 1
        let link = LinkInfo(index: nextIndex, name: name, mac: mac, isAdminUp: false, hasCarrier: true, mtu: 1500,
                            kind: "macvlan", parentIndex: parent)
        links[nextIndex] = link
        addSysctls(for: name, rpFilter: 0)
        emit(.linkAppeared(link))
        return nextIndex
    }

    func deleteLink(_ index: Int32) throws {
        guard let link = links.removeValue(forKey: index) else { throw SimError.noSuchInterface(index) }
        addresses.removeAll { $0.interfaceIndex == index }
        for key in sysctls.keys where key.hasPrefix("net.ipv4.conf.\(link.name).") || key.hasPrefix("net.ipv6.conf.\(link.name).") {
            sysctls.removeValue(forKey: key)
        }
        emit(.linkRemoved(index: index, name: link.name))
    }

    func setAdmin(_ index: Int32, _ up: Bool) throws {
        guard var link = links[index] else { throw SimError.noSuchInterface(index) }
        guard link.isAdminUp != up else { return }
        link.isAdminUp = up
        links[index] = link
        emit(.linkChanged(link))
    }

    /// Tells the running daemon, later and in order, as the kernel's notifications do.
    private func emit(_ event: LinkEvent) {
        guard let plane, let handler = plane.linkHandler else { return }
        lastEventDelivery = max(world.now + world.random.int64(10_000...200_000), lastEventDelivery)
        world.at(lastEventDelivery) { [weak plane] in
            guard let plane, plane.running else { return }
            handler(.success([event]))
        }
    }
}

enum SimError: Error, CustomStringConvertible {
    case noSuchInterface(Int32), noSuchName(String), exists(String), noSysctl(String), linkDown
    var description: String {
        switch self {
        case .noSuchInterface(let i): "no interface #\(i)"
        case .noSuchName(let n): "no interface \(n)"
        case .exists(let n): "\(n) exists"
        case .noSysctl(let k): "no sysctl \(k)"
        case .linkDown: "network is down"
        }
    }
}

/// A CPU-starved node (see `SimHost.load`); times in nanoseconds.
struct SimLoad {
    var timerLateness: Int64
    var readLateness: Int64
    var readBatch: Int
}

/// The clock and timers of one daemon's life on virtual time. Each host's clock has its own origin.
final class SimLoop: DaemonLoop {
    unowned let world: SimWorld
    unowned let host: SimHost
    let origin: Int64
    private var timers: Set<UInt64> = []
    private var nextID: UInt64 = 1
    /// False once the daemon stopped (finish) or crashed: nothing of it runs any more.
    var running = true

    init(host: SimHost, origin: Int64) { self.world = host.world; self.host = host; self.origin = origin }

    func now() -> Instant { Instant(nanoseconds: world.now + origin) }

    func schedule(at deadline: Instant, slack: Duration, _ callback: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        timers.insert(id)
        // A timer fires a little late (the host's scheduling latency, more when starved), or, with
        // slack, half of the time anywhere within it (as the event loop does when it is awake
        // anyway for something else), never before it is scheduled.
        let slackNs = slack.nanoseconds
        let early = slackNs > 0 && world.earlyRandom.chance(0.5) ? world.earlyRandom.int64(0...slackNs) : 0
        let at = early > 0 ? max(world.now, deadline.nanoseconds - origin - early) : deadline.nanoseconds - origin + host.timerLateness()
        world.at(at) { [self] in
            guard running, timers.remove(id) != nil else { return }
            callback()
        }
        return TimerID(id)
    }

    func cancel(_ id: TimerID?) { if let id { timers.remove(id.value) } }
    func stop() { running = false }
}

/// Child processes: hooks are recorded on the host, track scripts return the host's verdict.
final class SimChildren: ChildSpawner {
    unowned let host: SimHost
    unowned let loop: SimLoop

    init(host: SimHost, loop: SimLoop) { self.host = host; self.loop = loop }

    func spawn(_ arguments: [String], environment: [String: String], user: ScriptUser?, timeout: Duration?,
               completion: @escaping (ChildOutcome) -> Void) {
        let world = host.world
        let outcome: ChildOutcome
        if arguments.first == "/bin/sh", arguments.count == 3 {
            outcome = host.scripts[arguments[2]] ?? true ? .exited(0) : .exited(1)
        } else {
            host.hooks.append((arguments[1], environment["VIPD_FAMILY"] ?? "?", arguments[2],
                               Int(environment["VIPD_COALESCED"] ?? "0") ?? -1))
            outcome = world.random.chance(0.05) ? .exited(1) : .exited(0)
        }
        var runtime = world.random.int64(1_000_000...40_000_000)
        var result = outcome
        if let timeout, timeout.nanoseconds < runtime { runtime = timeout.nanoseconds; result = .timedOut }
        world.after(runtime) { [loop] in
            guard loop.running else { return }
            completion(result)
        }
    }

    func killAll() {}
}

/// A packet in a simulated socket's receive queue, with what the invariants need to know about it.
struct QueuedPacket {
    var packet: ReceivedPacket
    /// World time it was sent.
    var sentAt: Int64
    /// The sender's daemon life (it is live while that plane runs).
    weak var sender: SimPlane?
}

/// A VRRP socket: arriving packets wait in its receive queue until the daemon's loop reads them, in
/// batches (see `SimHost.load`), or until the daemon drains it.
final class SimEndpoint: VRRPEndpoint {
    unowned let plane: SimPlane
    let family: AddressFamily
    let interfaceIndex: Int32
    let source: IPAddress
    let receive: (Result<[ReceivedPacket], any Error>) -> Void
    var open = true
    /// The socket's receive queue, oldest first.
    private(set) var queue: [QueuedPacket] = []
    private var readScheduled = false

    init(plane: SimPlane, family: AddressFamily, interfaceIndex: Int32, source: IPAddress,
         receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) {
        self.plane = plane; self.family = family; self.interfaceIndex = interfaceIndex; self.source = source
        self.receive = receive
    }

    func send(_ payload: [UInt8], to destination: IPAddress) throws {
        let host = plane.host, world = host.world
        guard open, host.onSegment(interfaceIndex) else { throw SimError.linkDown }
        for other in world.hosts where other !== host {
            guard let otherPlane = other.plane, otherPlane.running else { continue }
            for endpoint in otherPlane.endpoints where endpoint.open && endpoint.family == family {
                // Unicast reaches only a socket on the interface that holds the address (the frame goes
                // to that interface's MAC, and a raw socket bound to a device hears what enters it):
                // not a socket on a macvlan of it. Multicast reaches the parent and its macvlans.
                if !destination.isMulticast && !other.addresses.contains(where: {
                    $0.prefix.address == destination && $0.interfaceIndex == endpoint.interfaceIndex
                }) { continue }
                if world.random.chance(world.loss) { continue }
                let packet = QueuedPacket(
                    packet: ReceivedPacket(payload: payload, source: source, destination: destination, hopLimit: 255,
                                           interfaceIndex: endpoint.interfaceIndex),
                    sentAt: world.now, sender: plane)
                world.after(world.delay()) { [weak endpoint, weak otherPlane] in
                    guard let endpoint, let otherPlane, otherPlane.running, endpoint.open,
                          other.onSegment(endpoint.interfaceIndex) else { return }
                    endpoint.arrive(packet)
                }
            }
        }
    }

    /// The kernel queues the packet; the loop is woken to read it (late, in batches, under load).
    private func arrive(_ packet: QueuedPacket) {
        queue.append(packet)
        // A node with CPU to spare reads at once (no extra event per packet).
        if plane.host.load == nil && !readScheduled { readBatch() } else { scheduleRead() }
    }

    private func scheduleRead() {
        guard !readScheduled else { return }
        readScheduled = true
        let world = plane.host.world
        world.after(plane.host.readLateness()) { [weak self] in self?.readBatch() }
    }

    /// One readiness callback: at most a batch; more queued means the socket stays readable.
    private func readBatch() {
        readScheduled = false
        guard open, plane.running, !queue.isEmpty else { return }
        let count = min(queue.count, plane.host.readBatchSize())
        let batch = queue.prefix(count).map(\.packet)
        queue.removeFirst(count)
        if !queue.isEmpty { scheduleRead() }
        receive(.success(batch))
    }

    func drain() -> Int {
        guard open, plane.running, !queue.isEmpty else { return 0 }
        let batch = queue.map(\.packet)
        queue.removeAll()
        receive(.success(batch))
        return batch.count
    }

    func close() { open = false }
}

/// One daemon's view of its host.
final class SimPlane: DataPlane {
    let host: SimHost
    let simLoop: SimLoop
    private var simChildren: SimChildren!
    var linkHandler: ((Result<[LinkEvent], any Error>) -> Void)?
    var endpoints: [SimEndpoint] = []
    var running: Bool { simLoop.running }

    var loop: any DaemonLoop { simLoop }
    var children: any ChildSpawner { simChildren }
    /// The virtual clock as wall time (`auth_hmac`): every host agrees, from a fixed 2026 epoch.
    func wallClock() -> UTCTime {
        let nanoseconds = host.world.now + 1_790_000_000 * 1_000_000_000
        return UTCTime(unixSeconds: nanoseconds / 1_000_000_000, nanoseconds: nanoseconds % 1_000_000_000)
    }

    init(host: SimHost, origin: Int64) {
        self.host = host
        simLoop = SimLoop(host: host, origin: origin)
        simChildren = SimChildren(host: host, loop: simLoop)
    }

    func interface(named name: String) throws -> LinkInfo {
        guard let link = host.link(named: name) else { throw SimError.noSuchName(name) }
        return link
    }
    func interface(index: Int32) throws -> LinkInfo {
        guard let link = host.links[index] else { throw SimError.noSuchInterface(index) }
        return link
    }
    func links() throws -> [LinkInfo] { host.links.keys.sorted().compactMap { host.links[$0] } }
    func monitoredLink(named name: String) -> LinkInfo? { host.link(named: name) }
    func addresses(interfaceIndex: Int32) throws -> [InterfaceAddress] {
        host.addresses.filter { $0.interfaceIndex == interfaceIndex }
    }
    func linkLocalIPv6(interfaceIndex: Int32) throws -> IPv6Address? {
        for address in host.addresses where address.interfaceIndex == interfaceIndex {
            if case .v6(let a) = address.prefix.address, address.prefix.address.isLinkLocal { return a }
        }
        return nil
    }
    func addAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws { try host.addAddress(prefix, interfaceIndex) }
    func removeAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws {
        if host.world.forgetAddressRemoval { return }
        host.removeAddress(prefix, interfaceIndex)
    }
    func addLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {
        guard host.links[interfaceIndex] != nil else { throw SimError.noSuchInterface(interfaceIndex) }
        guard !host.localRoutes.contains(where: { $0 == (address, interfaceIndex) }) else { return }
        host.localRoutes.append((address, interfaceIndex))
    }
    func removeLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {
        host.localRoutes.removeAll { $0 == (address, interfaceIndex) }
    }
    func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8]) throws -> Int32 {
        try host.createMacvlan(name: name, parent: parentIndex, mac: mac)
    }
    func deleteLink(index: Int32) throws { try host.deleteLink(index) }
    func setLink(index: Int32, up: Bool) throws { try host.setAdmin(index, up) }

    func watchLinkEvents(_ handler: @escaping (Result<[LinkEvent], any Error>) -> Void) throws { linkHandler = handler }

    func openVRRPSocket(family: AddressFamily, interfaceName: String, interfaceIndex: Int32, source: IPAddress,
                        receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) throws -> any VRRPEndpoint {
        guard host.links[interfaceIndex] != nil else { throw SimError.noSuchInterface(interfaceIndex) }
        let endpoint = SimEndpoint(plane: self, family: family, interfaceIndex: interfaceIndex, source: source, receive: receive)
        endpoints.append(endpoint)
        return endpoint
    }

    func announce(_ frames: [[UInt8]], interfaceIndex: Int32) throws {
        guard host.onSegment(interfaceIndex) else { throw SimError.linkDown }
    }

    func readSysctl(_ components: [String]) throws -> String {
        let key = components.joined(separator: ".")
        guard let value = host.sysctls[key] else { throw SimError.noSysctl(key) }
        return value
    }
    func writeSysctl(_ components: [String], _ value: String) throws {
        let key = components.joined(separator: ".")
        guard host.sysctls[key] != nil else { throw SimError.noSysctl(key) }
        host.sysctls[key] = value
    }
}

extension IPAddress {
    var isMulticast: Bool {
        switch self {
        case .v4(let a): a.isMulticast
        case .v6(let a): a.isMulticast
        }
    }
    var isLinkLocal: Bool {
        if case .v6(let a) = self { return a.isLinkLocal }
        return false
    }
}
