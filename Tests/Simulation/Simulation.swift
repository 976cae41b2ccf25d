// Deterministic simulation of vipd's state machines (TigerBeetle VOPR style).
//
// N nodes share one virtual LAN and run one `Router` per virtual router (VRID). A virtual clock
// and an event queue drive everything; a seeded PRNG decides the configuration, packet loss, delay
// and jitter (reordering follows), duplicates, partitions (symmetric, one-way, splits), crashes
// (addresses stay on the interface until the node restarts and cleans up, like a real crash),
// per-sender ordering (FIFO per sender→receiver like a LAN segment; lifted in some chaos phases),
// restarts, tracking priority changes, reloads, link and tracked faults, shutdowns, planned
// handovers and operator approvals for manual takeover. Each node has its own clock origin and timer latency.
//
// A run alternates chaos phases with calm phases (network healed, lossless, no faults). Invariants:
//  (A) every step: a live node's interface holds the addresses iff its Router holds them, and only
//      a Master (possibly releasing) holds them; actions are consistent (no double add/remove, no
//      drops in a consistent configuration, a fired timer moves the deadline forward).
//  (B) settled (calm for the settle window): per VRID exactly one Master among the live routers,
//      it is the only holder, it is not releasing, and no candidate that would preempt (preempt on
//      or owner, no handover hold) has a higher effective priority; no candidates → nobody holds.
//      And nothing changes state during the check window.
//  (C) a planned handover or shutdown on a lossless stable network never leaves an instant without
//      a holder (when another candidate exists).
//  (D) `auth_hmac` (SimulationAuth.swift): some virtual routers sign their adverts, which then go
//      over the wire as bytes through the codec and `AdvertisementReceiver`; a genuine advert is
//      never refused except as a duplicate or reordered copy (`hmac_replayed`), and where the group
//      uses `enforce`, an adversary's forged and replayed adverts are always refused, so it never
//      moves the Master ((A)–(C) keep holding with it active).

import VRRP
import VRRPNode

public struct SimulationFailure: Error, Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var step: Int
    public var time: Int64
    public var message: String
    public var setup: [String]
    public var trace: [String]

    public var description: String {
        var text = "simulation seed \(seed) failed at step \(step), t=\(Double(time) / 1e6) ms: \(message)\n"
        text += "setup:\n" + setup.map { "  " + $0 }.joined(separator: "\n") + "\n"
        text += "last \(trace.count) events:\n" + trace.map { "  " + $0 }.joined(separator: "\n") + "\n"
        text += "replay: VIPD_SIM_SEED=\(seed) swift test --filter '^SimulationTests'\n"
        text += "        VIPD_SIM_SEED=\(seed) swift test -c release --filter '^SimulationTests'"
        return text
    }
}

public struct SimulationStats: Sendable, Hashable {
    public var seeds = 0
    public var steps = 0
    public var transitions = 0
    public var advertisements = 0
    /// Steps at which the settled-state invariant (B) was checked.
    public var settledChecks = 0
    /// Steps at which the no-gap handover invariant (C) was checked.
    public var handoverChecks = 0
    public var virtualNanoseconds: Int64 = 0
    /// Adverts that went over the wire signed (`auth_hmac`), and genuine ones refused as duplicates.
    public var signedAdvertisements = 0
    public var duplicatesRefused = 0
    /// Adversary adverts delivered to a node (all refused, or the run fails).
    public var attacksRefused = 0

    public init() {}

    public mutating func add(_ other: SimulationStats) {
        seeds += other.seeds; steps += other.steps; transitions += other.transitions
        advertisements += other.advertisements; settledChecks += other.settledChecks
        handoverChecks += other.handoverChecks; virtualNanoseconds += other.virtualNanoseconds
        signedAdvertisements += other.signedAdvertisements; duplicatesRefused += other.duplicatesRefused
        attacksRefused += other.attacksRefused
    }
}

/// Deliberate defects, to prove the invariants can fail.
public enum SimulationSabotage: Sendable, Hashable {
    case none
    /// The data plane ignores `.removeAddresses` on node 0.
    case ignoreRemoveAddresses
    /// The network drops every advertisement, even in calm phases.
    case dropAllAdvertisements
    /// `auth_hmac` receivers accept unsigned adverts although their group enforces.
    case acceptUnsigned
}

public struct Simulation {
    // MARK: Setup

