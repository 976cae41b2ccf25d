// The daemon: configuration → routers → event loop → actions carried out on the kernel.
// Everything here runs on the event loop's thread; the only other thread is the metrics server's.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import VIPDConfig
import VIPDLinux
import VIPDObservability
import VRRP

public enum DaemonError: Error, CustomStringConvertible {
    case startup(String)
    public var description: String {
        switch self { case .startup(let why): why }
    }
}

public final class Daemon {
    /// The signals the daemon handles on its loop; block them with `EventLoop.blockSignals` before
    /// starting any thread.
    public static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    let loop: EventLoop
    let children: ChildProcesses
    let configPath: String
    var config: VIPDConfiguration
    var logger: Logger
    let netlink: RouteNetlink
    let monitor: LinkMonitor
    let metrics: VIPDMetrics
    var metricsServer: MetricsHTTPServer?
    let notifier: SystemdNotifier
    var control: ControlServer?

    /// Routers in configuration order (an instance contributes one per family).
    var routers: [RouterRuntime] = [] {
        didSet { reindexRouters() }
    }
    /// Receive-path lookup: (interface, family, VRID) → router; interface index → name.
    private var routerIndex: [RouterLookupKey: RouterRuntime] = [:]
    private var interfaceNames: [Int32: String] = [:]
    var sockets: [SocketKey: VRRPSocket] = [:]
    var announcers: [Int32: Announcer] = [:]
    var hookQueues: [String: HookQueue] = [:]
    var scriptTrackers: [String: [ScriptTracker]] = [:]
    /// Macvlans we created, by name, so we delete only our own.
    var createdMacvlans: [String: Int32] = [:]
    /// Sysctl values we changed for virtual MACs, as they were before.
    var restoreSysctls: [SysctlSetting] = []
    /// `conf/all.rp_filter` has been handed to the interfaces (see keepReversePathFilteringPerInterface).
    var reversePathFilterMoved = false
    var interfaceDrops: [String: [String: Int]] = [:]
    let startedAt: Instant
    var stopping = false
    var forcedExitTimer: TimerID?
    var watchdogTimer: TimerID?
    public private(set) var exitCode: Int32 = 0

    public init(configPath: String, config: VIPDConfiguration, logger: Logger) throws {
        self.configPath = configPath
        self.config = config
        self.logger = logger
        loop = try EventLoop()
        children = ChildProcesses(loop: loop)
        netlink = try RouteNetlink()
        monitor = try LinkMonitor()
        metrics = VIPDMetrics(node: config.node, version: vipdVersion)
        notifier = SystemdNotifier()
        startedAt = loop.now()
    }

    // MARK: Lifecycle

    /// Starts everything and runs until stopped. Returns the exit code.
    public func run() throws -> Int32 {
        // Signals first: blocked before the metrics thread exists, so every thread inherits the mask.
        try loop.handleSignals(Self.handledSignals) { [unowned self] signal in self.handleSignal(signal) }
        do {
            try ProcessSettings.apply(config)
            try loop.watch(fd: monitor.fileDescriptor) { [unowned self] in self.readLinkEvents() }
            try openControlSocket()
            try startMetricsServer()
            for instance in config.instances {
                try startInstance(instance)
            }
        } catch {
            // A failed start leaves nothing behind: no socket file, no macvlan, no thread.
            finish(force: true, quiet: true)
            throw error
        }
        applyTracking()
        for runtime in routers { startRouter(runtime) }
        startWatchdog()
        tellSystemd { try $0.ready() }
        tellSystemd { try $0.status(summary()) }
        logger.info("vipd running", metadata: ["instances": "\(config.instances.count)", "config": "\(configPath)"])
        try loop.run()
        return exitCode
    }

    private func openControlSocket() throws {
        do {
            control = try ControlServer(path: config.controlSocket, loop: loop) { [unowned self] request in
                self.handleControl(request)
            }
        } catch {
            throw DaemonError.startup("\(error)")
        }
    }

