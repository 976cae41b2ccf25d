// A seeded scenario for N real daemons over SimPlanes: the configuration (families, virtual MAC,
// unicast, manual takeover, tracking, sync groups, hooks), then phases of chaos (loss, delay, crashes and restarts with
// leftover addresses, graceful stops, reloads, handovers, approvals of manual takeovers, addresses
// removed behind the daemon's back, link flaps, failing track scripts), each followed by a calm
// settle window and the invariants:
//   1. a running daemon's host holds a router's VIPs iff the router says it holds them;
//   2. once settled, at most one running host holds each VIP, and one at least while a daemon that
//      is not stopping runs;
//   3. an instance's notify hooks start in the order of its transitions (none lost or doubled);
//   4. a reload never moves an unchanged instance (its routers' states and holdings stay);
//   5. a daemon that stopped leaves no VIP, no local route and no macvlan, and every sysctl as it found it;
//   6. no takeover comes from queued advertisements (checked at each takeover, under CPU starvation:
//      see `checkTakeover`);
//   7. routed instances (`announce: route`) hold their addresses on `lo` only, and invariant 2 holds
//      for them (exactly one node announces the route once settled); anycast instances
//      (`election: none`) are held, once settled, by every running daemon that is not stopping.
//
// CPU starvation (`SimHost.load`, set on random nodes during chaos): the node's loop runs late —
// timers fire up to tens of ms late, and packets wait in the socket's queue for up to 400 ms before
// the loop reads them, a few per readiness callback.

import Foundation
import Simulation
import VIPDDaemon
import VRRP

public struct DaemonSimulationFailure: Error, Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var message: String
    public var trace: [String]
    public var description: String {
        "daemon simulation seed \(seed): \(message)\n"
            + "replay: SWIFT_DETERMINISTIC_HASHING=1 VIPD_DAEMON_SIM_SEED=\(seed) swift test --filter DaemonSimulationTests.randomSeeds\n"
            + "last events:\n" + trace.suffix(40).joined(separator: "\n")
    }
}

public struct DaemonSimulationStats: Sendable, Equatable {
    public init() {}
    public var seeds = 0
    public var phases = 0
    public var settledChecks = 0
    public var crashes = 0
    public var stops = 0
    public var reloads = 0
    public var handovers = 0
    public var approvals = 0
    /// Instances that ran in unicast mode, with a virtual MAC.
    public var unicastInstances = 0
    public var virtualMACInstances = 0
    /// Instances with both (their adverts arrive on the parent interface, not on the macvlan).
    public var unicastVirtualMACInstances = 0
    public var hooks = 0
    /// Transitions whose hook the daemon folded into a later one (the bounded hook queue).
    public var coalescedHooks = 0
    /// Chaos steps that starved a node of CPU.
    public var starvations = 0
    /// Master_Down_Timer expiries withdrawn because the drained advertisements showed the Master alive.
    public var withdrawnExpiries = 0
    /// Instances that ran with `announce: route`, and with `election: none` (anycast).
    public var routedInstances = 0
    public var anycastInstances = 0
    public var virtualNanoseconds: Int64 = 0

    public mutating func add(_ other: DaemonSimulationStats) {
        seeds += other.seeds; phases += other.phases; settledChecks += other.settledChecks
        crashes += other.crashes; stops += other.stops; reloads += other.reloads
        handovers += other.handovers; approvals += other.approvals;
        unicastInstances += other.unicastInstances; virtualMACInstances += other.virtualMACInstances; unicastVirtualMACInstances += other.unicastVirtualMACInstances; hooks += other.hooks; coalescedHooks += other.coalescedHooks; virtualNanoseconds += other.virtualNanoseconds
        starvations += other.starvations; withdrawnExpiries += other.withdrawnExpiries
        routedInstances += other.routedInstances; anycastInstances += other.anycastInstances
    }
}

