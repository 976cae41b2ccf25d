// Configuration reload (SIGHUP / `vipd reload`): unchanged instances untouched, changed ones updated
// in place or restarted, removed ones stopped.

import VIPDConfig
import VIPDSystem
import VRRP

extension Daemon {
    /// SIGHUP / `vipd reload`: a bad file changes nothing. Unchanged instances are not touched;
    /// instances whose identity changed (interface, VRID, version, addresses, unicast, virtual MAC)
    /// are restarted; others are updated in place; removed ones release their addresses.
    @discardableResult
    func reload() -> (Bool, String) {
        defer { releaseFreeMemory() }   // what parsing and comparing the file allocated
        tellSystemd { try $0.reloading() }
        defer { tellSystemd { try $0.ready() } }
        let newConfig: VIPDConfiguration
        do {
            let loaded = try VIPDConfiguration.loadWithWarnings(path: configPath)
            newConfig = loaded.configuration
            for warning in loaded.warnings { logger.warning("\(warning)") }
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            return (false, "reload refused, keeping the running configuration: \(error)")
        }
        let old = config
        var changes: [String] = []
        if newConfig.controlSocket != old.controlSocket || newConfig.metrics != old.metrics {
            changes.append("control_socket/metrics changes need a restart (kept the running ones)")
        }
        // After a realtime_cpu_limit fallback the configured scheduling is applied again, changed
        // or not: a reload is how the operator says the loop may be real-time again.
        if newConfig.realtimePriority != old.realtimePriority || newConfig.lockMemory != old.lockMemory
            || newConfig.maxAutoPriority != old.maxAutoPriority || newConfig.realtimeCPULimit != old.realtimeCPULimit
            || realtimeLimit.reloadMustReapply {
            do {
                let raised = autoPriority.map { $0.current > $0.base ? $0.current : 0 } ?? 0
                for problem in try ProcessSettings.apply(newConfig, previous: old, raisedTo: raised) {
                    logger.error("reload: \(problem)")
                    changes.append(problem)
                }
                config.realtimePriority = newConfig.realtimePriority
                config.lockMemory = newConfig.lockMemory
                config.maxAutoPriority = newConfig.maxAutoPriority
                config.realtimeCPULimit = newConfig.realtimeCPULimit
                realtimeLimit.reapplied()
                autoPriority = nil   // starts again from the configured scheduling (below)
            } catch {
                logger.error("reload: \(error); keeping the previous scheduling")
                changes.append("\(error); kept the previous scheduling")
            }
        }
        config.minAutoPriorityDelay = newConfig.minAutoPriorityDelay
        config.node = newConfig.node
        config.shutdownTimeout = newConfig.shutdownTimeout
        config.logLevel = newConfig.logLevel
        logger.logLevel = newConfig.logLevel.swiftLogLevel
        config.syncGroups = newConfig.syncGroups
        config.scriptUser = newConfig.scriptUser

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
                changes.append(startReloaded(instance, restart: false))
                continue
            }
            if previous == instance { continue }
            if Self.identityChanged(previous, instance) {
                removeInstance(instance.name)
                changes.append(startReloaded(instance, restart: true))
            } else {
                for runtime in routers where runtime.key.instance == instance.name {
                    runtime.instance = instance
                    refreshUnicastTTLCheck(runtime, announce: previous.unicast?.ttlCheck != instance.unicast?.ttlCheck)
                    // Tracking re-applies its penalty right after (applyTracking below).
                    let routerConfig = instance.routerConfig(family: runtime.key.family, primaryAddress: runtime.router.config.primaryAddress)
                    apply(runtime, runtime.router.reconfigure(routerConfig, now: loop.now()))
                }
                if previous.track != instance.track { startTrackers(instance) }
                changes.append("updated \(instance.name)")
            }
        }
        applyTracking()
        if let eventLoop = loop as? EventLoop { watchLateTimers(eventLoop) }
        let message = changes.isEmpty ? "reloaded: nothing changed" : "reloaded: " + changes.joined(separator: "; ")
        logger.notice("\(message)")
        return (true, message)
    }

    /// Creates and starts the routers of an instance that reload added (or restarted, its identity
    /// having changed); returns the line for the reload message.
    private func startReloaded(_ instance: InstanceConfig, restart: Bool) -> String {
        do {
            try startInstance(instance)
            routers.filter { $0.key.instance == instance.name }.forEach { startRouter($0) }
            return "\(restart ? "restarted" : "added") \(instance.name)"
        } catch {
            logger.error("\(restart ? "restarting" : "starting") \(instance.name): \(error)")
            return "could not \(restart ? "restart" : "start") \(instance.name): \(error)"
        }
    }

    /// `auth_hmac` is not identity: a change of keys, active key or mode is applied in place, and the
    /// receiver keeps its replay marks (AuthWiringTests).
    static func identityChanged(_ a: InstanceConfig, _ b: InstanceConfig) -> Bool {
        a.interface != b.interface || a.vrid != b.vrid || a.version != b.version || a.addresses != b.addresses
            || a.unicast?.source != b.unicast?.source || a.unicast?.peers != b.unicast?.peers || a.virtualMAC != b.virtualMAC || a.v3ChecksumAsV2 != b.v3ChecksumAsV2
            || a.authPass != b.authPass || a.route?.device != b.route?.device || a.election != b.election
    }

    /// Stops an instance's routers at once: addresses released, timers and trackers stopped.
    func removeInstance(_ name: String) {
        for runtime in routers where runtime.key.instance == name {
            loop.cancel(runtime.timer)
            runtime.timer = nil
            if runtime.router.holdsAddresses { removeAddresses(runtime, secondPhase: false) }
            dropLocalRoutes(runtime)
            stopAnnouncements(runtime)
            metrics.setState(instance: name, family: runtime.key.family, state: .initialize)
        }
        let removedSockets = Set(routers.filter { $0.key.instance == name }.compactMap(\.socketKey))
        routers.removeAll { $0.key.instance == name }
        for key in removedSockets where !routers.contains(where: { $0.socketKey == key }) {
            if let socket = sockets.removeValue(forKey: key) { socket.close() }
        }
        stopTrackers(name)
        metrics.removeInstance(name)
    }
}