    private func startMetricsServer() throws {
        guard let listen = config.metrics?.listen else { return }
        do {
            metricsServer = try MetricsHTTPServer(listen: listen, metrics: metrics)
        } catch {
            throw DaemonError.startup("metrics: \(error)")
        }
    }

    private func startWatchdog() {
        guard let interval = notifier.watchdogInterval else { return }
        let period = interval / 2
        func ping() {
            tellSystemd { try $0.watchdog() }
            watchdogTimer = loop.schedule(after: period) { ping() }
        }
        ping()
    }

    private func handleSignal(_ signal: Int32) {
        switch signal {
        case SIGHUP:
            reload()
        default:
            if stopping {
                logger.warning("second stop signal: exiting now")
                finish(force: true)
            } else {
                beginGracefulStop()
            }
        }
    }

    /// Every Master steps aside without loss (priority 0, keep addresses until the new Master is
    /// heard), then the daemon exits. Bounded by `shutdown_timeout`.
    func beginGracefulStop() {
        stopping = true
        tellSystemd { try $0.stopping() }
        logger.notice("stopping: handing over every Master", metadata: ["timeout": "\(config.shutdownTimeout)"])
        for runtime in routers { feed(runtime, .shutdown) }
        forcedExitTimer = loop.schedule(after: config.shutdownTimeout) { [unowned self] in
            self.logger.warning("shutdown_timeout reached: releasing what is left and exiting")
            self.finish(force: true)
        }
        checkStopped()
    }

    func checkStopped() {
        guard stopping else { return }
        if routers.allSatisfy({ $0.router.state == .initialize && !$0.router.holdsAddresses }) {
            finish(force: false)
        }
    }

    /// Leaves nothing behind: addresses, macvlans, control socket, children.
    func finish(force: Bool, quiet: Bool = false) {
        for runtime in routers where runtime.router.holdsAddresses {
            removeAddresses(runtime)
        }
        for runtime in routers { stopAnnouncements(runtime) }
        for (_, trackers) in scriptTrackers { trackers.forEach { $0.stop() } }
        children.killAll()
        for (name, index) in createdMacvlans {
            do { try netlink.deleteLink(index: index) } catch {
                logger.warning("could not delete macvlan \(name): \(error)")
            }
        }
        createdMacvlans.removeAll()
        for setting in restoreSysctls.reversed() {
            try? Sysctl.write(setting.components, setting.value)
        }
        restoreSysctls.removeAll()
        control?.shutdown()
        metricsServer?.stop()
        loop.stop()
        if !quiet { logger.notice(force ? "stopped (forced)" : "stopped") }
    }

    // MARK: Instances

    private func resolveInterface(_ name: String) throws -> LinkInfo {
        do { return try netlink.interface(named: name) } catch {
            throw DaemonError.startup("interface \(name): \(error)")
        }
    }