struct InstanceSpec {
    var name: String
    var vrid: Int
    var addresses: [String]
    var interval: Int   // ms
    var virtualMAC: Bool
    var preempt: Bool
    /// `takeover: manual`: a Backup waits for `vipd approve` (the scenario's operator).
    var manual: Bool
    /// Unicast to the other hosts' primary addresses instead of the group (single-family IPv4 only).
    var unicast: Bool
    var trackInterfaceWeight: Int?
    var script: (weight: Int, rise: Int, fall: Int)?
    /// Per host.
    var priorities: [Int]
    var announce = Announce.arp
    /// `route.release_delay` of a routed instance, in ms.
    var releaseDelay = 0

    enum Announce { case arp, route, anycast }
    /// `announce: route` or `election: none`: host addresses on `lo`.
    var routed: Bool { announce != .arp }
}

public final class DaemonScenario {
    public let seed: UInt64
    let world: SimWorld
    var nodes: [DaemonNode] = []
    var instances: [InstanceSpec] = []
    var syncGroup = false
    let directory: String
    public private(set) var trace: [String] = []
    public internal(set) var stats = DaemonSimulationStats()
    /// Every notify hook started, on every host: "r<host> <instance> <state>".
    public var hookLog: [String] {
        world.hosts.flatMap { host in host.hooks.map { "r\(host.id) \($0.instance) \($0.state)" } }
    }

    /// The first broken invariant found in the middle of a daemon's call (invariant 6).
    var violation: String?
    /// Master_Down_Timer expiries withdrawn by the drain, per daemon life, as last seen.
    var withdrawnByLife: [ObjectIdentifier: Int] = [:]
    let drainBeforeExpiry: Bool

    /// `forgetAddressRemoval`: a planted bug in the plane, for the checker's own test.
    /// `drainBeforeExpiry: false` turns the daemon's rule off, for the same purpose.
    public init(seed: UInt64, forgetAddressRemoval: Bool = false, drainBeforeExpiry: Bool = true) {
        self.seed = seed
        self.drainBeforeExpiry = drainBeforeExpiry
        world = SimWorld(seed: seed)
        world.forgetAddressRemoval = forgetAddressRemoval
        directory = NSTemporaryDirectory() + "vipd-dsim-\(getpid())-\(seed)-\(UInt32.random(in: 0...UInt32.max))"
    }

    var random: SimRandom {
        get { world.random }
        set { world.random = newValue }
    }

    func log(_ line: String) { trace.append("\(Double(world.now / 1_000_000) / 1000) \(line)") }

    func fail(_ message: String) -> DaemonSimulationFailure {
        DaemonSimulationFailure(seed: seed, message: message, trace: trace)
    }

    // MARK: Configuration

    func generate() {
        let hostCount = random.int(2...3)
        let rpFilterAll = random.pick([0, 0, 1])
        for id in 1...hostCount {
            let host = SimHost(id: id, world: world, rpFilterAll: rpFilterAll)
            world.hosts.append(host)
            let node = DaemonNode(host: host, configPath: "\(directory)/r\(id).yaml")
            node.drainBeforeExpiry = drainBeforeExpiry
            node.observer = { [unowned self, unowned node] line in self.checkTakeover(node, line) }
            nodes.append(node)
        }
        for i in 1...random.int(1...2) {
            var addresses: [String] = []
            switch random.int(0...2) {
            case 0: addresses = ["192.0.2.\(100 + i)/24"]
            case 1: addresses = ["192.0.2.\(100 + i)/24", "2001:db8::\(100 + i)/64"]
            default: addresses = ["2001:db8::\(100 + i)/64"]
            }
            let priorities = (0..<hostCount).map { _ in random.chance(0.2) ? 100 : random.int(1...254) }
            instances.append(InstanceSpec(
                name: "v\(i)", vrid: 10 + i, addresses: addresses, interval: random.pick([20, 50, 100, 200]),
                virtualMAC: random.chance(0.35), preempt: random.chance(0.8), manual: random.chance(0.15),
                unicast: false,
                trackInterfaceWeight: random.chance(0.3) ? random.pick([-60, 0]) : nil,
                script: random.chance(0.3) ? (random.pick([-60, 0]), random.int(1...2), random.int(1...2)) : nil,
                priorities: priorities))
            instances[i - 1].unicast = addresses.count == 1 && addresses[0].hasPrefix("192.") && random.chance(0.4)
            chooseAnnouncement(&instances[i - 1], index: i)
        }
        syncGroup = instances.count == 2 && random.chance(0.4) && instances.allSatisfy { $0.announce != .anycast }
    }

