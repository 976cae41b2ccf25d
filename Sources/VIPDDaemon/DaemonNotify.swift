// Notify hooks, wired: what each transition runs, in which order and as whom (docs/config.md
// "Notify hooks" and "keepalived notify convention"). The queue (Hooks.swift) runs them.

import VIPDConfig
import VRRP

extension Daemon {
    /// Queues the programs one transition of `runtime` runs: the state's `notify_STATE` command
    /// first, then `notify` (keepalived's order), as one entry of the instance's bounded queue.
    func runNotify(_ runtime: RouterRuntime, state: String, previous: String, reason: String) {
        guard let queue = hookQueues[runtime.key.instance] else { return }
        let instance = runtime.instance
        let env = [
            "VIPD_INSTANCE": runtime.key.instance, "VIPD_STATE": state, "VIPD_PREVIOUS_STATE": previous,
            "VIPD_REASON": reason, "VIPD_VRID": "\(instance.vrid)", "VIPD_FAMILY": runtime.key.family.rawValue,
            "VIPD_ADDRESSES": runtime.addresses.map(\.description).joined(separator: " "),
            "VIPD_NODE": config.node ?? "",
        ]
        let programs = Self.notifyPrograms(instance, state: state, priority: runtime.router.effectivePriority)
            .map { HookInvocation(arguments: $0, environment: env, user: config.scriptUser) }
        if queue.enqueue(programs, router: runtime.key.family.rawValue) {
            // A waiting hook of this router was replaced: it runs only the latest state.
            metrics.hookCoalesced(instance: runtime.key.instance)
            logger.debug("\(runtime.key): notify hook coalesced: a waiting transition replaced by \(state)")
        }
    }

    /// The command lines an instance runs for a hook state, in order. keepalived's convention
    /// (vrrp_notify.c): `notify_STATE` as written, then `notify` with `INSTANCE NAME STATE
    /// PRIORITY` (the effective priority) appended; keepalived has no TAKEOVER_PENDING, so in that
    /// style nothing runs for it.
    static func notifyPrograms(_ instance: InstanceConfig, state: String, priority: UInt8) -> [[String]] {
        var programs: [[String]] = []
        if let command = instance.stateCommands.command(for: state) { programs.append(command) }
        guard let script = instance.notify else { return programs }
        switch instance.notifyStyle {
        case .vipd:
            programs.append([script, instance.name, state])
        case .keepalived where Self.keepalivedStates.contains(state):
            programs.append([script] + instance.notifyArguments + ["INSTANCE", instance.name, state, "\(priority)"])
        case .keepalived:
            break
        }
        return programs
    }

    static let keepalivedStates: Set<String> = ["MASTER", "BACKUP", "FAULT", "STOP"]

    /// A sync group's state as its notify programs see it, from its members' router states: FAULT
    /// when any member is in Fault, MASTER when all are Master, BACKUP when all are Backup, STOP
    /// when all have stopped; nil while the members are between states (the group's hooks wait for
    /// them to agree, so one group transition runs the group's programs once).
    static func groupState(_ members: [RouterState]) -> String? {
        guard let first = members.first else { return nil }
        if members.contains(.fault) { return "FAULT" }
        guard members.allSatisfy({ $0 == first }) else { return nil }
        switch first {
        case .master: return "MASTER"
        case .backup: return "BACKUP"
        case .initialize: return "STOP"
        case .fault: return "FAULT"
        }
    }

    /// Runs the group programs of every sync group whose state changed: `notify_STATE`, then
    /// `notify GROUP NAME STATE 0` (keepalived gives a group priority 0). A group that has never
    /// left Initialize reports nothing: STOP only follows a state it reported.
    func notifySyncGroups() {
        for group in config.syncGroups where group.notify != nil || !group.stateCommands.isEmpty {
            let members = routers.filter { group.instances.contains($0.key.instance) }
            guard let state = Self.groupState(members.map(\.router.state)), groupNotifyStates[group.name] != state,
                  state != "STOP" || groupNotifyStates[group.name] != nil else { continue }
            groupNotifyStates[group.name] = state
            var programs: [[String]] = []
            if let command = group.stateCommands.command(for: state) { programs.append(command) }
            if let notify = group.notify { programs.append(notify + ["GROUP", group.name, state, "0"]) }
            let env = ["VIPD_SYNC_GROUP": group.name, "VIPD_STATE": state, "VIPD_NODE": config.node ?? ""]
            groupHookQueue(group.name).enqueue(programs.map { HookInvocation(arguments: $0, environment: env, user: config.scriptUser) },
                                               router: "group")
        }
    }

    private func groupHookQueue(_ name: String) -> HookQueue {
        if let queue = groupHookQueues[name] { return queue }
        let queue = HookQueue(children: children) { [unowned self] invocation, outcome in
            self.logger.warning("sync group notify \(invocation.arguments.first ?? "") \(outcome)",
                                metadata: ["sync_group": "\(name)"])
        }
        queue.onIdle = { [unowned self] in self.checkStopped() }
        groupHookQueues[name] = queue
        return queue
    }
}
