// The daemon's Prometheus metrics. The event loop records; the HTTP server thread renders.
//
// Series live in this instance's own `PrometheusCollectorRegistry` (never the process-global
// `MetricsSystem`), so tests and a reloading daemon can hold several independent sets.
//
// The per-virtual-router label is `vrrp_instance`, not `instance`: Prometheus attaches its own
// `instance` target label to every scraped series and would rename ours to `exported_instance`.

import Prometheus
import Synchronization
import VIPDSystem
import VRRP

public final class VIPDMetrics: Sendable {
    /// The registry holding every series.
    private let registry: PrometheusCollectorRegistry

    /// Handles owned per virtual router, so `removeInstance` can unregister them.
    private let owned: Mutex<[String?: InstanceSeries]> = Mutex([:])

    private struct InstanceSeries: Sendable {
        var counters: [SeriesKey: Prometheus.Counter] = [:]
        var gauges: [SeriesKey: Prometheus.Gauge] = [:]
    }

    private struct SeriesKey: Hashable, Sendable {
        var name: String
        var labels: [String]   // flattened name, value, name, value…
        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    /// - Parameters:
    ///   - node: this host's name in the VRRP deployment (config `node`), shown on `vipd_build_info`.
    ///   - version: vipd's version string, shown on `vipd_build_info`.
    public init(node: String?, version: String = vipdVersion) {
        registry = PrometheusCollectorRegistry()
        var labels = [("version", version)]
        if let node { labels.append(("node", node)) }
        registry.makeGauge(descriptor: Self.descriptor(Name.buildInfo, Help.buildInfo), labels: labels).set(to: 1.0)
        registry.makeGauge(descriptor: Self.descriptor(Name.startTime, Help.startTime))
            .set(to: WallClock.secondsSinceEpoch())
    }

    // MARK: Names and help texts (one place, so a name is never registered with two help texts)

    public enum Name {
        public static let buildInfo = "vipd_build_info"
        public static let startTime = "vipd_start_time_seconds"
        public static let instanceState = "vipd_instance_state"
        public static let instancePriority = "vipd_instance_priority"
        public static let lastTransition = "vipd_last_transition_timestamp_seconds"
        public static let transitions = "vipd_transitions_total"
        public static let advertsSent = "vipd_adverts_sent_total"
        public static let advertsReceived = "vipd_adverts_received_total"
        public static let packetsDropped = "vipd_packets_dropped_total"
        public static let announcements = "vipd_announcements_total"
        public static let addressesRestored = "vipd_addresses_restored_total"
        public static let notifyFailures = "vipd_notify_failures_total"
        public static let notifyCoalesced = "vipd_notify_coalesced_total"
        public static let trackerUp = "vipd_tracker_up"
        public static let takeoverPending = "vipd_takeover_pending"
    }

    private enum Help {
        static let buildInfo = "vipd build information; always 1."
        static let startTime = "Unix time the vipd process started, in seconds."
        static let instanceState = "Current VRRP state of the virtual router: 1 for the current state, 0 for the others."
        static let instancePriority = "VRRP priority: kind=configured is the config value, kind=effective includes tracking."
        static let lastTransition = "Unix time of the virtual router's last state change, in seconds."
        static let transitions = "State changes of the virtual router, by the state entered."
        static let advertsSent = "VRRP advertisements sent."
        static let advertsReceived = "VRRP advertisements received and accepted for this virtual router."
        static let packetsDropped = "Received VRRP packets not used, by interface and reason."
        static let announcements = "Address announcement bursts (gratuitous ARP / unsolicited NA) started."
        static let addressesRestored = "Virtual addresses put back after something else removed them while Master."
        static let notifyFailures = "Notify hooks that failed (non-zero exit, signal, timeout or could not start)."
        static let notifyCoalesced = "Transitions whose waiting notify hook was replaced by a newer transition of the same virtual router before it ran."
        static let trackerUp = "Tracked item state: 1 up, 0 down."
        static let takeoverPending = "1 while a manual takeover waits for operator approval."
    }