    func yaml(host: Int) -> String {
        var text = "node: r\(host)\ncontrol_socket: \(directory)/r\(host).sock\nshutdown_timeout: 3s\nlog_level: info\ninstances:\n"
        for spec in instances {
            if spec.announce == .anycast {
                text += anycastYAML(spec)
                continue
            }
            text += """
              - name: \(spec.name)
                interface: eth0
                vrid: \(spec.vrid)
                priority: \(spec.priorities[host - 1])
                advert_interval: \(spec.interval)ms
                preempt: \(spec.preempt)
                takeover: \(spec.manual ? "manual" : "auto")
                addresses: [\(spec.addresses.map { "\"\($0)\"" }.joined(separator: ", "))]
                virtual_mac: \(spec.virtualMAC)
                notify: /usr/local/bin/notify

            """
            if spec.announce == .route {
                text += "    announce: route\n    route: { device: lo, release_delay: \(spec.releaseDelay)ms }\n"
            }
            if spec.unicast {
                let peers = nodes.map(\.host.id).filter { $0 != host }.map { "192.0.2.\(10 + $0)" }
                text += "    unicast: { source: 192.0.2.\(10 + host), peers: [\(peers.joined(separator: ", "))] }\n"
            }
            var track: [String] = []
            if let weight = spec.trackInterfaceWeight { track.append("      interfaces: [ { name: eth1, weight: \(weight) } ]\n") }
            if let script = spec.script {
                track.append("      scripts: [ { run: \"/usr/local/bin/check-\(spec.name)\", interval: 100ms, timeout: 50ms, weight: \(script.weight), rise: \(script.rise), fall: \(script.fall) } ]\n")
            }
            if !track.isEmpty { text += "    track:\n" + track.joined() }
        }
        if syncGroup { text += "sync_groups: [ { name: g, instances: [\(instances.map(\.name).joined(separator: ", "))] } ]\n" }
        return text
    }

    func writeConfigs() throws {
        for (k, node) in nodes.enumerated() {
            try yaml(host: k + 1).write(toFile: node.configPath, atomically: true, encoding: .utf8)
        }
    }

    // MARK: Running

