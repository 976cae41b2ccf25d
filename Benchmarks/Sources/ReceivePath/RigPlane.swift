// The data plane of the rig: one interface, one VRRP socket whose packets the rig hands over, and
// a clock that moves only when the rig says so. Everything else succeeds and does nothing.

import VIPDConfig
import VIPDDaemon
import VIPDLinux
import VRRP

public final class RigPlane: DataPlane {
    static let eth0: Int32 = 2
    public let rigLoop = RigLoop()
    private let rigChildren = RigChildren()
    var endpoint: RigEndpoint?
    private var sysctls: [String: String] = [:]

    public var loop: any DaemonLoop { rigLoop }
    public var children: any ChildSpawner { rigChildren }

    private let link = LinkInfo(index: eth0, name: "eth0", mac: [2, 0, 0, 0, 0, 2], isAdminUp: true, hasCarrier: true, mtu: 1500)

    public func interface(named name: String) throws -> LinkInfo {
        guard name == link.name else { throw RigError.noSuchInterface }
        return link
    }
    public func interface(index: Int32) throws -> LinkInfo {
        guard index == link.index else { throw RigError.noSuchInterface }
        return link
    }
    public func links() throws -> [LinkInfo] { [link] }
    public func monitoredLink(named name: String) -> LinkInfo? { name == link.name ? link : nil }
    public func addresses(interfaceIndex: Int32) throws -> [InterfaceAddress] {
        interfaceIndex == link.index ? [InterfaceAddress(interfaceIndex: link.index, prefix: AddressPrefix("192.0.2.12/24")!)] : []
    }
    public func linkLocalIPv6(interfaceIndex: Int32) throws -> IPv6Address? { nil }
    public func addAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws {}
    public func removeAddress(_ prefix: AddressPrefix, interfaceIndex: Int32) throws {}
    public func addLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {}
    public func removeLocalRoute(_ address: IPAddress, interfaceIndex: Int32) throws {}
    public func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8]) throws -> Int32 { throw RigError.unsupported }
    public func deleteLink(index: Int32) throws {}
    public func setLink(index: Int32, up: Bool) throws {}
    public func watchLinkEvents(_ handler: @escaping (Result<[LinkEvent], any Error>) -> Void) throws {}
    public func openVRRPSocket(family: AddressFamily, interfaceName: String, interfaceIndex: Int32, source: IPAddress,
                               receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) throws -> any VRRPEndpoint {
        let endpoint = RigEndpoint(receive: receive)
        self.endpoint = endpoint
        return endpoint
    }
    public func announce(_ frames: [[UInt8]], interfaceIndex: Int32) throws {}
    public func readSysctl(_ components: [String]) throws -> String { sysctls[components.joined(separator: ".")] ?? "0" }
    public func writeSysctl(_ components: [String], _ value: String) throws { sysctls[components.joined(separator: ".")] = value }
    /// A fixed wall clock: the rig's instances do not use `auth_hmac`.
    public func wallClock() -> UTCTime { UTCTime(seconds: 1_790_000_000) }
}

enum RigError: Error { case noSuchInterface, unsupported }

final class RigEndpoint: VRRPEndpoint {
    let receive: (Result<[ReceivedPacket], any Error>) -> Void
    init(receive: @escaping (Result<[ReceivedPacket], any Error>) -> Void) { self.receive = receive }
    func send(_ payload: [UInt8], to destination: IPAddress) throws {}
    /// The rig hands each packet over as it "arrives": nothing ever waits in this socket.
    func drain() -> Int { 0 }
    func close() {}
}

final class RigChildren: ChildSpawner {
    func spawn(_ arguments: [String], environment: [String: String], user: ScriptUser?, timeout: Duration?,
               completion: @escaping (ChildOutcome) -> Void) {
        completion(.spawnFailed(0))
    }
    func killAll() {}
}

/// Timers on a clock that moves by `advance(by:)`, which fires what fell due (earliest first).
/// A binary heap of (deadline, id) and a table of live timers, both kept at their size: after
/// the warm-up, setting and firing timers allocates nothing, as in the daemon's EventLoop.
public final class RigLoop: DaemonLoop {
    private var clock = Instant(nanoseconds: 1_000_000_000)
    /// A struct, as in EventLoop: a closure in a tuple stored in a Dictionary costs a thunk per set.
    private struct Timer {
        var deadline: Instant
        var callback: () -> Void
    }
    private var timers: [UInt64: Timer] = [:]
    private var heap: [(deadline: Instant, id: UInt64)] = []
    private var nextID: UInt64 = 1
    /// Timers set and timers fired so far: how often the lazy Master_Down_Timer is set again.
    public private(set) var timersSet = 0
    public private(set) var timersFired = 0

    init() {
        timers.reserveCapacity(1024)
        heap.reserveCapacity(4096)
    }

    public func now() -> Instant { clock }

    public func schedule(at deadline: Instant, slack: Duration, _ callback: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        timersSet += 1
        timers[id] = Timer(deadline: deadline, callback: callback)
        push((deadline, id))
        return TimerID(id)
    }

    public func cancel(_ id: TimerID?) { if let id { timers.removeValue(forKey: id.value) } }
    public func stop() {}

    func advance(by step: Duration) {
        clock = clock + step
        while let top = heap.first, top.deadline <= clock {
            pop()
            guard let timer = timers[top.id], timer.deadline == top.deadline else { continue }
            timers.removeValue(forKey: top.id)
            timersFired += 1
            timer.callback()
        }
    }

    private static func less(_ a: (deadline: Instant, id: UInt64), _ b: (deadline: Instant, id: UInt64)) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.id < b.id
    }

    private func push(_ entry: (deadline: Instant, id: UInt64)) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && Self.less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.less(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