    /// Every state, so the one-hot gauge always has all four series. The switch makes a new
    /// `RouterState` case a compile error here rather than a silently missing series.
    static let allStates: [RouterState] = {
        let states: [RouterState] = [.initialize, .backup, .master, .fault]
        for s in states {
            switch s { case .initialize, .backup, .master, .fault: break }
        }
        return states
    }()

    // MARK: Recording (called from the event loop; each call is a hash lookup and an atomic update)

    /// Sets the one-hot `vipd_instance_state` gauge and creates the virtual router's counters at 0,
    /// so that `rate()` and `increase()` see their first increment.
    public func setState(instance: String, family: AddressFamily, state: RouterState) {
        for s in Self.allStates {
            gauge(instance, Name.instanceState, Help.instanceState,
                  [("vrrp_instance", instance), ("family", family.rawValue), ("state", s.rawValue)])
                .set(to: s == state ? 1.0 : 0.0)
            counter(instance, Name.transitions, Help.transitions,
                    [("vrrp_instance", instance), ("family", family.rawValue), ("to", s.rawValue)])
        }
        for (name, help) in [(Name.advertsSent, Help.advertsSent), (Name.advertsReceived, Help.advertsReceived),
                             (Name.announcements, Help.announcements)] {
            counter(instance, name, help, [("vrrp_instance", instance), ("family", family.rawValue)])
        }
        counter(instance, Name.addressesRestored, Help.addressesRestored, [("vrrp_instance", instance)])
        counter(instance, Name.notifyFailures, Help.notifyFailures, [("vrrp_instance", instance)])
        counter(instance, Name.notifyCoalesced, Help.notifyCoalesced, [("vrrp_instance", instance)])
    }

    public func setPriority(instance: String, family: AddressFamily, configured: UInt8, effective: UInt8) {
        for (kind, value) in [("configured", configured), ("effective", effective)] {
            gauge(instance, Name.instancePriority, Help.instancePriority,
                  [("vrrp_instance", instance), ("family", family.rawValue), ("kind", kind)])
                .set(to: Double(value))
        }
    }

    /// Counts a state change and also moves the one-hot state gauge and the last-transition time,
    /// so a caller that only reports transitions still has a consistent state gauge.
    public func transition(instance: String, family: AddressFamily, to state: RouterState) {
        setState(instance: instance, family: family, state: state)
        counter(instance, Name.transitions, Help.transitions,
                [("vrrp_instance", instance), ("family", family.rawValue), ("to", state.rawValue)])
            .increment()
        gauge(instance, Name.lastTransition, Help.lastTransition,
              [("vrrp_instance", instance), ("family", family.rawValue)])
            .set(to: WallClock.secondsSinceEpoch())
    }

    /// The per-packet counters of one virtual router, looked up once. The daemon keeps them, so a
    /// received or sent advertisement costs one atomic increment instead of a labelled lookup.
    public struct RouterHandles: Sendable {
        public let advertsSent: Prometheus.Counter
        public let advertsReceived: Prometheus.Counter
        public let announcements: Prometheus.Counter
    }

    public func routerHandles(instance: String, family: AddressFamily) -> RouterHandles {
        let labels = [("vrrp_instance", instance), ("family", family.rawValue)]
        return RouterHandles(
            advertsSent: counter(instance, Name.advertsSent, Help.advertsSent, labels),
            advertsReceived: counter(instance, Name.advertsReceived, Help.advertsReceived, labels),
            announcements: counter(instance, Name.announcements, Help.announcements, labels))
    }

    /// A received packet was not used. Counted per interface, not per virtual router, because many
    /// reasons (malformed, unknown VRID) are found before a virtual router is known.
    public func dropped(interface: String, reason: String) {
        droppedCounter(interface: interface, reason: reason).increment()
    }

    public typealias Counter = Prometheus.Counter