    /// Runs the whole scenario; throws the first broken invariant.
    public func run() throws(DaemonSimulationFailure) -> DaemonSimulationStats {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            generate()
            try writeConfigs()
        } catch {
            throw fail("setup: \(error)")
        }
        log("config: \(instances.map { "\($0.name) \($0.addresses) \($0.interval)ms vmac=\($0.virtualMAC) prio=\($0.priorities)\($0.unicast ? " unicast" : "") \($0.announce)\($0.announce == .route ? " release \($0.releaseDelay)ms" : "")" }) sync=\(syncGroup)")
        for node in nodes { try startNode(node) }
        try settle()
        for _ in 0..<random.int(2...5) {
            stats.phases += 1
            try chaos(duration: Int64(random.int(500...2000)) * 1_000_000)
            try settle()
        }
        // The end: every daemon stops gracefully and must leave its host as it found it.
        for node in nodes { stopNode(node) }
        try advance(4_000_000_000)
        for node in nodes { try checkStopped(node) }
        stats.seeds = 1
        stats.unicastInstances = instances.filter(\.unicast).count
        stats.virtualMACInstances = instances.filter(\.virtualMAC).count
        stats.unicastVirtualMACInstances = instances.filter { $0.unicast && $0.virtualMAC }.count
        stats.virtualNanoseconds = world.now
        stats.hooks = world.hosts.reduce(0) { $0 + $1.hooks.count }
        stats.coalescedHooks = world.hosts.reduce(0) { $0 + $1.hooks.reduce(0) { $0 + $1.folded } }
        stats.withdrawnExpiries = withdrawnByLife.values.reduce(0, +)
        stats.routedInstances = instances.filter { $0.announce == .route }.count
        stats.anycastInstances = instances.filter { $0.announce == .anycast }.count
        return stats
    }

    func startNode(_ node: DaemonNode) throws(DaemonSimulationFailure) {
        do { try node.start() } catch { throw fail("r\(node.host.id) failed to start: \(error)") }
        log("r\(node.host.id) started")
    }

    func stopNode(_ node: DaemonNode) {
        guard node.running, node.life?.stopRequested == false else { return }
        node.requestStop()
        stats.stops += 1
        log("r\(node.host.id) SIGTERM")
    }

    /// Runs the world for `duration`, checking invariant 1's cheap half and finished stops as it goes.
    func advance(_ duration: Int64) throws(DaemonSimulationFailure) {
        let end = world.now + duration
        while world.now < end {
            world.run(until: min(end, world.now + 100_000_000))
            if let violation { throw fail(violation) }
            for node in nodes where !node.running { try checkStopped(node) }
        }
    }

    /// Calm: no loss, links up, scripts healthy, stopped daemons started again; then the checks.
    func settle() throws(DaemonSimulationFailure) {
        world.loss = 0
        world.maxDelay = 1_000_000
        for node in nodes {
            node.host.load = nil
            node.host.setCarrier(SimHost.lan, true)
            node.host.setCarrier(SimHost.uplink, true)
            for key in node.host.scripts.keys { node.host.scripts[key] = true }
        }
        try advance(1_000_000_000)
        for node in nodes where !node.running { try startNode(node) }
        let slowest = Int64(instances.map(\.interval).max() ?? 100) * 1_000_000
        try advance(max(1_000_000_000, 6 * slowest))
        // The operator answers what waits for approval, then everything settles again.
        for node in nodes { approvePending(node) }
        try advance(max(1_500_000_000, 8 * slowest))
        try checkSettled()
    }

    /// `vipd approve` for every instance with a takeover pending on this host.
    func approvePending(_ node: DaemonNode) {
        guard let status = node.status() else { return }
        for instance in status.instances where instance.routers.contains(where: \.takeoverPending) {
            let response = node.life!.daemon.handleControl(ControlRequest(command: .approve, instance: instance.name))
            stats.approvals += 1
            log("r\(node.host.id) approve \(instance.name): \(response.ok)")
        }
    }

    func chaos(duration: Int64) throws(DaemonSimulationFailure) {
        world.loss = random.pick([0, 0.05, 0.3])
        world.maxDelay = random.pick([1_000_000, 5_000_000, 30_000_000])
        for node in nodes where random.chance(0.3) { starve(node) }
        let end = world.now + duration
        while world.now < end {
            try advance(Int64(random.int(50...400)) * 1_000_000)
            let node = random.pick(nodes)
            let host = node.host
            switch random.int(0...9) {
            case 0:
                if node.running {
                    if let status = node.status() { noteWithdrawnExpiries(node, status) }
                    node.crash()
                    stats.crashes += 1
                    log("r\(host.id) crashed holding \(host.addresses.filter { isVIP($0.prefix) }.map(\.prefix))")
                } else {
                    try startNode(node)
                }
            case 1:
                stopNode(node)
            case 2:
                try reload(node)
            case 3:
                if let status = node.status(), let master = status.instances.first(where: { instance in
                    instance.state == "Master" && instances.contains { $0.name == instance.name && $0.announce != .anycast }
                }) {
                    let response = node.life!.daemon.handleControl(ControlRequest(command: .handover, instance: master.name, holdSeconds: 1))
                    stats.handovers += 1
                    log("r\(host.id) handover \(master.name): \(response.ok)")
                }
            case 4:
                if let vip = host.addresses.first(where: { isVIP($0.prefix) }) {
                    host.removeAddress(vip.prefix, vip.interfaceIndex)
                    log("r\(host.id) \(vip.prefix) removed by someone else")
                }
            case 5:
                let up = !(host.links[SimHost.lan]?.hasCarrier ?? true)
                host.setCarrier(SimHost.lan, up)
                log("r\(host.id) eth0 carrier \(up ? "up" : "down")")
            case 6:
                let up = !(host.links[SimHost.uplink]?.hasCarrier ?? true)
                host.setCarrier(SimHost.uplink, up)
                log("r\(host.id) eth1 carrier \(up ? "up" : "down")")
            case 8:
                approvePending(node)
            case 7:
                for spec in instances where spec.script != nil {
                    let key = "/usr/local/bin/check-\(spec.name)"
                    host.scripts[key] = !(host.scripts[key] ?? true)
                    log("r\(host.id) \(key) \(host.scripts[key]! ? "passes" : "fails")")
                }
            case 9:
                if host.load == nil { starve(node) } else {
                    host.load = nil
                    log("r\(host.id) gets the CPU again")
                }
            default:
                break
            }
        }
    }

    /// The node's loop runs late (see `SimHost.load`) until the next settle or case 9 of `chaos`.
    func starve(_ node: DaemonNode) {
        let load = SimLoad(timerLateness: Int64(random.pick([1, 5, 20])) * 1_000_000,
                           readLateness: Int64(random.pick([10, 50, 150, 400])) * 1_000_000,
                           readBatch: random.pick([1, 4, 16]))
        node.host.load = load
        stats.starvations += 1
        log("r\(node.host.id) starved: timers up to \(load.timerLateness / 1_000_000) ms late, packets read up to \(load.readLateness / 1_000_000) ms late, \(load.readBatch) per read")
    }

    func isVIP(_ prefix: AddressPrefix) -> Bool {
        instances.contains { $0.addresses.contains(prefix.description) }
    }
}