    /// Creates the routers of one instance (not yet started).
    func startInstance(_ instance: InstanceConfig) throws {
        let link = try resolveInterface(instance.interface)
        if hookQueues[instance.name] == nil {
            hookQueues[instance.name] = HookQueue(children: children) { [unowned self] invocation, outcome in
                self.logger.warning("notify hook \(invocation.arguments.first ?? "") \(outcome)",
                                     metadata: ["instance": "\(instance.name)"])
                self.metrics.hookFailure(instance: instance.name)
            }
        }
        for family in instance.families {
            var addressIndex = link.index
            var addressName = link.name
            var mac = link.mac
            if instance.virtualMAC {
                let vmac = VirtualMAC.address(vrid: instance.vrid, family: family)
                // One macvlan per family: the IPv4 and IPv6 virtual MACs differ (RFC 9568 §7.3).
                let name = family == .ipv4 ? VirtualMAC.defaultInterfaceName(vrid: instance.vrid) : "vrrp6.\(instance.vrid)"
                addressIndex = try ensureMacvlan(name: name, parent: link, mac: vmac)
                addressName = name
                mac = vmac
            }
            // Crash leftovers: a previous run may have died holding the addresses. The address
            // owner's addresses are its own and stay.
            if instance.priority != ProtocolConstants.ownerPriority {
                for prefix in instance.addresses(of: family) {
                    try? netlink.removeAddress(prefix, interfaceIndex: addressIndex)
                }
            }
            if family == .ipv4 && instance.priority != ProtocolConstants.ownerPriority {
                // A VIP may be an address owner's real address (RFC 9568 §1). While we hold it, the
                // kernel drops the owner's advertisements as coming from a local source (a martian),
                // so we would never hear the owner return. accept_local lets them through.
                do { try Sysctl.write(["net", "ipv4", "conf", link.name, "accept_local"], "1") } catch {
                    logger.warning("could not set accept_local on \(link.name) (an address owner's return could go unheard): \(error)")
                }
            }
            let primary = try primaryAddress(for: instance, family: family, link: link)
            let key = RouterKey(instance: instance.name, family: family)
            let runtime = RouterRuntime(
                key: key, instance: instance,
                router: Router(config: instance.routerConfig(family: family, primaryAddress: primary ?? placeholderAddress(family))),
                interfaceIndex: link.index, interfaceName: link.name,
                addressInterfaceIndex: addressIndex, addressInterfaceName: addressName, announceMAC: mac)
            if primary == nil {
                runtime.activeFaults.insert(noAddressFault(family, link.name))
            }
            if !link.isOperational { runtime.activeFaults.insert(linkFault(link.name)) }
            if let primary { try openSocket(for: runtime, source: primary) }
            metrics.setPriority(instance: instance.name, family: family, configured: instance.priority, effective: instance.priority)
            metrics.setState(instance: instance.name, family: family, state: .initialize)
            runtime.metricHandles = metrics.routerHandles(instance: instance.name, family: family)
            routers.append(runtime)
        }
        startTrackers(instance)
    }

    /// An address that can never be a peer's, used while the interface has no usable address
    /// (the router is held in Fault until one appears).
    private func placeholderAddress(_ family: AddressFamily) -> IPAddress {
        family == .ipv4 ? .v4(IPv4Address(0)) : .v6(IPv6Address(high: 0, low: 0))
    }
    func noAddressFault(_ family: AddressFamily, _ interface: String) -> String {
        family == .ipv4 ? "no IPv4 address on \(interface)" : "no IPv6 link-local address on \(interface)"
    }
    func linkFault(_ interface: String) -> String { "link \(interface) down" }

    func primaryAddress(for instance: InstanceConfig, family: AddressFamily, link: LinkInfo) throws -> IPAddress? {
        if let unicast = instance.unicast, unicast.source.family == family { return unicast.source }
        // A VIP that may be released is no primary address. The address owner's own virtual
        // addresses are real interface addresses (RFC 9568 §1, "IPvX Address Owner"), so they are.
        let owned = instance.priority == ProtocolConstants.ownerPriority ? Set(instance.addresses.map(\.address)) : []
        let ours = Set(config.instances.flatMap { $0.addresses.map(\.address) }).subtracting(owned)
        do {
            switch family {
            case .ipv4:
                let candidates = try netlink.addresses(interfaceIndex: link.index)
                    .filter { $0.prefix.family == .ipv4 && !$0.isSecondary && !ours.contains($0.prefix.address) }
                return candidates.first.map(\.prefix.address)
            case .ipv6:
                return try netlink.linkLocalIPv6(interfaceIndex: link.index).map { .v6($0) }
            }
        } catch {
            throw DaemonError.startup("\(link.name): \(error)")
        }
    }

