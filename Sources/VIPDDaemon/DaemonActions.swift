// Feeding the core and carrying out its actions: advertisements, addresses, state changes, hooks.

import VRRP
import VRRPNode

extension Daemon {
    func feed(_ runtime: RouterRuntime, _ input: RouterInput) {
        let now = loop.now()
        let actions = coreInputs(runtime, input).flatMap { runtime.router.handle($0, now: now) }
        apply(runtime, actions)
    }

    func apply(_ runtime: RouterRuntime, _ actions: [RouterAction]) {
        for action in actions { perform(action, runtime) }
        rearm(runtime)
        if stopping { checkStopped() }
    }

    /// Keeps one loop timer per router at or before the core's next deadline. A timer already set
    /// no later than the new deadline stays: a Backup's Master_Down_Timer moves later with every
    /// advertisement, and instead of a cancel and a new timer each time, the old one fires early,
    /// the core finds nothing due (an early `.timeout` is a no-op) and the timer is set again then.
    ///
    /// The timer may run early when the loop is awake anyway (`TimerBatching`): a Master's
    /// advertisements within the core's slack, a Backup's check up to an interval early. A timer
    /// that ran early and found its deadline unmoved is set again without slack.
    ///
    /// The timer's closure is made once per router and kept in it, so setting the timer again
    /// allocates nothing. It holds the daemon and the runtime unowned: a removed router's timers
    /// are cancelled (`removeInstance`), and the daemon outlives its loop. Weak references would
    /// give both objects a side table and put every retain and release on Swift's slow path.
    private func rearm(_ runtime: RouterRuntime) {
        guard let deadline = runtime.router.nextDeadline else {
            loop.cancel(runtime.timer)
            runtime.timer = nil
            runtime.timerRanEarly = false
            return
        }
        if runtime.timer != nil, let set = runtime.timerDeadline, set <= deadline { return }
        loop.cancel(runtime.timer)
        let slack = TimerBatching.slack(for: runtime.router, earlyRunDeadline: runtime.timerRanEarly ? runtime.timerDeadline : nil)
        runtime.timerRanEarly = false
        runtime.timerDeadline = deadline
        let fire: () -> Void
        if let existing = runtime.timerCallback {
            fire = existing
        } else {
            fire = { [unowned self, unowned runtime] in
                runtime.timer = nil
                runtime.timerRanEarly = runtime.timerDeadline.map { self.loop.now() < $0 } ?? false
                self.timerFired(runtime)
            }
            runtime.timerCallback = fire
        }
        runtime.timer = loop.schedule(at: deadline, slack: slack, fire)
    }

    /// A router's timer: before an expired Master_Down_Timer counts, everything queued on the
    /// router's socket is read and fed in (every router sharing the socket gets its packets); only
    /// a timer still expired afterwards takes over (VRRPNode's `DrainBeforeExpiry`).
    private func timerFired(_ runtime: RouterRuntime) {
        if drainBeforeExpiry.mustDrain(runtime.router, now: loop.now()),
           let key = runtime.socketKey, let socket = sockets[key] {
            socket.drain()
            if drainBeforeExpiry.outcome(runtime.router, now: loop.now()) == .withdrawn {
                runtime.counters.masterDownWithdrawn += 1
            }
        }
        feed(runtime, .timeout)
    }

    func perform(_ action: RouterAction, _ runtime: RouterRuntime) {
        switch action {
        case .sendAdvertisement(let priority):
            sendAdvertisement(runtime, priority: priority)
        case .addAddresses:
            addAddresses(runtime)
        case .removeAddresses:
            removeAddresses(runtime)
        case .announce:
            if RoutedRelease.sendsAnnouncements(routed: runtime.instance.route != nil) { scheduleAnnouncements(runtime) }
        case .stateChanged(let from, let to, let reason):
            stateChanged(runtime, from: from, to: to, reason: reason)
        case .takeoverPending(let pending):
            takeoverPendingChanged(runtime, pending)
        case .dropped(let reason):
            countRouterDrop(runtime, reason.label)
        }
    }

    func sendAdvertisement(_ runtime: RouterRuntime, priority: UInt8) {
        guard let key = runtime.socketKey, let socket = sockets[key] else { return }
        for (destination, bytes) in runtime.encodedAdvertisements(priority: priority, source: key.source, wallClock: plane.wallClock) {
            do {
                try socket.send(bytes, to: destination)
                runtime.counters.advertsSent += 1
                runtime.metricHandles?.advertsSent.increment()
            } catch {
                logger.warning("sending advertisement failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    func addAddresses(_ runtime: RouterRuntime) {
        for prefix in runtime.addresses {
            do {
                try plane.addAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
            } catch {
                logger.error("adding \(prefix) to \(runtime.addressInterfaceName) failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    /// `secondPhase`: a routed VIP is still accepted for a while through a local route
    /// (`holdLocalRoutes`); false on the way out (exit, instance removed), where nothing may stay.
    func removeAddresses(_ runtime: RouterRuntime, secondPhase: Bool = true) {
        stopAnnouncements(runtime)
        if secondPhase { holdLocalRoutes(runtime) }
        for prefix in runtime.addresses {
            do {
                try plane.removeAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
            } catch {
                logger.error("removing \(prefix) from \(runtime.addressInterfaceName) failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }

    func stateChanged(_ runtime: RouterRuntime, from: RouterState, to: RouterState, reason: TransitionReason) {
        let why = describe(reason, runtime)
        logger.notice("\(runtime.key): \(from) -> \(to) (\(why))")
        metrics.setState(instance: runtime.key.instance, family: runtime.key.family, state: to)
        metrics.transition(instance: runtime.key.instance, family: runtime.key.family, to: to)
        runNotify(runtime, state: hookState(to), previous: hookState(from), reason: why)
        systemdStatusChanged()
        syncGroupsChanged()
        notifySyncGroups()
    }

    /// The systemd status line lists every router's state: sent once per loop turn however many
    /// routers changed in it, not once per transition (255 routers starting, or changing hands
    /// together, made that quadratic: ~1 ms per transition, the loop not reading meanwhile).
    func systemdStatusChanged() {
        guard notifier.isEnabled, !systemdStatusPending else { return }
        systemdStatusPending = true
        loop.schedule(at: loop.now()) { [unowned self] in
            systemdStatusPending = false
            tellSystemd { try $0.status(summary()) }
        }
    }

    func takeoverPendingChanged(_ runtime: RouterRuntime, _ pending: Bool) {
        metrics.setTakeoverPending(instance: runtime.key.instance, pending)
        if pending {
            logger.warning("\(runtime.key): takeover pending — the Master is gone; run `vipd approve \(runtime.key.instance)` to take over")
            runNotify(runtime, state: "TAKEOVER_PENDING", previous: hookState(runtime.router.state),
                      reason: "master gone or outranked; waiting for vipd approve")
        } else {
            logger.notice("\(runtime.key): takeover no longer pending")
        }
    }

    func hookState(_ state: RouterState) -> String {
        switch state {
        case .initialize: "STOP"
        case .backup: "BACKUP"
        case .master: "MASTER"
        case .fault: "FAULT"
        }
    }
}