// MARK: Routed VIPs and anycast

extension DaemonScenario {
    /// Makes some instances routed (`announce: route`) or anycast (`election: none`), with host
    /// addresses. Drawn from a generator of its own, so that the rest of a seed's scenario (and
    /// what earlier seeds found) stays the same.
    func chooseAnnouncement(_ spec: inout InstanceSpec, index: Int) {
        var modes = SimRandom(seed: seed ^ 0x524F_5554_4544)
        for _ in 0..<index { _ = modes.next() }
        spec.announce = modes.pick([.arp, .arp, .arp, .route, .route, .anycast])
        guard spec.routed else { return }
        spec.addresses = spec.addresses.map { $0.contains(":") ? "2001:db8:1::\(100 + index)/128" : "203.0.113.\(100 + index)/32" }
        spec.virtualMAC = false
        spec.releaseDelay = modes.pick([0, 50, 300])
        if spec.announce == .anycast {
            spec.unicast = false
            spec.manual = false
            spec.trackInterfaceWeight = spec.trackInterfaceWeight.map { _ in 0 }
            spec.script = spec.script.map { (0, $0.rise, $0.fall) }
        }
    }

    /// An anycast instance: no election settings (the loader refuses them), tracking with weight 0.
    func anycastYAML(_ spec: InstanceSpec) -> String {
        var text = """
              - name: \(spec.name)
                interface: eth0
                election: none
                announce: route
                addresses: [\(spec.addresses.map { "\"\($0)\"" }.joined(separator: ", "))]
                notify: /usr/local/bin/notify

            """
        var track: [String] = []
        if spec.trackInterfaceWeight != nil { track.append("      interfaces: [ { name: eth1 } ]\n") }
        if let script = spec.script {
            track.append("      scripts: [ { run: \"/usr/local/bin/check-\(spec.name)\", interval: 100ms, timeout: 50ms, rise: \(script.rise), fall: \(script.fall) } ]\n")
        }
        if !track.isEmpty { text += "    track:\n" + track.joined() }
        return text
    }
}
