// Tracking and sync groups: tracked interfaces and scripts set each instance's effective priority
// (or Fault); a sync group makes its members move together.
//
// Sync group semantics (vipd): a member's own fault (link down, interface gone, a weight-0 tracked
// item down) puts every member in Fault; and the group's worst tracking penalty applies to every
// member, so a tracked failure that moves one member's VIP moves all of them.

import VIPDConfig
import VRRP

extension Daemon {
    static let trackingFaultReason = "a tracked item with weight 0 is down"
    static func syncFaultReason(_ group: String) -> String { "sync group \(group): a member is in fault" }

    func startTrackers(_ instance: InstanceConfig) {
        scriptTrackers[instance.name]?.forEach { $0.stop() }
        scriptTrackers[instance.name] = instance.track.scripts.map { script in
            // Named, never by its command line: labels, status and logs must not carry secrets.
            let tracker = ScriptTracker(
                name: "script \(script.name)", command: script.run, interval: script.interval,
                timeout: script.timeout, weight: script.weight, rise: script.rise, fall: script.fall,
                loop: loop, children: children) { [unowned self] tracker in
                    let outcome = tracker.lastOutcome.map { " (\($0))" } ?? ""
                    self.logger.notice("\(instance.name): track \(tracker.name) is \(tracker.up ? "up" : "down")\(outcome)")
                    self.metrics.trackerState(instance: instance.name, tracker: tracker.name, up: tracker.up)
                    self.applyTracking()
                }
            metrics.trackerState(instance: instance.name, tracker: tracker.name, up: tracker.up)
            tracker.start()
            return tracker
        }
    }

    func stopTrackers(_ name: String) {
        scriptTrackers.removeValue(forKey: name)?.forEach { $0.stop() }
    }

    func trackedInterfaceChanged(name: String, up: Bool) {
        guard config.instances.contains(where: { $0.track.interfaces.contains { $0.name == name } }) else { return }
        for instance in config.instances where instance.track.interfaces.contains(where: { $0.name == name }) {
            metrics.trackerState(instance: instance.name, tracker: "interface \(name)", up: up)
        }
        applyTracking()
    }

    func trackedItems(_ instance: InstanceConfig) -> [TrackedItemState] {
        let interfaces = instance.track.interfaces.map { tracked in
            TrackedItemState(name: "interface \(tracked.name)", weight: tracked.weight,
                             up: monitor.links.values.first { $0.name == tracked.name }?.isOperational ?? false)
        }
        let scripts = (scriptTrackers[instance.name] ?? []).map {
            TrackedItemState(name: $0.name, weight: $0.weight, up: $0.up)
        }
        return interfaces + scripts
    }

    /// Recomputes every instance's effective priority and tracking/sync faults and feeds changes.
    func applyTracking() {
        var priority: [String: UInt8?] = [:]
        for instance in config.instances {
            priority[instance.name] = PriorityComputation.effectivePriority(configured: instance.priority, items: trackedItems(instance))
        }
        // Sync groups: the worst penalty of any member applies to all non-owner members.
        var adjusted = priority
        for group in config.syncGroups {
            let members = config.instances.filter { group.instances.contains($0.name) }
            let penalties = members.compactMap { m -> Int? in
                guard m.priority != ProtocolConstants.ownerPriority, let p = priority[m.name] ?? nil else { return nil }
                return Int(p) - Int(m.priority)
            }
            guard let worst = penalties.min() else { continue }
            for m in members where m.priority != ProtocolConstants.ownerPriority {
                if let p = priority[m.name], p != nil {
                    adjusted[m.name] = UInt8(min(max(Int(m.priority) + worst, 1), 254))
                }
            }
        }
        for runtime in routers {
            let name = runtime.key.instance
            let effective = adjusted[name] ?? nil
            setFault(runtime, Self.trackingFaultReason, active: effective == nil)
            if let effective, effective != runtime.router.effectivePriority, runtime.started {
                feed(runtime, .priorityChanged(effective))
            } else if let effective, !runtime.started, effective != runtime.instance.priority {
                var routerConfig = runtime.router.config
                routerConfig.priority = effective
                _ = runtime.router.reconfigure(routerConfig, now: loop.now())
            }
            metrics.setPriority(instance: name, family: runtime.key.family, configured: runtime.instance.priority,
                                effective: runtime.router.effectivePriority)
        }
        syncGroupsChanged()
    }

    /// Propagates a member's own fault to the rest of its sync group.
    func syncGroupsChanged() {
        for group in config.syncGroups {
            let reason = Self.syncFaultReason(group.name)
            let members = routers.filter { group.instances.contains($0.key.instance) }
            let anyOwnFault = members.contains { !$0.activeFaults.subtracting([reason]).isEmpty }
            for runtime in members {
                let ownFault = !runtime.activeFaults.subtracting([reason]).isEmpty
                setFault(runtime, reason, active: anyOwnFault && !ownFault)
            }
        }
    }
}
