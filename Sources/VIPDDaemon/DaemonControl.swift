// Control requests: status, handover, approve, reload (see DaemonReload).

#if canImport(Glibc)
import Glibc
#endif
import VIPDConfig
import VRRP
import VRRPNode

extension Daemon {
    public func handleControl(_ request: ControlRequest) -> ControlResponse {
        switch request.command {
        case .status:
            return ControlResponse(ok: true, status: status())
        case .handover:
            return handover(instance: request.instance, holdSeconds: request.holdSeconds, cancel: request.cancel ?? false)
        case .approve:
            return approve(instance: request.instance)
        case .reload:
            let (ok, message) = reload()
            return ControlResponse(ok: ok, message: message)
        }
    }

    func status() -> DaemonStatus {
        let now = loop.now()
        let instances = config.instances.map { instance -> InstanceStatus in
            let mine = routers.filter { $0.key.instance == instance.name }
            let states = mine.map(\.router.state)
            let worst: RouterState = states.contains(.fault) ? .fault
                : states.contains(.initialize) ? .initialize
                : states.contains(.backup) ? .backup : (states.first ?? .initialize)
            let trackers = trackedItems(instance).map { TrackerStatus(name: $0.description, kind: $0.kind.label, up: $0.up, weight: $0.weight) }
            return InstanceStatus(
                name: instance.name, interface: instance.interface, vrid: Int(instance.vrid), version: Int(instance.version.rawValue),
                state: worst.description, syncGroup: config.syncGroups.first { $0.instances.contains(instance.name) }?.name,
                routers: mine.map { $0.status(now: now) }, trackers: trackers,
                notifyQueued: hookQueues[instance.name]?.queued ?? 0,
                notifyCoalesced: hookQueues[instance.name]?.coalesced ?? 0,
                election: instance.runsVRRP ? nil : instance.election.rawValue, routeDevice: instance.route?.device)
        }
        return DaemonStatus(
            node: config.node, pid: getpid(), configPath: configPath,
            uptimeSeconds: Double((now - startedAt).nanoseconds) / 1e9, instances: instances,
            interfaces: interfaceDrops.keys.sorted().map { InterfaceStatus(name: $0, drops: interfaceDrops[$0] ?? [:]) })
    }

    /// The routers of `instance` (all when nil), or nil when no such instance exists.
    private func selectRouters(_ instance: String?) -> [RouterRuntime]? {
        guard let instance else { return routers }
        let selected = routers.filter { $0.key.instance == instance }
        return selected.isEmpty ? nil : selected
    }

    /// `vipd handover [--cancel]`: the node layer decides per router; ok when any router acted.
    func handover(instance: String?, holdSeconds: Double?, cancel: Bool) -> ControlResponse {
        guard let all = selectRouters(instance) else { return .failure("no instance named \(instance ?? "")") }
        let selected = electing(all)
        guard !selected.isEmpty else { return .failure("\(instance ?? "every instance") has election: none: there is no election to hand over") }
        let now = loop.now()
        let results = selected.map { runtime -> HandoverResult in
            let outcome: (actions: [RouterAction], result: HandoverResult)
            if cancel {
                outcome = OperatorRequests.cancelHandover(&runtime.router, now: now)
            } else {
                let holdUntil = holdSeconds.map { now + .milliseconds(Int64($0 * 1000)) }
                outcome = OperatorRequests.handover(&runtime.router, holdUntil: holdUntil, holdSeconds: holdSeconds, now: now)
            }
            apply(runtime, outcome.actions)
            return outcome.result
        }
        return ControlResponse(ok: OperatorRequests.succeeded(results), message: Self.messages(selected, results))
    }

    /// `vipd approve INSTANCE`: a pending manual takeover happens; ok when one did.
    func approve(instance: String?) -> ControlResponse {
        guard let instance else { return .failure("approve needs an instance name") }
        guard let all = selectRouters(instance) else { return .failure("no instance named \(instance)") }
        let selected = electing(all)
        guard !selected.isEmpty else { return .failure("\(instance) has election: none: there is no takeover to approve") }
        let now = loop.now()
        let results = selected.map { runtime -> ApprovalResult in
            let outcome = OperatorRequests.approve(&runtime.router, now: now)
            apply(runtime, outcome.actions)
            return outcome.result
        }
        return ControlResponse(ok: OperatorRequests.succeeded(results), message: Self.messages(selected, results))
    }

    /// One line per router: `instance/family: result`.
    private static func messages(_ routers: [RouterRuntime], _ results: [some CustomStringConvertible]) -> String {
        zip(routers, results).map { "\($0.key): \($1)" }.joined(separator: "\n")
    }
}
