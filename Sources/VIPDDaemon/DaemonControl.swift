// Control requests: status, handover, approve, reload (see DaemonReload).

#if canImport(Glibc)
import Glibc
#endif
import VIPDConfig
import VRRP

extension Daemon {
    func handleControl(_ request: ControlRequest) -> ControlResponse {
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
            let trackers = trackedItems(instance).map { TrackerStatus(name: $0.name, kind: $0.name.hasPrefix("interface") ? "interface" : "script", up: $0.up, weight: $0.weight) }
            return InstanceStatus(
                name: instance.name, interface: instance.interface, vrid: Int(instance.vrid), version: Int(instance.version.rawValue),
                state: worst.description, syncGroup: config.syncGroups.first { $0.instances.contains(instance.name) }?.name,
                routers: mine.map { $0.status(now: now) }, trackers: trackers,
                notifyQueued: hookQueues[instance.name]?.queued ?? 0,
                notifyCoalesced: hookQueues[instance.name]?.coalesced ?? 0)
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

    func handover(instance: String?, holdSeconds: Double?, cancel: Bool) -> ControlResponse {
        guard let selected = selectRouters(instance) else { return .failure("no instance named \(instance ?? "")") }
        var messages: [String] = []
        for runtime in selected {
            if cancel {
                guard runtime.router.handoverHold || runtime.router.isReleasing else {
                    messages.append("\(runtime.key): no handover to cancel")
                    continue
                }
                feed(runtime, .cancelHandover)
                messages.append("\(runtime.key): handover cancelled; normal election resumes")
            } else {
                guard runtime.router.state == .master, !runtime.router.isReleasing else {
                    messages.append("\(runtime.key): not Master here (\(runtime.router.state)); nothing to hand over")
                    continue
                }
                let holdUntil = holdSeconds.map { loop.now() + .milliseconds(Int64($0 * 1000)) }
                feed(runtime, .handover(holdUntil: holdUntil))
                messages.append("\(runtime.key): stepping aside for the best Backup"
                                + (holdSeconds.map { "; not taking back for \($0) s" } ?? "; not taking back until `vipd handover --cancel`"))
            }
        }
        let acted = messages.contains { !$0.contains("nothing to hand over") && !$0.contains("no handover to cancel") }
        return ControlResponse(ok: acted, message: messages.joined(separator: "\n"))
    }

    func approve(instance: String?) -> ControlResponse {
        guard let instance else { return .failure("approve needs an instance name") }
        guard let selected = selectRouters(instance) else { return .failure("no instance named \(instance)") }
        var messages: [String] = []
        var approved = false
        for runtime in selected {
            if runtime.router.takeoverPending {
                feed(runtime, .approveTakeover)
                approved = true
                messages.append("\(runtime.key): takeover approved (now \(runtime.router.state))")
            } else {
                messages.append("\(runtime.key): no takeover pending (\(runtime.router.state))")
            }
        }
        return ControlResponse(ok: approved, message: messages.joined(separator: "\n"))
    }
}
