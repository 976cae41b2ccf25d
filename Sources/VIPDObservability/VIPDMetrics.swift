// The daemon's Prometheus metrics. The event loop records; the HTTP server thread renders.
//
// The series live in this object's own store (no process-global registry), so tests and a
// reloading daemon can hold several independent sets. The store is ours, not a metrics library's:
// a series is its label text and one atomic, about 150 bytes, where swift-prometheus' registry kept
// about 500 (its own label arrays, pre-rendered buffers and two dictionaries per family) and we kept a
// second index on top — 8 KiB per virtual router, most of the daemon's per-instance memory
// (docs/benchmarks.md, "Footprint").
//
// The per-virtual-router label is `vrrp_instance`, not `instance`: Prometheus attaches its own
// `instance` target label to every scraped series and would rename ours to `exported_instance`.

import Synchronization
import VIPDSystem
import VRRP

public final class VIPDMetrics: Sendable {
    /// A counter: goes up only; a removed virtual router's counters start again from 0.
    public final class Counter: Sendable {
        private let value = Atomic<Int64>(0)
        public func increment(by amount: Int64 = 1) { value.wrappingAdd(amount, ordering: .relaxed) }
        var current: Int64 { value.load(ordering: .relaxed) }
    }

    /// A gauge: the last value set.
    public final class Gauge: Sendable {
        private let bits = Atomic<UInt64>(0)
        public func set(to value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
        var current: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
    }

    private enum Cell: Sendable {
        case counter(Counter)
        case gauge(Gauge)
    }

    private struct Family: Sendable {
        let help: String
        let isCounter: Bool
        /// Keyed by the rendered label text (`vrrp_instance="web",family="ipv4"`); instance series
        /// put `vrrp_instance` first, which `removeInstance` relies on.
        var series: [String: Cell] = [:]
    }

    private let families: Mutex<[String: Family]> = Mutex([:])

    /// - Parameters:
    ///   - node: this host's name in the VRRP deployment (config `node`), shown on `vipd_build_info`.
    ///   - version: vipd's version string, shown on `vipd_build_info`.
    public init(node: String?, version: String = vipdVersion) {
        var labels = [("version", version)]
        if let node { labels.append(("node", node)) }
        gauge(Name.buildInfo, Help.buildInfo, labels).set(to: 1.0)
        gauge(Name.startTime, Help.startTime, []).set(to: WallClock.secondsSinceEpoch())
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
        public static let realtimePriority = "vipd_realtime_priority"
        public static let lateTimerWakeups = "vipd_late_timer_wakeups_total"
        public static let realtimeCPULimitExceeded = "vipd_realtime_cpu_limit_exceeded_total"
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
        static let realtimePriority = "SCHED_RR priority of the event loop (realtime_priority, raised by max_auto_priority); 0 = normal scheduling."
        static let lateTimerWakeups = "Event-loop wakeups whose first due timer ran at least min_auto_priority_delay late."
        static let realtimeCPULimitExceeded = "Times the real-time event loop used realtime_cpu_limit of CPU without sleeping and went back to normal scheduling."
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
            gauge(Name.instanceState, Help.instanceState,
                  [("vrrp_instance", instance), ("family", family.rawValue), ("state", s.rawValue)])
                .set(to: s == state ? 1.0 : 0.0)
            counter(Name.transitions, Help.transitions,
                    [("vrrp_instance", instance), ("family", family.rawValue), ("to", s.rawValue)])
        }
        for (name, help) in [(Name.advertsSent, Help.advertsSent), (Name.advertsReceived, Help.advertsReceived),
                             (Name.announcements, Help.announcements)] {
            counter(name, help, [("vrrp_instance", instance), ("family", family.rawValue)])
        }
        counter(Name.addressesRestored, Help.addressesRestored, [("vrrp_instance", instance)])
        counter(Name.notifyFailures, Help.notifyFailures, [("vrrp_instance", instance)])
        counter(Name.notifyCoalesced, Help.notifyCoalesced, [("vrrp_instance", instance)])
    }

    public func setPriority(instance: String, family: AddressFamily, configured: UInt8, effective: UInt8) {
        for (kind, value) in [("configured", configured), ("effective", effective)] {
            gauge(Name.instancePriority, Help.instancePriority,
                  [("vrrp_instance", instance), ("family", family.rawValue), ("kind", kind)])
                .set(to: Double(value))
        }
    }

    /// Counts a state change and also moves the one-hot state gauge and the last-transition time,
    /// so a caller that only reports transitions still has a consistent state gauge.
    public func transition(instance: String, family: AddressFamily, to state: RouterState) {
        setState(instance: instance, family: family, state: state)
        counter(Name.transitions, Help.transitions,
                [("vrrp_instance", instance), ("family", family.rawValue), ("to", state.rawValue)])
            .increment()
        gauge(Name.lastTransition, Help.lastTransition,
              [("vrrp_instance", instance), ("family", family.rawValue)])
            .set(to: WallClock.secondsSinceEpoch())
    }

    /// The per-packet counters of one virtual router, looked up once. The daemon keeps them, so a
    /// received or sent advertisement costs one atomic increment instead of a labelled lookup.
    public struct RouterHandles: Sendable {
        public let advertsSent: Counter
        public let advertsReceived: Counter
        public let announcements: Counter
    }