    private func ensureMacvlan(name: String, parent: LinkInfo, mac: [UInt8]) throws -> Int32 {
        if let existing = try? netlink.interface(named: name) {
            guard existing.mac == mac else {
                throw DaemonError.startup("interface \(name) exists with another MAC; remove it or disable virtual_mac")
            }
            createdMacvlans[name] = existing.index
            return existing.index
        }
        do {
            let family: AddressFamily = mac == VirtualMAC.address(vrid: mac[5], family: .ipv4) ? .ipv4 : .ipv6
            let index = try netlink.createMacvlan(name: name, parentIndex: parent.index, mac: mac, mode: .private)
            createdMacvlans[name] = index
            if family == .ipv4 { try keepReversePathFilteringPerInterface() }
            // Previous values come back on exit (the parent's matter; the macvlan's go with it).
            restoreSysctls += try Sysctl.apply(VirtualMAC.sysctlSettings(parent: parent.name, vmac: name, family: family))
            if family == .ipv6, let linkLocal = try netlink.linkLocalIPv6(interfaceIndex: parent.index) {
                // Adverts and NAs leave through the macvlan with the parent's link-local as source
                // (keepalived does the same); the kernel generates none for it (addrgenmode none).
                try netlink.addAddress(AddressPrefix(address: .v6(linkLocal), prefixLength: 64), interfaceIndex: index)
            }
            try netlink.setLink(index: index, up: true)
            return index
        } catch {
            throw DaemonError.startup("virtual_mac \(name) on \(parent.name): \(error)")
        }
    }

    /// With `net.ipv4.conf.all.rp_filter` above 0 a VMAC's `rp_filter=0` has no effect and clients
    /// can't reach the VIP: move `all`'s value onto `default` and every interface, then clear `all`
    /// (keepalived does the same). Once per run, before the first IPv4 VMAC; undone on exit.
    private func keepReversePathFilteringPerInterface() throws {
        guard !reversePathFilterMoved else { return }
        reversePathFilterMoved = true
        let conf = ["net", "ipv4", "conf"]
        var interfaces: [String: Int] = [:]
        for link in try netlink.links() {
            if let value = Sysctl.integer(conf + [link.name, "rp_filter"]) { interfaces[link.name] = value }
        }
        let settings = VirtualMAC.reversePathSettings(all: Sysctl.integer(conf + ["all", "rp_filter"]),
                                                      defaultValue: Sysctl.integer(conf + ["default", "rp_filter"]),
                                                      interfaces: interfaces)
        guard let last = settings.last else { return }
        restoreSysctls += try Sysctl.apply(settings)
        logger.notice("\(last.reason) (all restored on exit)", metadata: [
            "raised": "\(settings.dropLast().map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
        ])
    }

    /// The router's VRRP socket: on its interface, or on its macvlan with a virtual MAC, so that
    /// advertisements carry the virtual MAC as source (RFC 9568 §7.3) and switches keep learning it.
    func openSocket(for runtime: RouterRuntime, source: IPAddress) throws {
        let key = SocketKey(interfaceIndex: runtime.addressInterfaceIndex, family: runtime.key.family, source: source)
        runtime.socketKey = key
        defer { reindexRouters() }
        guard sockets[key] == nil else { return }
        do {
            let socket = try VRRPSocket(family: key.family, interfaceName: runtime.addressInterfaceName,
                                        interfaceIndex: key.interfaceIndex, source: source)
            sockets[key] = socket
            try loop.watch(fd: socket.fileDescriptor) { [unowned self] in self.readPackets(key) }
        } catch {
            throw DaemonError.startup("VRRP socket on \(runtime.interfaceName) (\(key.family)): \(error)")
        }
    }

    func startRouter(_ runtime: RouterRuntime) {
        guard !runtime.started else { return }
        runtime.started = true
        for reason in runtime.activeFaults.sorted() {
            apply(runtime, runtime.router.handle(.fault(active: true, reason: reason, linkDown: true), now: loop.now()))
        }
        feed(runtime, .start)
    }

    // MARK: Feeding the core and carrying out its actions

    func feed(_ runtime: RouterRuntime, _ input: RouterInput) {
        let actions = runtime.router.handle(input, now: loop.now())
        apply(runtime, actions)
    }

    func apply(_ runtime: RouterRuntime, _ actions: [RouterAction]) {
        for action in actions { perform(action, runtime) }
        rearm(runtime)
        if stopping { checkStopped() }
    }

