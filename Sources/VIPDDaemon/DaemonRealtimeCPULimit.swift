// `realtime_cpu_limit`'s SIGXCPU, as the event loop sees it: the signal handler has already moved
// the loop back to normal scheduling; here the daemon reports it and keeps it there until the next
// reload (RealtimeCPULimit decides, this applies it).

#if canImport(Glibc)
import Glibc
#endif
import VIPDConfig
import VIPDSystem

extension Daemon {
    /// At start, on the event-loop thread (the one the handler moves): installs the SIGXCPU
    /// handler and watches its descriptor. SIGXCPU is not among `handledSignals`: a real-time loop
    /// that spins never reads the signalfd, so it needs a handler of its own, and stays unblocked.
    func watchRealtimeCPULimit(_ eventLoop: EventLoop) throws {
        do {
            let descriptor = try RealtimeCPUGuard.install()
            try eventLoop.watch(fd: descriptor) { [unowned self] in self.realtimeCPULimitSignalled() }
        } catch {
            throw DaemonError.startup("realtime_cpu_limit: \(error)")
        }
    }

    /// The SCHED_RR priority in force as the daemon knows it (0: normal scheduling).
    var realtimePriorityInForce: Int32 {
        realtimeLimit.priority(configured: autoPriority?.current ?? Int32(config.realtimePriority ?? 0))
    }

    /// Takes the handler's flag: when its descriptor is readable, and before `max_auto_priority`
    /// raises the loop (a raise must not undo a fallback it has not yet heard of).
    func realtimeCPULimitSignalled() {
        guard RealtimeCPUGuard.take() else { return }
        switch realtimeLimit.exceeded(atPriority: realtimePriorityInForce) {
        case .fellBack:
            autoPriority?.fellBack()
            // The handler did this already; again, in case a raise came between it and now.
            let code = ProcessSettingsCalls.system.setScheduler(SCHED_OTHER, 0)
            metrics.realtimeCPULimitExceeded()
            metrics.setRealtimePriority(0)
            let limit = VIPDConfiguration.renderDuration(config.effectiveRealtimeCPULimit)
            logger.error("real-time scheduling dropped: the event loop ran \(limit) of CPU without sleeping (realtime_cpu_limit); back to normal scheduling until the next reload")
            if code != 0 {
                logger.error("returning to normal scheduling: \(SystemError(operation: "sched_setscheduler", errno: code, capability: .sysNice))")
            }
        case .alreadyNormal:
            logger.notice("SIGXCPU on normal scheduling: nothing to do")
        }
    }
}
