// Starting the daemon, handling its signals and stopping it: gracefully (every Master hands over)
// or at once; either way nothing is left behind.

#if canImport(Glibc)
import Glibc
#endif
import VIPDLinux
import VIPDObservability
import VRRP

extension Daemon {
    /// Starts everything and runs until stopped. Returns the exit code.
    /// Needs the Linux data plane: the process around the daemon (signals, control socket, metrics
    /// server, scheduling) lives on its event loop.
    public func run() throws -> Int32 {
        guard let eventLoop = loop as? EventLoop else {
            throw DaemonError.startup("run() needs the Linux data plane's event loop (a simulation calls start())")
        }
        // Signals first: blocked before the metrics thread exists, so every thread inherits the mask.
        try eventLoop.handleSignals(Self.handledSignals) { [unowned self] signal in self.handleSignal(signal) }
        do {
            try watchRealtimeCPULimit(eventLoop)
            for problem in try ProcessSettings.apply(config) { logger.error("\(problem)") }
            watchLateTimers(eventLoop)
            try openControlSocket(eventLoop)
            try startMetricsServer()
            try startInstances()
        } catch {
            // A failed start leaves nothing behind: no socket file, no macvlan, no thread.
            finish(force: true, quiet: true)
            throw error
        }
        startRouters()
        startWatchdog()
        tellSystemd { try $0.ready() }
        tellSystemd { try $0.status(summary()) }
        logger.info("vipd running", metadata: ["instances": "\(config.instances.count)", "config": "\(configPath)"])
        try eventLoop.run()
        return exitCode
    }

    /// The daemon without the process around it: link events watched, every instance created and
    /// its routers started. What the daemon simulation runs; a failure leaves nothing behind.
    public func start() throws {
        do {
            try startInstances()
        } catch {
            finish(force: true, quiet: true)
            throw error
        }
        startRouters()
    }

    private func startInstances() throws {
        try plane.watchLinkEvents { [unowned self] events in self.readLinkEvents(events) }
        for instance in config.instances {
            try startInstance(instance)
        }
    }

    private func startRouters() {
        applyTracking()
        for runtime in routers { startRouter(runtime) }
    }

    private func openControlSocket(_ eventLoop: EventLoop) throws {
        do {
            control = try ControlServer(path: config.controlSocket, loop: eventLoop) { [unowned self] request in
                self.handleControl(request)
            }
        } catch {
            throw DaemonError.startup("\(error)")
        }
    }

    private func startMetricsServer() throws {
        guard let listen = config.metrics else { return }
        do {
            metricsServer = try MetricsHTTPServer(address: listen.address, port: listen.port, metrics: metrics)
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
    public func beginGracefulStop() {
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
        // STOP hooks run before the daemon exits (keepalived runs notify_stop at shutdown too);
        // shutdown_timeout bounds the wait.
        let hooksDone = (Array(hookQueues.values) + Array(groupHookQueues.values)).allSatisfy { $0.queued == 0 }
        if hooksDone, routers.allSatisfy({ $0.router.state == .initialize && !$0.router.holdsAddresses && $0.localRoutes == nil }) {
            finish(force: false)
        }
    }

    /// Leaves nothing behind: addresses, local routes, macvlans, control socket, children.
    func finish(force: Bool, quiet: Bool = false) {
        for runtime in routers {
            if runtime.router.holdsAddresses { removeAddresses(runtime, secondPhase: false) }
            dropLocalRoutes(runtime)
        }
        for runtime in routers { stopAnnouncements(runtime) }
        for (_, trackers) in scriptTrackers { trackers.forEach { $0.stop() } }
        children.killAll()
        for (name, index) in createdMacvlans {
            do { try plane.deleteLink(index: index) } catch {
                logger.warning("could not delete macvlan \(name): \(error)")
            }
        }
        createdMacvlans.removeAll()
        for (setting, error) in sysctls.restoreAll() {
            logger.debug("could not restore \(setting.key)=\(setting.value): \(error)")
        }
        control?.shutdown()
        metricsServer?.stop()
        loop.stop()
        if !quiet { logger.notice(force ? "stopped (forced)" : "stopped") }
    }
}