    struct VirtualRouterSetup {
        var vrid: UInt8
        var version: VRRPVersion
        var family: AddressFamily
        /// The shortest interval a node may be configured with.
        var interval: AdvertInterval
        /// The longest: v3 nodes may differ (Backups learn the Master's interval, RFC 9568 §6.4.2);
        /// v2 nodes must agree (RFC 3768 §7.1).
        var longestInterval: AdvertInterval
        var authentication: Authentication
        /// `auth_hmac` shared by the group (each node's mode and active key may differ), or nil.
        var auth: AuthHMACSettings?
        /// Every node enforces, and the adversary attacks this virtual router.
        var attacked = false
    }

    struct Node {
        var primary4: IPAddress
        var alive = true
        var linkUp = true
        var incarnation = 0
        var clockOffset: Int64
        var timerLatencyMax: Int64
        var configs: [RouterConfig]
        var routers: [Router]
        var installed: [Bool]
        var scheduled: [Int64?]
        var trackFault: [Bool]
        var priorityOverride: [UInt8?]
        /// Per virtual router: this node's `auth_hmac` (mode, active key), its receiver and signer
        /// (reset by a restart, like a new daemon's).
        var auth: [AuthHMACSettings?] = []
        var receivers: [AdvertisementReceiver] = []
        var signers: [AdvertisementSigner] = []
        /// Wall-clock error against UTC (NTP-synchronised: well under a second).
        var wallSkew: Int64 = 0
    }

    enum Recovery {
        case restart(Int)
        case linkUp(Int)
        case trackClear(Int, Int)
        case start(Int, Int)
        case cancelHandover(Int, Int)
        case healPartitions
    }

    enum Event {
        case startNode(Int)
        case deliver(node: Int, vr: Int, advert: Advertisement, source: IPAddress, sender: Int)
        /// An advert as bytes (virtual routers with `auth_hmac`); `attack` when the adversary sent it.
        case deliverBytes(node: Int, vr: Int, bytes: [UInt8], source: IPAddress, sender: Int, attack: Attack?)
        case attack
        case timer(node: Int, vr: Int, incarnation: Int, deadline: Int64)
        case chaos
        case recover(Recovery, phase: Int)
        case approve(node: Int, vr: Int, incarnation: Int)
        case calmStart
        case planned
        case calmEnd
    }

    enum TraceEntry {
        case note(String)
        case deliver(node: Int, vr: Int, from: Int, priority: UInt8)
        case timeout(node: Int, vr: Int)
        case transition(node: Int, vr: Int, RouterState, RouterState, TransitionReason)
        case send(node: Int, vr: Int, priority: UInt8)
        case addresses(node: Int, vr: Int, add: Bool)
    }

    public let seed: UInt64
    let sabotage: SimulationSabotage
    var random: SimRandom
    var queue = EventQueue<Event>()
    var now: Int64 = 0
    var step = 0
    var stats = SimulationStats()
    var vrs: [VirtualRouterSetup] = []
    var nodes: [Node] = []
    var setupLines: [String] = []

    // Network.
    var blocked: [[Bool]] = []
    var lossRate = 0.0
    var duplicateRate = 0.0
    var baseDelay: Int64 = 0
    var jitter: Int64 = 0
    var maxDelay: Int64 = 0
    /// Packets from one sender reach one receiver in order, as on a real LAN segment. Chaos phases
    /// sometimes lift this to stress the state machines with stale packets.
    var fifo = true
    var lastDelivery: [[Int64]] = []

    // auth_hmac and the adversary: their own random stream, so that seeds without them replay as before.
    var authRandom: SimRandom
    /// Per virtual router, the signed adverts the adversary captured (recent ones, and a sample of old ones).
    var captures: [[Capture]] = []
    var oldCaptures: [[Capture]] = []

    // Phases.
    var phase = 0
    var rounds = 1
    var calm = false
    var checkFrom: Int64 = .max
    var checkUntil: Int64 = .min
    var transitionsAtCheckStart: Int?
    var gapCheckVR: Int?
    var minInterval: Int64 = 0
    var maxInterval: Int64 = 0
    var settleWindow: Int64 = 0
    var checkWindow: Int64 = 0
    var approvalDelayMax: Int64 = 0

    // Trace ring.
    var trace: [(Int64, TraceEntry)] = []
    var traceNext = 0
    static let traceLength = 50

    public init(seed: UInt64, sabotage: SimulationSabotage = .none) {
        self.seed = seed
        self.sabotage = sabotage
        random = SimRandom(seed: seed)
        authRandom = SimRandom(seed: seed ^ 0xA17E_5EED_0000_0001)
        configure()
        configureAuth()
    }

    static func ns(_ d: Duration) -> Int64 { d.nanoseconds }