    public func routerHandles(instance: String, family: AddressFamily) -> RouterHandles {
        let labels = [("vrrp_instance", instance), ("family", family.rawValue)]
        return RouterHandles(
            advertsSent: counter(Name.advertsSent, Help.advertsSent, labels),
            advertsReceived: counter(Name.advertsReceived, Help.advertsReceived, labels),
            announcements: counter(Name.announcements, Help.announcements, labels))
    }

    /// A received packet was not used. Counted per interface, not per virtual router, because many
    /// reasons (malformed, unknown VRID) are found before a virtual router is known.
    public func dropped(interface: String, reason: String) {
        droppedCounter(interface: interface, reason: reason).increment()
    }

    /// The drop counter of one (interface, reason), for callers that keep it (the receive path).
    public func droppedCounter(interface: String, reason: String) -> Counter {
        counter(Name.packetsDropped, Help.packetsDropped, [("interface", interface), ("reason", reason)])
    }

    public func addressRestored(instance: String) {
        counter(Name.addressesRestored, Help.addressesRestored, [("vrrp_instance", instance)]).increment()
    }

    public func hookFailure(instance: String) {
        counter(Name.notifyFailures, Help.notifyFailures, [("vrrp_instance", instance)]).increment()
    }

    public func hookCoalesced(instance: String) {
        counter(Name.notifyCoalesced, Help.notifyCoalesced, [("vrrp_instance", instance)]).increment()
    }

    public func trackerState(instance: String, tracker: String, up: Bool) {
        gauge(Name.trackerUp, Help.trackerUp, [("vrrp_instance", instance), ("tracker", tracker)])
            .set(to: up ? 1.0 : 0.0)
    }

    public func setRealtimePriority(_ priority: Int) {
        gauge(Name.realtimePriority, Help.realtimePriority, []).set(to: Double(priority))
    }

    public func lateTimerWakeup() {
        counter(Name.lateTimerWakeups, Help.lateTimerWakeups, []).increment()
    }

    public func realtimeCPULimitExceeded() {
        counter(Name.realtimeCPULimitExceeded, Help.realtimeCPULimitExceeded, []).increment()
    }

    public func setTakeoverPending(instance: String, _ pending: Bool) {
        gauge(Name.takeoverPending, Help.takeoverPending, [("vrrp_instance", instance)])
            .set(to: pending ? 1.0 : 0.0)
    }

    /// Unregisters every series labelled with this virtual router (after a reload removed it), so
    /// dashboards stop showing a router that no longer exists. Counters restart from 0 if the name
    /// comes back, which Prometheus' `rate()` handles as a counter reset.
    public func removeInstance(_ name: String) {
        let only = "vrrp_instance=\"\(Self.escaped(name))\""
        let first = only + ","
        families.withLock { families in
            for key in families.keys {
                families[key]!.series = families[key]!.series.filter { labels, _ in
                    labels != only && !labels.hasPrefix(first)
                }
            }
        }
    }

    /// Prometheus text exposition format (version 0.0.4), families sorted by name and series
    /// sorted within each family, so the output is stable for people and diffs.
    public func render() -> String {
        // Copy the cells out under the lock; read their atomics and format after it.
        let snapshot = families.withLock { families in
            families.sorted { $0.key < $1.key }.map { name, family in
                (name, family.help, family.isCounter, family.series.sorted { $0.key < $1.key })
            }
        }
        var out = ""
        for (name, help, isCounter, series) in snapshot where !series.isEmpty {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(isCounter ? "counter" : "gauge")\n"
            for (labels, cell) in series {
                out += name
                if !labels.isEmpty { out += "{\(labels)}" }
                out += " "
                switch cell {
                case .counter(let c): out += String(c.current)
                case .gauge(let g): out += Self.formatted(g.current)
                }
                out += "\n"
            }
        }
        return out
    }

    /// A sample value as the exposition format spells it (`NaN`, `+Inf`, `-Inf`, else Swift's
    /// shortest round-trip decimal).
    static func formatted(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return String(value)
    }

    /// A label value escaped as the exposition format requires: backslash, double quote, newline.
    static func escaped(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var out = ""
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    // MARK: Series

    private static func labelText(_ labels: [(String, String)]) -> String {
        var text = ""
        for (name, value) in labels {
            if !text.isEmpty { text += "," }
            text += name; text += "=\""; text += escaped(value); text += "\""
        }
        return text
    }

    /// The counter of these labels, created at 0 on first use. A virtual router's series carry
    /// `vrrp_instance` as their first label, which is what `removeInstance` matches.
    @discardableResult
    private func counter(_ name: String, _ help: String,
                         _ labels: [(String, String)]) -> Counter {
        series(name, help, isCounter: true, labels, found: { if case .counter(let c) = $0 { c } else { nil } },
               make: { let c = Counter(); return (c, .counter(c)) })
    }

    private func gauge(_ name: String, _ help: String,
                       _ labels: [(String, String)]) -> Gauge {
        series(name, help, isCounter: false, labels, found: { if case .gauge(let g) = $0 { g } else { nil } },
               make: { let g = Gauge(); return (g, .gauge(g)) })
    }

    /// The series of `name` with these labels: the existing one, or a new one registered under the lock.
    private func series<T>(_ name: String, _ help: String, isCounter: Bool, _ labels: [(String, String)],
                           found: (Cell) -> T?, make: () -> (T, Cell)) -> T {
        let key = Self.labelText(labels)
        return families.withLock { families in
            if let cell = families[name]?.series[key], let existing = found(cell) { return existing }
            let (value, cell) = make()
            families[name, default: Family(help: help, isCounter: isCounter)].series[key] = cell
            return value
        }
    }
}
