// Timers that run late: the event loop reports them (`EventLoop.lateTimers`), the daemon counts them
// and, with `max_auto_priority`, raises its scheduling (AutoPriority decides, this applies it); with
// it off, it says once a minute that the host kept it off the CPU.

#if canImport(Glibc)
import Glibc
#endif
import VIPDConfig
import VIPDSystem
import VRRP

extension Daemon {
    /// Installs the event loop's late-timer report with the configuration's threshold; at start and
    /// after every reload. A reload that kept `max_auto_priority` and `realtime_priority` keeps the
    /// priority reached (only the threshold follows the new file).
    func watchLateTimers(_ eventLoop: EventLoop) {
        let threshold = config.effectiveMinAutoPriorityDelay
        if let maximum = config.maxAutoPriority {
            if autoPriority == nil {
                autoPriority = AutoPriority(base: Int32(config.realtimePriority ?? 0), maximum: Int32(maximum),
                                            threshold: threshold, quietUntil: loop.now() + AutoPriority.holdOff)
            }
            autoPriority?.threshold = threshold
        } else {
            autoPriority = nil
        }
        nextLateWarning = max(nextLateWarning, loop.now() + AutoPriority.holdOff)
        metrics.setRealtimePriority(Int(realtimePriorityInForce))
        eventLoop.lateTimers = (threshold, { [unowned self] lateness in self.timersRanLate(by: lateness) })
    }

    /// The first due timer of a wakeup ran `lateness` after its deadline (≥ the threshold).
    func timersRanLate(by lateness: Duration) {
        metrics.lateTimerWakeup()
        realtimeCPULimitSignalled()
        let now = loop.now()
        let late = "\(lateness.milliseconds) ms late"
        guard var auto = autoPriority else {
            guard now >= nextLateWarning else { return }
            nextLateWarning = now + .seconds(60)
            logger.warning("timers ran \(late) (min_auto_priority_delay \(config.effectiveMinAutoPriorityDelay.milliseconds) ms): the host kept vipd off the CPU; a Master this late can make its Backups take over. Set max_auto_priority to let vipd raise itself to real-time scheduling (docs/config.md); further occurrences are counted in vipd_late_timer_wakeups_total")
            return
        }
        defer { autoPriority = auto }
        guard let priority = auto.timerRan(late: lateness, at: now) else { return }
        if RealtimeCPULimit.raiseNeedsLimit(to: priority), let problem = ProcessSettingsCalls.system.setRealtimeCPULimit(for: config) {
            logger.error("\(problem)")
        }
        let code = ProcessSettingsCalls.system.setScheduler(SCHED_RR, priority)
        if code == 0 {
            metrics.setRealtimePriority(Int(priority))
            logger.notice("timers ran \(late): raised the event loop to SCHED_RR priority \(priority) (max_auto_priority \(auto.maximum))")
        } else {
            auto.raiseFailed()
            let error = SystemError(operation: "sched_setscheduler", errno: code, capability: .sysNice)
            logger.error("timers ran \(late), but raising the event loop to SCHED_RR priority \(priority) failed: \(error); max_auto_priority gives up until the next reload")
        }
    }
}