    /// Keeps one loop timer per router at or before the core's next deadline. A timer already set
    /// no later than the new deadline stays: a Backup's Master_Down_Timer moves later with every
    /// advertisement, and instead of a cancel and a new timer each time, the old one fires early,
    /// the core finds nothing due (an early `.timeout` is a no-op) and the timer is set again then.
    ///
    /// Timer closures hold the runtime strongly and the daemon unowned: a removed router's timers
    /// are cancelled (`removeInstance`), and the daemon outlives its loop. Weak references would
    /// give both objects a side table and put every retain and release on Swift's slow path.
    private func rearm(_ runtime: RouterRuntime) {
        guard let deadline = runtime.router.nextDeadline else {
            loop.cancel(runtime.timer)
            runtime.timer = nil
            return
        }
        if runtime.timer != nil, let set = runtime.timerDeadline, set <= deadline { return }
        loop.cancel(runtime.timer)
        runtime.timerDeadline = deadline
        runtime.timer = loop.schedule(at: deadline, slack: runtime.router.nextDeadlineSlack) { [unowned self, runtime] in
            runtime.timer = nil
            self.feed(runtime, .timeout)
        }
    }

    private func perform(_ action: RouterAction, _ runtime: RouterRuntime) {
        switch action {
        case .sendAdvertisement(let priority):
            sendAdvertisement(runtime, priority: priority)
        case .addAddresses:
            addAddresses(runtime)
        case .removeAddresses:
            removeAddresses(runtime)
        case .announce:
            scheduleAnnouncements(runtime)
        case .stateChanged(let from, let to, let reason):
            stateChanged(runtime, from: from, to: to, reason: reason)
        case .takeoverPending(let pending):
            takeoverPendingChanged(runtime, pending)
        case .dropped(let reason):
            runtime.counters.drops[reason.label, default: 0] += 1
            metrics.dropped(interface: runtime.interfaceName, reason: reason.label)
        }
    }