    mutating func configure() {
        let nodeCount = random.int(1...3)
        let vrCount = random.int(1...3)
        // One time scale per run so the virtual routers' intervals are comparable.
        let baseCs = random.pick([1, 2, 3, 10, 30, 100, 100, 1365])
        for index in 0..<vrCount {
            let version: VRRPVersion = baseCs >= 100 && random.chance(0.4) ? .v2 : .v3
            let family: AddressFamily = version == .v3 && random.chance(0.3) ? .ipv6 : .ipv4
            let interval = version == .v2 ? AdvertInterval(seconds: UInt8(random.int(1...3)))
                                          : AdvertInterval(centiseconds: UInt16(min(4095, baseCs * random.int(1...3))))
            let auth: Authentication = version == .v2 && random.chance(0.5) ? .password("sim\(index)") : .none
            let longest = version == .v3 && random.chance(0.5)
                ? AdvertInterval(centiseconds: min(4095, interval.centiseconds * 2)) : interval
            vrs.append(VirtualRouterSetup(vrid: UInt8(index + 1) * 17, version: version, family: family,
                                          interval: interval, longestInterval: longest, authentication: auth))
        }
        minInterval = vrs.map { $0.interval.microseconds * 1_000 }.min()!
        maxInterval = vrs.map { $0.longestInterval.microseconds * 1_000 }.max()!

        for n in 0..<nodeCount {
            var configs: [RouterConfig] = []
            for setup in vrs {
                let primary: IPAddress = setup.family == .ipv4 ? IPAddress.v4(IPv4Address(192, 0, 2, UInt8(10 + n)))
                    : IPAddress.v6(IPv6Address(high: 0xfe80_0000_0000_0000, low: UInt64(10 + n)))
                let vip: AddressPrefix = setup.family == .ipv4
                    ? AddressPrefix(address: .v4(IPv4Address(198, 51, 100, setup.vrid)), prefixLength: 24)
                    : AddressPrefix(address: .v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64(setup.vrid))), prefixLength: 64)
                let priority = UInt8(random.pick([1, 50, 100, 100, 150, 200, 254, random.int(1...254)]))
                let preemptDelay: Duration = random.chance(0.7) ? .zero
                    : .nanoseconds(random.int64(0...(3 * setup.interval.microseconds * 1_000)))
                configs.append(RouterConfig(
                    version: setup.version, vrid: setup.vrid, priority: priority, advertInterval: intervalFor(setup),
                    primaryAddress: primary, addresses: [vip], preempt: random.chance(0.75), preemptDelay: preemptDelay,
                    authentication: setup.authentication, takeover: random.chance(0.1) ? .manual : .auto,
                    handoverReleaseDelay: .nanoseconds(random.int64(0...(2 * setup.interval.microseconds * 1_000)))))
            }
            nodes.append(Node(
                primary4: .v4(IPv4Address(192, 0, 2, UInt8(10 + n))),
                clockOffset: random.int64(0...(1 << 40)),
                timerLatencyMax: min(1_000_000, minInterval / 20),
                configs: configs, routers: configs.map { Router(config: $0) },
                installed: Array(repeating: false, count: vrCount), scheduled: Array(repeating: nil, count: vrCount),
                trackFault: Array(repeating: false, count: vrCount), priorityOverride: Array(repeating: nil, count: vrCount)))
        }
        // At most one address owner per virtual router, sometimes.
        for v in 0..<vrCount where random.chance(0.15) {
            let n = random.int(0...(nodeCount - 1))
            nodes[n].configs[v].priority = ProtocolConstants.ownerPriority
            nodes[n].routers[v] = Router(config: nodes[n].configs[v])
        }
        blocked = Array(repeating: Array(repeating: false, count: nodeCount), count: nodeCount)
        lastDelivery = blocked.map { $0.map { _ in 0 } }
        setNetworkQuality(calm: true)

        // Windows. Settle: a release timeout plus two Master_Down_Intervals of the slowest Backup,
        // the longest preempt delay, operator approval, release delay and network delay, with margin.
        // Bound on convergence after calm begins: the slowest Backup's Master_Down_Interval (which
        // is also a releasing Master's timeout), then preempt delay, operator approval, release
        // delay, a few intervals for adverts to cross, and network delay.
        let slowestDown = vrs.map {
            ProtocolTimers.masterDownInterval(priority: 1, masterAdvertInterval: $0.longestInterval, version: $0.version).nanoseconds
        }.max()!
        let delayBound = 2 + max(1, minInterval / 10) + max(1, minInterval / 3)
        approvalDelayMax = 2 * maxInterval
        let preemptDelayMax = 3 * maxInterval, releaseDelayMax = 2 * maxInterval
        settleWindow = slowestDown + preemptDelayMax + approvalDelayMax + releaseDelayMax + 4 * maxInterval
            + 10 * delayBound + 2 * min(1_000_000, minInterval / 20)
        checkWindow = 5 * maxInterval
        rounds = random.int(1...3)

        for (v, setup) in vrs.enumerated() {
            setupLines.append("vr\(v): vrid \(setup.vrid) \(setup.version) \(setup.family) interval \(setup.interval)"
                              + (setup.longestInterval == setup.interval ? "" : "...\(setup.longestInterval)")
                              + (setup.authentication == .none ? "" : " auth"))
        }
        for (n, node) in nodes.enumerated() {
            let routers = node.configs.enumerated().map { v, c in
                "vr\(v)[prio \(c.priority) every \(c.advertInterval)\(c.preempt ? "" : " nopreempt")\(c.preemptDelay == .zero ? "" : " delay \(c.preemptDelay.milliseconds)ms")\(c.takeover == .manual ? " manual" : "") release \(c.handoverReleaseDelay.milliseconds)ms]"
            }
            setupLines.append("node\(n) \(node.primary4): " + routers.joined(separator: " "))
        }
        setupLines.append("rounds \(rounds), settle \(settleWindow / 1_000_000) ms, check \(checkWindow / 1_000_000) ms")

        for n in 0..<nodeCount { queue.push(.startNode(n), at: random.int64(0...(2 * maxInterval))) }
        queue.push(.chaos, at: random.int64(0...maxInterval))
        queue.push(.calmStart, at: chaosLength())
    }

    mutating func intervalFor(_ setup: VirtualRouterSetup) -> AdvertInterval {
        AdvertInterval(centiseconds: UInt16(random.int(Int(setup.interval.centiseconds)...Int(setup.longestInterval.centiseconds))))
    }

    mutating func chaosLength() -> Int64 { now + random.int64((5 * maxInterval)...(40 * maxInterval)) }

    mutating func setNetworkQuality(calm: Bool) {
        lossRate = calm ? 0 : random.pick([0, 0, 0.01, 0.1, 0.3, 0.6])
        duplicateRate = random.pick([0, 0, 0.05, 0.2])
        baseDelay = random.int64(0...max(1, minInterval / 10))
        jitter = random.int64(0...max(1, minInterval / 3))
        maxDelay = max(maxDelay, baseDelay + jitter)
        fifo = calm || random.chance(0.5)
    }

    // MARK: Running

    /// Runs the whole scenario. Throws the first invariant violation.
    public mutating func run() throws(SimulationFailure) -> SimulationStats {
        while let (time, event) = queue.pop() {
            now = time
            step += 1
            if case .calmEnd = event {
                if endCalm() { break }
                continue
            }
            try process(event)
            try checkSettled()
        }
        stats.seeds = 1
        stats.steps = step
        stats.virtualNanoseconds = now
        return stats
    }

    func local(_ n: Int) -> Instant { Instant(nanoseconds: now &+ nodes[n].clockOffset) }

    mutating func process(_ event: Event) throws(SimulationFailure) {
        switch event {
        case .startNode(let n):
            try startNode(n)
        case .deliver(let n, let v, let advert, let source, let sender):
            guard nodes[n].alive, nodes[n].linkUp else { return }
            record(.deliver(node: n, vr: v, from: sender, priority: advert.priority))
            try feed(n, v, .advertisement(advert, source: source))
        case .deliverBytes(let n, let v, let bytes, let source, let sender, let attack):
            guard nodes[n].alive, nodes[n].linkUp else { return }
            try receiveBytes(n, v, bytes, source: source, sender: sender, attack: attack)
        case .attack:
            attack()
            queue.push(.attack, at: now + authRandom.int64(1...max(1, maxInterval)))
        case .timer(let n, let v, let incarnation, let deadline):
            guard nodes[n].alive, nodes[n].incarnation == incarnation, nodes[n].scheduled[v] == deadline else { return }
            nodes[n].scheduled[v] = nil
            record(.timeout(node: n, vr: v))
            try feed(n, v, .timeout)
            if let next = nodes[n].routers[v].nextDeadline, next <= local(n) {
                throw failure("node\(n) vr\(v): .timeout left a deadline in the past (\(next) ≤ \(local(n)))")
            }
        case .chaos:
            guard !calm else { return }
            try chaos()
            queue.push(.chaos, at: now + random.int64(0...(2 * maxInterval)))
        case .recover(let recovery, let inPhase):
            guard inPhase == phase, !calm else { return }
            try recover(recovery)
        case .approve(let n, let v, let incarnation):
            guard nodes[n].alive, nodes[n].incarnation == incarnation else { return }
            record(.note("operator approves takeover node\(n) vr\(v)"))
            try feed(n, v, .approveTakeover)
        case .calmStart:
            try beginCalm()
        case .planned:
            try plannedRelease()
        case .calmEnd:
            return
        }
    }

    /// Feeds one input to a live node's router, performs the actions, re-arms its timer event.
    mutating func feed(_ n: Int, _ v: Int, _ input: RouterInput) throws(SimulationFailure) {
        let before = nodes[n].routers[v].state
        let actions = nodes[n].routers[v].handle(input, now: local(n))
        try perform(actions, n, v, stateBefore: before)
    }

    mutating func perform(_ actions: [RouterAction], _ n: Int, _ v: Int, stateBefore: RouterState) throws(SimulationFailure) {
        var state = stateBefore
        for action in actions {
            switch action {
            case .sendAdvertisement(let priority):
                send(from: n, v, priority: priority)
            case .addAddresses:
                guard !nodes[n].installed[v] else { throw failure("node\(n) vr\(v): addAddresses while already holding") }
                nodes[n].installed[v] = true
                record(.addresses(node: n, vr: v, add: true))
            case .removeAddresses:
                guard nodes[n].installed[v] else { throw failure("node\(n) vr\(v): removeAddresses while not holding") }
                if !(sabotage == .ignoreRemoveAddresses && n == 0) { nodes[n].installed[v] = false }
                record(.addresses(node: n, vr: v, add: false))
            case .announce:
                break
            case .stateChanged(let from, let to, let reason):
                guard from == state, from != to else {
                    throw failure("node\(n) vr\(v): stateChanged \(from)→\(to) but the state was \(state)")
                }
                state = to
                stats.transitions += 1
                record(.transition(node: n, vr: v, from, to, reason))
            case .takeoverPending(let pending):
                record(.note("node\(n) vr\(v) takeover pending \(pending)"))
                if pending {
                    queue.push(.approve(node: n, vr: v, incarnation: nodes[n].incarnation),
                               at: now + random.int64(0...approvalDelayMax))
                }
            case .dropped(let reason):
                throw failure("node\(n) vr\(v): dropped a consistent advertisement (\(reason))")
            }
        }
        let router = nodes[n].routers[v]
        guard router.state == state else { throw failure("node\(n) vr\(v): state \(router.state) but actions said \(state)") }
        // (A) the interface and the Router agree, and only a Master holds.
        if nodes[n].installed[v] != router.holdsAddresses {
            throw failure("node\(n) vr\(v): interface holds=\(nodes[n].installed[v]) but Router.holdsAddresses=\(router.holdsAddresses)")
        }
        if router.holdsAddresses && router.state != .master {
            throw failure("node\(n) vr\(v): holds addresses in \(router.state)")
        }
        if router.isReleasing && router.state != .master { throw failure("node\(n) vr\(v): releasing in \(router.state)") }
        schedule(n, v)
    }

    mutating func schedule(_ n: Int, _ v: Int) {
        guard let deadline = nodes[n].routers[v].nextDeadline else {
            nodes[n].scheduled[v] = nil
            return
        }
        let global = deadline.nanoseconds &- nodes[n].clockOffset
        guard nodes[n].scheduled[v] != global else { return }
        nodes[n].scheduled[v] = global
        // Like the daemon's loop, fire a Master's advertisement timer early within its slack half
        // of the time (when the loop would be awake for another router's timer).
        let slack = nodes[n].routers[v].nextDeadlineSlack.nanoseconds
        let early = slack > 0 && random.chance(0.5) ? random.int64(0...slack) : 0
        let fireAt = max(global &- early, now) + random.int64(0...nodes[n].timerLatencyMax)
        queue.push(.timer(node: n, vr: v, incarnation: nodes[n].incarnation, deadline: global), at: fireAt)
    }

    mutating func send(from n: Int, _ v: Int, priority: UInt8) {
        stats.advertisements += 1
        record(.send(node: n, vr: v, priority: priority))
        guard nodes[n].linkUp else { return }
        let config = nodes[n].configs[v]
        let advert = Advertisement(version: config.version, vrid: config.vrid, priority: priority,
                                   interval: config.advertInterval, addresses: config.addresses.map(\.address),
                                   authentication: config.authentication)
        let wire = vrs[v].auth == nil ? nil : signedBytes(from: n, v, advert)
        for to in nodes.indices where to != n && !blocked[n][to] {
            if sabotage == .dropAllAdvertisements || random.chance(lossRate) { continue }
            let copies = random.chance(duplicateRate) ? 2 : 1
            for _ in 0..<copies {
                var at = now + baseDelay + random.int64(0...max(0, jitter))
                if fifo { at = max(at, lastDelivery[n][to]) }
                lastDelivery[n][to] = max(lastDelivery[n][to], at)
                if let wire {
                    queue.push(.deliverBytes(node: to, vr: v, bytes: wire, source: config.primaryAddress, sender: n, attack: nil), at: at)
                } else {
                    queue.push(.deliver(node: to, vr: v, advert: advert, source: config.primaryAddress, sender: n), at: at)
                }
            }
        }
    }

    // MARK: Node lifecycle and environment

    mutating func startNode(_ n: Int) throws(SimulationFailure) {
        record(.note("node\(n) starts"))
        for v in vrs.indices {
            if !nodes[n].linkUp { try feed(n, v, .fault(active: true, reason: "link", linkDown: true)) }
            if nodes[n].trackFault[v] { try feed(n, v, .fault(active: true, reason: "track")) }
            if let p = nodes[n].priorityOverride[v] { try feed(n, v, .priorityChanged(p)) }
            try feed(n, v, .start)
        }
    }

    mutating func crash(_ n: Int) {
        record(.note("node\(n) crashes (addresses stay: \(nodes[n].installed))"))
        nodes[n].alive = false
        nodes[n].incarnation += 1
        nodes[n].scheduled = Array(repeating: nil, count: vrs.count)
    }

    mutating func restart(_ n: Int) throws(SimulationFailure) {
        guard !nodes[n].alive else { return }
        // The new daemon first removes addresses a crashed predecessor left behind.
        nodes[n].alive = true
        nodes[n].incarnation += 1
        nodes[n].installed = Array(repeating: false, count: vrs.count)
        nodes[n].routers = nodes[n].configs.map { Router(config: $0) }
        resetAuthState(n)
        try startNode(n)
    }

    mutating func setLink(_ n: Int, up: Bool) throws(SimulationFailure) {
        guard nodes[n].linkUp != up else { return }
        record(.note("node\(n) link \(up ? "up" : "down")"))
        nodes[n].linkUp = up
        guard nodes[n].alive else { return }
        for v in vrs.indices { try feed(n, v, .fault(active: !up, reason: "link", linkDown: !up)) }
    }

    mutating func setTrackFault(_ n: Int, _ v: Int, active: Bool) throws(SimulationFailure) {
        guard nodes[n].trackFault[v] != active else { return }
        record(.note("node\(n) vr\(v) tracked fault \(active)"))
        nodes[n].trackFault[v] = active
        if nodes[n].alive { try feed(n, v, .fault(active: active, reason: "track")) }
    }

    mutating func healPartitions() {
        record(.note("partitions healed"))
        for i in blocked.indices { for j in blocked.indices { blocked[i][j] = false } }
    }

    mutating func recover(_ recovery: Recovery) throws(SimulationFailure) {
        switch recovery {
        case .restart(let n): try restart(n)
        case .linkUp(let n): try setLink(n, up: true)
        case .trackClear(let n, let v): try setTrackFault(n, v, active: false)
        case .start(let n, let v):
            guard nodes[n].alive else { return }
            record(.note("node\(n) vr\(v) started again"))
            try feed(n, v, .start)
        case .cancelHandover(let n, let v):
            guard nodes[n].alive else { return }
            record(.note("node\(n) vr\(v) cancel handover"))
            try feed(n, v, .cancelHandover)
        case .healPartitions: healPartitions()
        }
    }

    mutating func later(_ recovery: Recovery, within: Int64) {
        queue.push(.recover(recovery, phase: phase), at: now + random.int64(0...within))
    }

    mutating func chaos() throws(SimulationFailure) {
        let count = nodes.count
        let n = random.int(0...(count - 1))
        let v = random.int(0...(vrs.count - 1))
        let roll = random.int(0...99)
        switch roll {
        case 0..<12 where count > 1:
            var other = random.int(0...(count - 1))
            if other == n { other = (n + 1) % count }
            switch random.int(0...2) {
            case 0:
                record(.note("partition: node\(n) isolated"))
                for j in 0..<count where j != n { blocked[n][j] = true; blocked[j][n] = true }
            case 1:
                record(.note("partition: node\(n) ↮ node\(other)"))
                blocked[n][other] = true; blocked[other][n] = true
            default:
                record(.note("partition: node\(n) → node\(other) one-way"))
                blocked[n][other] = true
            }
            later(.healPartitions, within: 10 * maxInterval)
        case 12..<20:
            setNetworkQuality(calm: false)
            record(.note("network: loss \(lossRate) dup \(duplicateRate) delay \(baseDelay)+\(jitter) ns fifo \(fifo)"))
        case 20..<27:
            guard nodes[n].alive else { return }
            crash(n)
            if random.chance(0.8) { later(.restart(n), within: 10 * maxInterval) }
        case 27..<34:
            try setLink(n, up: false)
            later(.linkUp(n), within: 10 * maxInterval)
        case 34..<44:
            try setTrackFault(n, v, active: true)
            later(.trackClear(n, v), within: 10 * maxInterval)
        case 44..<60:
            let priority: UInt8? = random.chance(0.3) ? nil : UInt8(random.int(1...254))
            nodes[n].priorityOverride[v] = priority
            let effective = priority ?? nodes[n].configs[v].priority
            record(.note("node\(n) vr\(v) tracking priority \(effective)"))
            if nodes[n].alive { try feed(n, v, .priorityChanged(effective)) }
        case 60..<68:
            guard nodes[n].alive else { return }
            record(.note("node\(n) vr\(v) shutdown"))
            try feed(n, v, .shutdown)
            later(.start(n, v), within: 10 * maxInterval)
        case 68..<80:
            guard let m = nodes.indices.first(where: { nodes[$0].alive && nodes[$0].routers[v].state == .master }) else { return }
            let until: Instant? = random.chance(0.5) ? nil : Instant(nanoseconds: local(m).nanoseconds + random.int64(0...(10 * maxInterval)))
            record(.note("node\(m) vr\(v) handover (hold until \(until.map { "\($0.nanoseconds - nodes[m].clockOffset)" } ?? "cancel"))"))
            try feed(m, v, .handover(holdUntil: until))
            if random.chance(0.5) { later(.cancelHandover(m, v), within: 10 * maxInterval) }
        case 80..<86:
            guard nodes[n].alive else { return }
            record(.note("node\(n) vr\(v) cancel handover"))
            try feed(n, v, .cancelHandover)
        case 86..<92:
            // A reload: new priority (never a new owner), preempt and takeover mode.
            var config = nodes[n].configs[v]
            config.priority = UInt8(random.pick([50, 100, 150, 200, 254, random.int(1...254)]))
            config.preempt = random.chance(0.75)
            config.takeover = random.chance(0.1) ? .manual : .auto
            config.advertInterval = intervalFor(vrs[v])
            nodes[n].configs[v] = config
            record(.note("node\(n) vr\(v) reload: prio \(config.priority)\(config.preempt ? "" : " nopreempt") \(config.takeover) interval \(config.advertInterval)"))
            rotateKey(n, v)
            if nodes[n].alive {
                let before = nodes[n].routers[v].state
                let actions = nodes[n].routers[v].reconfigure(config, now: local(n))
                try perform(actions, n, v, stateBefore: before)
            }
        default:
            break
        }
    }

    // MARK: Calm phases and the settled invariants

    mutating func beginCalm() throws(SimulationFailure) {
        calm = true
        record(.note("calm phase \(phase) begins"))
        healPartitions()
        setNetworkQuality(calm: true)
        for n in nodes.indices {
            try setLink(n, up: true)
            for v in vrs.indices { try setTrackFault(n, v, active: false) }
            if !nodes[n].alive {
                if random.chance(0.7) { try restart(n) }
                continue
            }
            for v in vrs.indices {
                let router = nodes[n].routers[v]
                if router.state == .initialize && random.chance(0.7) {
                    record(.note("node\(n) vr\(v) started again"))
                    try feed(n, v, .start)
                }
                // Holds with a deadline end during calm; cancel them now (and some open-ended ones).
                if router.handoverHold && (router.handoverHoldUntil != nil || random.chance(0.5)) {
                    record(.note("node\(n) vr\(v) cancel handover"))
                    try feed(n, v, .cancelHandover)
                }
            }
        }
        checkFrom = now + settleWindow
        checkUntil = checkFrom + checkWindow
        transitionsAtCheckStart = nil
        queue.push(random.chance(0.6) ? .planned : .calmEnd, at: checkUntil + 1)
    }

    /// A calm phase's checks are over: start the next chaos round, or end the run.
    mutating func endCalm() -> Bool {
        calm = false
        gapCheckVR = nil
        phase += 1
        guard phase < rounds else { return true }
        record(.note("chaos phase \(phase) begins"))
        queue.push(.chaos, at: now + 1)
        queue.push(.calmStart, at: chaosLength())
        return false
    }

    mutating func plannedRelease() throws(SimulationFailure) {
        let candidates = vrs.indices.filter { v in nodes.indices.contains { isCandidate($0, v) && nodes[$0].routers[v].state == .master } }
        if let v = candidates.isEmpty ? nil : random.pick(candidates),
           let m = nodes.indices.first(where: { isCandidate($0, v) && nodes[$0].routers[v].state == .master }) {
            let handover = random.chance(0.6)
            let others = nodes.indices.contains { $0 != m && isCandidate($0, v) }
            record(.note("planned \(handover ? "handover" : "shutdown") of node\(m) vr\(v) (lossless)"))
            try feed(m, v, handover ? .handover(holdUntil: nil) : .shutdown)
            if handover || others { gapCheckVR = v }
        }
        checkFrom = now + settleWindow
        checkUntil = checkFrom + checkWindow
        transitionsAtCheckStart = nil
        queue.push(.calmEnd, at: checkUntil + 1)
    }

    func isCandidate(_ n: Int, _ v: Int) -> Bool {
        nodes[n].alive && (nodes[n].routers[v].state == .backup || nodes[n].routers[v].state == .master)
    }

    func wouldPreempt(_ router: Router) -> Bool {
        (router.config.preempt || router.config.isAddressOwner) && !router.handoverHold
    }

    mutating func checkSettled() throws(SimulationFailure) {
        guard calm else { return }
        if let v = gapCheckVR {
            // (C) no instant without a holder during a planned handover on a lossless network.
            stats.handoverChecks += 1
            if !nodes.indices.contains(where: { nodes[$0].alive && nodes[$0].installed[v] }) {
                throw failure("vr\(v): planned release left no node holding the addresses")
            }
        }
        guard now >= checkFrom, now <= checkUntil else { return }
        stats.settledChecks += 1
        for v in vrs.indices {
            let candidates = nodes.indices.filter { isCandidate($0, v) }
            let masters = nodes.indices.filter { nodes[$0].alive && nodes[$0].routers[v].state == .master }
            let holders = nodes.indices.filter { nodes[$0].alive && nodes[$0].installed[v] }
            if candidates.isEmpty {
                guard masters.isEmpty, holders.isEmpty else { throw failure("vr\(v): no candidates but masters \(masters) holders \(holders)") }
                continue
            }
            guard masters.count == 1, let m = masters.first else {
                throw failure("vr\(v): settled with \(masters.count) masters \(masters) (candidates \(candidates))")
            }
            guard holders == [m] else { throw failure("vr\(v): settled master node\(m) but holders \(holders)") }
            let master = nodes[m].routers[v]
            guard !master.isReleasing else { throw failure("vr\(v): master node\(m) still releasing after settling") }
            for c in candidates where c != m {
                let router = nodes[c].routers[v]
                if wouldPreempt(router) && router.effectivePriority > master.effectivePriority {
                    throw failure("vr\(v): node\(c) (priority \(router.effectivePriority), preempts) is Backup under master node\(m) (priority \(master.effectivePriority))")
                }
            }
        }
        if let before = transitionsAtCheckStart {
            if stats.transitions != before { throw failure("a state changed during the settled check window") }
        } else {
            transitionsAtCheckStart = stats.transitions
        }
    }

    // MARK: Trace and failures

    mutating func record(_ entry: TraceEntry) {
        if trace.count < Simulation.traceLength {
            trace.append((now, entry))
        } else {
            trace[traceNext] = (now, entry)
        }
        traceNext = (traceNext + 1) % Simulation.traceLength
    }

    func failure(_ message: String) -> SimulationFailure {
        let ordered = trace.count < Simulation.traceLength ? trace : Array(trace[traceNext...] + trace[..<traceNext])
        let lines = ordered.map { time, entry -> String in
            let at = "t=\(Double(time) / 1e6)ms "
            switch entry {
            case .note(let text): return at + text
            case .deliver(let n, let v, let from, let p): return at + "node\(n) vr\(v) ← advert prio \(p) from node\(from)"
            case .timeout(let n, let v): return at + "node\(n) vr\(v) timeout"
            case .transition(let n, let v, let from, let to, let reason): return at + "node\(n) vr\(v) \(from) → \(to) (\(reason))"
            case .send(let n, let v, let p): return at + "node\(n) vr\(v) sends prio \(p)"
            case .addresses(let n, let v, let add): return at + "node\(n) vr\(v) \(add ? "adds" : "removes") addresses"
            }
        }
        return SimulationFailure(seed: seed, step: step, time: now, message: message, setup: setupLines, trace: lines)
    }
}
