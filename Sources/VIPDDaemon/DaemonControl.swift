// Control requests (status, handover, approve, reload) and configuration reload.

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
                routers: mine.map { $0.status(now: now) }, trackers: trackers)
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

    /// SIGHUP / `vipd reload`: a bad file changes nothing. Unchanged instances are not touched;
    /// instances whose identity changed (interface, VRID, version, addresses, unicast, virtual MAC)
    /// are restarted; others are updated in place; removed ones release their addresses.
    @discardableResult
    func reload() -> (Bool, String) {
        tellSystemd { try $0.reloading() }
        defer { tellSystemd { try $0.ready() } }
        let newConfig: VIPDConfiguration
        do {
            newConfig = try VIPDConfiguration.load(path: configPath)
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            return (false, "reload refused, keeping the running configuration: \(error)")
        }
        let old = config
        var changes: [String] = []
        if newConfig.controlSocket != old.controlSocket || newConfig.metrics != old.metrics {
            changes.append("control_socket/metrics changes need a restart (kept the running ones)")
        }
        if newConfig.realtimePriority != old.realtimePriority || newConfig.lockMemory != old.lockMemory {
            do {
                try ProcessSettings.apply(newConfig, previous: old)
                config.realtimePriority = newConfig.realtimePriority
                config.lockMemory = newConfig.lockMemory
            } catch {
                logger.error("reload: \(error); keeping the previous scheduling")
                changes.append("\(error); kept the previous scheduling")
            }
        }
        config.node = newConfig.node
        config.shutdownTimeout = newConfig.shutdownTimeout
        config.logLevel = newConfig.logLevel
        logger.logLevel = newConfig.logLevel.swiftLogLevel
        config.syncGroups = newConfig.syncGroups

        let oldByName = Dictionary(uniqueKeysWithValues: old.instances.map { ($0.name, $0) })
        let newByName = Dictionary(uniqueKeysWithValues: newConfig.instances.map { ($0.name, $0) })
        // Removed instances release their addresses (without waiting for a handover).
        for name in oldByName.keys where newByName[name] == nil {
            removeInstance(name)
            changes.append("removed \(name)")
        }
        config.instances = newConfig.instances
        for instance in newConfig.instances {
            guard let previous = oldByName[instance.name] else {
                do {
                    try startInstance(instance)
                    routers.filter { $0.key.instance == instance.name }.forEach { startRouter($0) }
                    changes.append("added \(instance.name)")
                } catch {
                    logger.error("starting \(instance.name): \(error)")
                    changes.append("could not start \(instance.name): \(error)")
                }
                continue
            }
            if previous == instance { continue }
            if Self.identityChanged(previous, instance) {
                removeInstance(instance.name)
                do {
                    try startInstance(instance)
                    routers.filter { $0.key.instance == instance.name }.forEach { startRouter($0) }
                    changes.append("restarted \(instance.name)")
                } catch {
                    logger.error("restarting \(instance.name): \(error)")
                    changes.append("could not restart \(instance.name): \(error)")
                }
            } else {
                for runtime in routers where runtime.key.instance == instance.name {
                    runtime.instance = instance
                    // Tracking re-applies its penalty right after (applyTracking below).
                    let routerConfig = instance.routerConfig(family: runtime.key.family, primaryAddress: runtime.router.config.primaryAddress)
                    apply(runtime, runtime.router.reconfigure(routerConfig, now: loop.now()))
                }
                if previous.track != instance.track { startTrackers(instance) }
                changes.append("updated \(instance.name)")
            }
        }
        applyTracking()
        let message = changes.isEmpty ? "reloaded: nothing changed" : "reloaded: " + changes.joined(separator: "; ")
        logger.notice("\(message)")
        return (true, message)
    }

    static func identityChanged(_ a: InstanceConfig, _ b: InstanceConfig) -> Bool {
        a.interface != b.interface || a.vrid != b.vrid || a.version != b.version || a.addresses != b.addresses
            || a.unicast != b.unicast || a.virtualMAC != b.virtualMAC || a.v3ChecksumAsV2 != b.v3ChecksumAsV2
            || a.authPass != b.authPass
    }

    /// Stops an instance's routers at once: addresses released, timers and trackers stopped.
    func removeInstance(_ name: String) {
        for runtime in routers where runtime.key.instance == name {
            loop.cancel(runtime.timer)
            runtime.timer = nil
            if runtime.router.holdsAddresses { removeAddresses(runtime) }
            stopAnnouncements(runtime)
            metrics.setState(instance: name, family: runtime.key.family, state: .initialize)
        }
        let removedSockets = Set(routers.filter { $0.key.instance == name }.compactMap(\.socketKey))
        routers.removeAll { $0.key.instance == name }
        for key in removedSockets where !routers.contains(where: { $0.socketKey == key }) {
            if let socket = sockets.removeValue(forKey: key) { loop.unwatch(fd: socket.fileDescriptor) }
        }
        stopTrackers(name)
        metrics.removeInstance(name)
    }
}