    func sendAdvertisement(_ runtime: RouterRuntime, priority: UInt8) {
        guard let key = runtime.socketKey, let socket = sockets[key] else { return }
        for (destination, bytes) in runtime.encodedAdvertisements(priority: priority, source: key.source) {
            do {
                try socket.send(bytes, to: destination)
                runtime.counters.advertsSent += 1
                runtime.metricHandles?.advertsSent.increment()
            } catch {
                logger.warning("sending advertisement failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    func addAddresses(_ runtime: RouterRuntime) {
        for prefix in runtime.addresses {
            do {
                try netlink.addAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
            } catch {
                logger.error("adding \(prefix) to \(runtime.addressInterfaceName) failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    func removeAddresses(_ runtime: RouterRuntime) {
        stopAnnouncements(runtime)
        for prefix in runtime.addresses {
            do {
                try netlink.removeAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
            } catch {
                logger.error("removing \(prefix) from \(runtime.addressInterfaceName) failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    func stopAnnouncements(_ runtime: RouterRuntime) {
        runtime.announceTimers.forEach { loop.cancel($0) }
        runtime.announceTimers.removeAll()
    }

    /// Gratuitous ARP / unsolicited NA: the first frames now, the rest as loop timers (garp settings).
    func scheduleAnnouncements(_ runtime: RouterRuntime) {
        stopAnnouncements(runtime)
        let garp = runtime.instance.garp
        let plan = AnnouncementPlan(count: garp.count, interval: garp.interval, repeatAfter: garp.repeatAfter,
                                    refresh: garp.refresh)
        let frames = runtime.announcementFrames()
        let start = loop.now()
        for offset in plan.transitionOffsets {
            if offset == .zero {
                sendAnnouncement(runtime, frames)
            } else {
                runtime.announceTimers.append(loop.schedule(at: start + offset) { [unowned self, runtime] in
                    guard runtime.router.holdsAddresses else { return }
                    self.sendAnnouncement(runtime, frames)
                })
            }
        }
        if let refresh = plan.refresh {
            scheduleRefresh(runtime, every: refresh, offsets: plan.refreshOffsets, frames: frames)
        }
    }

    private func scheduleRefresh(_ runtime: RouterRuntime, every period: Duration, offsets: [Duration], frames: [[UInt8]]) {
        let periodStart = loop.now() + period
        for offset in offsets {
            runtime.announceTimers.append(loop.schedule(at: periodStart + offset) { [unowned self, runtime] in
                guard runtime.router.holdsAddresses else { return }
                self.sendAnnouncement(runtime, frames)
            })
        }
        runtime.announceTimers.append(loop.schedule(at: periodStart) { [unowned self, runtime] in
            guard runtime.router.holdsAddresses else { return }
            self.scheduleRefresh(runtime, every: period, offsets: offsets, frames: frames)
        })
    }

    func sendAnnouncement(_ runtime: RouterRuntime, _ frames: [[UInt8]]) {
        do {
            let announcer: Announcer
            if let existing = announcers[runtime.addressInterfaceIndex] {
                announcer = existing
            } else {
                announcer = try Announcer(interfaceIndex: runtime.addressInterfaceIndex)
                announcers[runtime.addressInterfaceIndex] = announcer
            }
            try announcer.send(frames)
            runtime.counters.announcements += 1
            runtime.metricHandles?.announcements.increment()
        } catch {
            logger.warning("announcement failed: \(error)", metadata: ["router": "\(runtime.key)"])
        }
    }

    func stateChanged(_ runtime: RouterRuntime, from: RouterState, to: RouterState, reason: TransitionReason) {
        logger.notice("\(runtime.key): \(from) -> \(to) (\(reason))")
        metrics.setState(instance: runtime.key.instance, family: runtime.key.family, state: to)
        metrics.transition(instance: runtime.key.instance, family: runtime.key.family, to: to)
        runNotify(runtime, state: hookState(to), previous: hookState(from), reason: reason.description)
        tellSystemd { try $0.status(summary()) }
        syncGroupsChanged()
    }

    func takeoverPendingChanged(_ runtime: RouterRuntime, _ pending: Bool) {
        metrics.setTakeoverPending(instance: runtime.key.instance, pending)
        if pending {
            logger.warning("\(runtime.key): takeover pending — the Master is gone; run `vipd approve \(runtime.key.instance)` to take over")
            runNotify(runtime, state: "TAKEOVER_PENDING", previous: hookState(runtime.router.state),
                      reason: "master gone or outranked; waiting for vipd approve")
        } else {
            logger.notice("\(runtime.key): takeover no longer pending")
        }
    }

    func hookState(_ state: RouterState) -> String {
        switch state {
        case .initialize: "STOP"
        case .backup: "BACKUP"
        case .master: "MASTER"
        case .fault: "FAULT"
        }
    }

    func runNotify(_ runtime: RouterRuntime, state: String, previous: String, reason: String) {
        guard let script = runtime.instance.notify, let queue = hookQueues[runtime.key.instance] else { return }
        let env = [
            "VIPD_INSTANCE": runtime.key.instance, "VIPD_STATE": state, "VIPD_PREVIOUS_STATE": previous,
            "VIPD_REASON": reason, "VIPD_VRID": "\(runtime.instance.vrid)", "VIPD_FAMILY": runtime.key.family.rawValue,
            "VIPD_ADDRESSES": runtime.addresses.map(\.description).joined(separator: " "),
            "VIPD_NODE": config.node ?? "",
        ]
        queue.enqueue(HookInvocation(arguments: [script, runtime.key.instance, state], environment: env))
    }

    // MARK: Receiving

    func readPackets(_ key: SocketKey) {
        guard let socket = sockets[key] else { return }
        let packets: [ReceivedPacket]
        do { packets = try socket.readPackets() } catch {
            logger.warning("receive failed on \(key.interfaceIndex): \(error)")
            return
        }
        for packet in packets { receive(packet, on: key) }
    }

    func receive(_ packet: ReceivedPacket, on key: SocketKey) {
        if packet.isFromSelf { return }
        // TTL/Hop Limit 255 is required for multicast (RFC 9568 §7.1); in unicast mode keepalived
        // relaxes it, and so do we: those packets are accepted only from configured peers.
        let multicast: Bool
        switch packet.destination {
        case .v4(let a): multicast = a.isMulticast
        case .v6(let a): multicast = a.isMulticast
        }
        let context = PacketContext(source: packet.source, destination: packet.destination,
                                    hopLimit: multicast ? packet.hopLimit : nil)
        let decoded: DecodedAdvertisement
        do {
            decoded = try VRRPCodec.decode(packet.payload, context: context)
        } catch {
            countInterfaceDrop(key.interfaceIndex, DropReason.malformed(error).label)
            return
        }
        let advert = decoded.advertisement
        guard let runtime = routerIndex[RouterLookupKey(interfaceIndex: key.interfaceIndex, family: key.family, vrid: advert.vrid)] else {
            countInterfaceDrop(key.interfaceIndex, DropReason.unknownVRID.label)
            return
        }
        if let peers = runtime.unicastPeers, !peers.contains(packet.source) {
            perform(.dropped(.notAPeer), runtime)
            return
        }
        if !multicast && runtime.unicastPeers == nil {
            // A multicast instance only listens to the group; unicast packets to it come from a
            // misconfigured or hostile sender and would bypass the TTL check.
            perform(.dropped(.notAPeer), runtime)
            return
        }
        if runtime.unicastPeers != nil, runtime.key.family == .ipv4, advert.version == .v3 {
            followPeerChecksum(runtime, decoded.checksumForm, from: packet.source)
        }
        runtime.counters.advertsReceived += 1
        runtime.metricHandles?.advertsReceived.increment()
        feed(runtime, .advertisement(advert, source: packet.source))
    }

    /// Rebuilt when routers are added or removed, or an interface changes index.
    func reindexRouters() {
        routerIndex.removeAll(keepingCapacity: true)
        interfaceNames.removeAll(keepingCapacity: true)
        for runtime in routers {
            interfaceNames[runtime.interfaceIndex] = runtime.interfaceName
            interfaceNames[runtime.addressInterfaceIndex] = runtime.addressInterfaceName
            guard let socket = runtime.socketKey else { continue }
            routerIndex[RouterLookupKey(interfaceIndex: socket.interfaceIndex, family: runtime.key.family,
                                        vrid: runtime.instance.vrid)] = runtime
        }
    }

    /// A unicast v3/IPv4 peer's checksum form decides ours: keepalived with `old_unicast_checksum`
    /// accepts only the group form, and one without it accepts both (and switches to the group
    /// form when it sees it), so answering in the form we hear interoperates with both. The
    /// message-only form (Cisco) says nothing about what the peer accepts and changes nothing.
    func followPeerChecksum(_ runtime: RouterRuntime, _ form: ChecksumForm, from source: IPAddress) {
        let group: Bool
        switch form {
        case .withGroupPseudoHeader: group = true
        case .withPseudoHeader: group = false
        case .withoutPseudoHeader: return
        }
        guard group != runtime.peersUseGroupChecksum else { return }
        runtime.peersUseGroupChecksum = group
        logger.notice("\(runtime.key): unicast peer \(source) uses the \(group ? "old (group address)" : "standard") VRRPv3 checksum; sending it too")
    }

    func countInterfaceDrop(_ interfaceIndex: Int32, _ label: String) {
        countInterfaceDrop(interfaceNames[interfaceIndex] ?? "#\(interfaceIndex)", label)
    }

    func countInterfaceDrop(_ interface: String, _ label: String) {
        interfaceDrops[interface, default: [:]][label, default: 0] += 1
        metrics.dropped(interface: interface, reason: label)
    }

    // MARK: Link events

    func readLinkEvents() {
        let events: [LinkEvent]
        do { events = try monitor.readEvents() } catch {
            logger.error("link monitor: \(error)")
            return
        }
        for event in events { handle(event) }
    }

    func handle(_ event: LinkEvent) {
        switch event {
        case .linkChanged(let link), .linkAppeared(let link):
            for runtime in routers where runtime.interfaceName == link.name {
                if runtime.interfaceIndex != link.index {
                    // The interface came back with a new index: follow it.
                    runtime.interfaceIndex = link.index
                    if !runtime.instance.virtualMAC { runtime.addressInterfaceIndex = link.index }
                    reopenSocket(runtime, link: link)
                }
                setFault(runtime, linkFault(link.name), active: !link.isOperational, linkDown: true)
                setFault(runtime, "interface \(link.name) gone", active: false)
            }
            trackedInterfaceChanged(name: link.name, up: link.isOperational)
        case .linkRemoved(let index, let name):
            for runtime in routers where runtime.interfaceIndex == index || runtime.addressInterfaceIndex == index {
                setFault(runtime, "interface \(name) gone", active: true, linkDown: true)
            }
            trackedInterfaceChanged(name: name, up: false)
        case .addressRemoved(let address):
            for runtime in routers where runtime.addressInterfaceIndex == address.interfaceIndex
                && runtime.router.holdsAddresses && runtime.addresses.contains(where: { $0.address == address.prefix.address }) {
                // Someone removed a VIP we hold: put it back and count it.
                logger.warning("\(runtime.key): \(address.prefix) was removed from \(runtime.addressInterfaceName) by someone else; restoring it")
                if let prefix = runtime.addresses.first(where: { $0.address == address.prefix.address }) {
                    do {
                        try netlink.addAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
                        runtime.counters.addressesRestored += 1
                        metrics.addressRestored(instance: runtime.key.instance)
                        sendAnnouncement(runtime, runtime.announcementFrames())
                    } catch {
                        logger.error("restoring \(prefix) failed: \(error)")
                    }
                }
            }
            refreshPrimaryAddresses()
        case .addressAdded, .addressUpdated:
            refreshPrimaryAddresses()
        case .resynchronized:
            logger.warning("link monitor overran; state re-read from the kernel")
        }
    }

    private func reopenSocket(_ runtime: RouterRuntime, link: LinkInfo) {
        if let old = runtime.socketKey, !routers.contains(where: { $0 !== runtime && $0.socketKey == old }), let socket = sockets.removeValue(forKey: old) {
            loop.unwatch(fd: socket.fileDescriptor)
        }
        runtime.socketKey = nil
        reindexRouters()
        if case let source = runtime.router.config.primaryAddress, source != placeholderAddress(runtime.key.family) {
            do { try openSocket(for: runtime, source: source) } catch {
                logger.error("\(runtime.key): \(error)")
            }
        }
    }

    /// A router started without a usable address gets one when it appears.
    private func refreshPrimaryAddresses() {
        for runtime in routers where runtime.activeFaults.contains(noAddressFault(runtime.key.family, runtime.interfaceName)) {
            guard let link = try? netlink.interface(index: runtime.interfaceIndex),
                  let primary = try? primaryAddress(for: runtime.instance, family: runtime.key.family, link: link) else { continue }
            var routerConfig = runtime.router.config
            routerConfig.primaryAddress = primary
            apply(runtime, runtime.router.reconfigure(routerConfig, now: loop.now()))
            do { try openSocket(for: runtime, source: primary) } catch {
                logger.error("\(runtime.key): \(error)")
                continue
            }
            setFault(runtime, noAddressFault(runtime.key.family, runtime.interfaceName), active: false)
        }
    }

    func setFault(_ runtime: RouterRuntime, _ reason: String, active: Bool, linkDown: Bool = false) {
        guard active != runtime.activeFaults.contains(reason) else { return }
        if active { runtime.activeFaults.insert(reason) } else { runtime.activeFaults.remove(reason) }
        guard runtime.started else { return }
        feed(runtime, .fault(active: active, reason: reason, linkDown: linkDown))
    }

    /// systemd notifications are best effort: a failure is logged, never fatal.
    func tellSystemd(_ body: (SystemdNotifier) throws -> Void) {
        do { try body(notifier) } catch {
            logger.warning("systemd notify: \(error)")
        }
    }

    // MARK: Summary

    func summary() -> String {
        routers.map { "\($0.key) \($0.router.state)" }.joined(separator: ", ")
    }
}