    /// The drop counter of one (interface, reason), for callers that keep it (the receive path).
    public func droppedCounter(interface: String, reason: String) -> Counter {
        counter(nil, Name.packetsDropped, Help.packetsDropped, [("interface", interface), ("reason", reason)])
    }

    public func addressRestored(instance: String) {
        counter(instance, Name.addressesRestored, Help.addressesRestored, [("vrrp_instance", instance)]).increment()
    }

    public func hookFailure(instance: String) {
        counter(instance, Name.notifyFailures, Help.notifyFailures, [("vrrp_instance", instance)]).increment()
    }

    public func hookCoalesced(instance: String) {
        counter(instance, Name.notifyCoalesced, Help.notifyCoalesced, [("vrrp_instance", instance)]).increment()
    }

    public func trackerState(instance: String, tracker: String, up: Bool) {
        gauge(instance, Name.trackerUp, Help.trackerUp, [("vrrp_instance", instance), ("tracker", tracker)])
            .set(to: up ? 1.0 : 0.0)
    }

    public func setTakeoverPending(instance: String, _ pending: Bool) {
        gauge(instance, Name.takeoverPending, Help.takeoverPending, [("vrrp_instance", instance)])
            .set(to: pending ? 1.0 : 0.0)
    }

    /// Unregisters every series labelled with this virtual router (after a reload removed it), so
    /// dashboards stop showing a router that no longer exists. Counters restart from 0 if the name
    /// comes back, which Prometheus' `rate()` handles as a counter reset.
    public func removeInstance(_ name: String) {
        guard let series = owned.withLock({ $0.removeValue(forKey: name) }) else { return }
        for c in series.counters.values { registry.unregisterCounter(c) }
        for g in series.gauges.values { registry.unregisterGauge(g) }
    }

    /// Prometheus text exposition format (version 0.0.4), families sorted by name and series
    /// sorted within each family, so the output is stable for people and diffs (the registry
    /// emits in hash order).
    public func render() -> String {
        Self.sortedExposition(registry.emitToString())
    }

    /// Reorders exposition text: each family (its `# HELP`/`# TYPE` lines and samples) stays one
    /// block; blocks are sorted by metric name, samples within a block by their text.
    static func sortedExposition(_ text: String) -> String {
        var blocks: [(name: Substring, comments: [Substring], samples: [Substring])] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# ") {
                let name = line.split(separator: " ", maxSplits: 3).dropFirst(2).first ?? ""
                if blocks.last?.name != name || !(blocks.last?.samples.isEmpty ?? true) {
                    blocks.append((name, [], []))
                }
                blocks[blocks.count - 1].comments.append(line)
            } else if blocks.isEmpty {
                blocks.append(("", [], [line]))
            } else {
                blocks[blocks.count - 1].samples.append(line)
            }
        }
        blocks.sort { $0.name < $1.name }
        var out = ""
        for block in blocks {
            for line in block.comments { out += line; out += "\n" }
            for line in block.samples.sorted() { out += line; out += "\n" }
        }
        return out
    }

    // MARK: Handles

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        // The whole name goes in metricName: our names are already complete (`vipd_…_total`).
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Instance-less series (drop counters) are kept under the `nil` key: they are never removed.
    @discardableResult
    private func counter(_ instance: String?, _ name: String, _ help: String,
                         _ labels: [(String, String)]) -> Prometheus.Counter {
        let key = SeriesKey(name, labels)
        return owned.withLock { owned in
            if let c = owned[instance, default: InstanceSeries()].counters[key] { return c }
            let c = registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
            owned[instance, default: InstanceSeries()].counters[key] = c
            return c
        }
    }

    private func gauge(_ instance: String?, _ name: String, _ help: String,
                       _ labels: [(String, String)]) -> Prometheus.Gauge {
        let key = SeriesKey(name, labels)
        return owned.withLock { owned in
            if let g = owned[instance, default: InstanceSeries()].gauges[key] { return g }
            let g = registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
            owned[instance, default: InstanceSeries()].gauges[key] = g
            return g
        }
    }
}
