// Tracking and sync groups, wired: tracked interfaces and scripts set each instance's effective
// priority (or Fault); a sync group makes its members move together. The rules (weights, the clamp,
// weight 0 = Fault, the group's worst penalty, fault propagation) are VRRPNode's `Tracking` and
// `SyncGroupRules`; this gathers the facts and feeds the routers what changed.

import VIPDConfig
import VRRP
import VRRPNode

extension Daemon {
    func startTrackers(_ instance: InstanceConfig) {
        scriptTrackers[instance.name]?.forEach { $0.stop() }
        scriptTrackers[instance.name] = instance.track.scripts.map { script in
            // Named, never by its command line: labels, status and logs must not carry secrets.
            let tracker = ScriptTracker(
                name: "script \(script.name)", command: script.run, user: script.user ?? config.scriptUser, interval: script.interval,
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
        let tracker = TrackedItem(kind: .interface(name), weight: 0, up: up).description
        for instance in config.instances where instance.track.interfaces.contains(where: { $0.name == name }) {
            metrics.trackerState(instance: instance.name, tracker: tracker, up: up)
        }
        applyTracking()
    }

    func trackedItems(_ instance: InstanceConfig) -> [TrackedItem] {
        let interfaces = instance.track.interfaces.map { tracked in
            TrackedItem(kind: .interface(tracked.name), weight: tracked.weight,
                        up: plane.monitoredLink(named: tracked.name)?.isOperational ?? false)
        }
        return interfaces + (scriptTrackers[instance.name] ?? []).map(\.item)
    }

    /// Recomputes every instance's effective priority and tracking/sync faults and feeds changes.
    func applyTracking() {
        let instances = config.instances.map {
            TrackedInstance(name: $0.name, configuredPriority: $0.priority, tracking: Tracking.result(configured: $0.priority, items: trackedItems($0)))
        }
        let groups = config.syncGroups.map { SyncGroup(name: $0.name, members: $0.instances) }
        let results = SyncGroupRules.apply(groups, to: instances)
        for runtime in routers {
            let name = runtime.key.instance
            let effective = results[name]?.priority
            setFault(runtime, .trackedItemDown, active: results[name] == .fault)
            if let effective, effective != runtime.router.effectivePriority, runtime.started {
                feed(runtime, .priorityChanged(effective))
            } else if let effective, !runtime.started, effective != runtime.instance.priority {
                var routerConfig = runtime.router.config
                routerConfig.priority = effective
                _ = runtime.router.reconfigure(routerConfig, now: loop.now())
            }
            // An anycast instance has no priority (its core's owner priority is an implementation detail).
            if runtime.instance.runsVRRP {
                metrics.setPriority(instance: name, family: runtime.key.family, configured: runtime.instance.priority,
                                    effective: runtime.router.effectivePriority)
            }
        }
        syncGroupsChanged()
    }

    /// Propagates a member's own fault to the rest of its sync group.
    func syncGroupsChanged() {
        for group in config.syncGroups {
            let members = routers.filter { group.instances.contains($0.key.instance) }
            let carry = SyncGroupRules.groupFault(SyncGroup(name: group.name, members: group.instances),
                                                  faults: members.map { (member: ObjectIdentifier($0), faults: $0.router.activeFaults) })
            for runtime in members {
                setFault(runtime, .syncGroup(group.name), active: carry[ObjectIdentifier(runtime)] ?? false)
            }
        }
    }
}
