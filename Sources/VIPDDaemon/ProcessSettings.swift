// Optional real-time scheduling and memory locking, as keepalived offers (vrrp_rt_priority,
// vrrp_no_swap). Both are off by default. Under heavy CPU load a daemon scheduled like any other can
// be kept off the CPU past Master_Down_Interval at 10 ms adverts, and the Backups take over although
// nothing failed; SCHED_RR for the event-loop thread removes that (docs/benchmarks.md).
//
// With neither configured (and, on reload, neither configured before) no scheduling or memory-lock
// call is made at all: the shipped unit forbids them (SystemCallFilter=~@resources answers EPERM to
// sched_setscheduler even for SCHED_OTHER), and a daemon that never asked for them must not fail on it.
//
// Whenever the event loop goes to SCHED_RR, RLIMIT_RTTIME is set first (`realtime_cpu_limit`, see
// RealtimeCPULimit.swift). Failing to set it is not fatal: the loop runs real-time without the
// guard, as it did before the key existed, and the daemon logs why as an error.

#if canImport(Glibc)
import Glibc
#endif
import CVIPDSystem
import VIPDConfig
import VIPDSystem

/// The system calls ProcessSettings makes; tests record them instead.
struct ProcessSettingsCalls: Sendable {
    /// sched_setscheduler(0, policy, priority): 0 or an errno. SCHED_RR comes with
    /// SCHED_RESET_ON_FORK (as in keepalived): only the event loop is real-time, not the threads it
    /// starts (the metrics server) nor hooks and track scripts, which real-time would also be
    /// subject to RLIMIT_RTTIME, without the SIGXCPU handler.
    var setScheduler: @Sendable (_ policy: Int32, _ priority: Int32) -> Int32
    /// mlockall(MCL_CURRENT | MCL_FUTURE): 0 or an errno.
    var lockAll: @Sendable () -> Int32
    /// munlockall().
    var unlockAll: @Sendable () -> Void
    /// setrlimit(RLIMIT_RTTIME, soft, hard), in microseconds: 0 or an errno.
    var limitRealtimeCPU: @Sendable (_ soft: UInt64, _ hard: UInt64) -> Int32

    static let system = ProcessSettingsCalls(
        setScheduler: { policy, priority in
            var param = sched_param()
            param.sched_priority = priority
            let flags = policy == SCHED_RR ? vipd_sched_reset_on_fork : 0
            return sched_setscheduler(0, policy | flags, &param) == 0 ? 0 : errno
        },
        lockAll: { mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno },
        unlockAll: { munlockall() },
        limitRealtimeCPU: { soft, hard in RealtimeCPUGuard.setLimit(softMicroseconds: soft, hardMicroseconds: hard) })

    /// Sets `realtime_cpu_limit` as RLIMIT_RTTIME; nil, or the error to log when it failed.
    func setRealtimeCPULimit(for config: VIPDConfiguration) -> String? {
        let limit = config.effectiveRealtimeCPULimit
        let (soft, hard) = RealtimeCPULimit.rlimit(limit)
        let code = limitRealtimeCPU(soft, hard)
        guard code != 0 else { return nil }
        let error = SystemError(operation: "setrlimit(RLIMIT_RTTIME)", errno: code, capability: .sysResource)
        return "realtime_cpu_limit \(VIPDConfiguration.renderDuration(limit)): \(error); the event loop runs real-time without this guard"
    }
}

enum ProcessSettings {
    /// Applies the configuration's scheduling to the calling thread (the event loop: the log writer
    /// and metrics threads keep normal scheduling) and locks memory if asked. `previous` is the
    /// running configuration on reload (nil at start): a setting that is off now and was off before
    /// makes no call; one turned off goes back to SCHED_OTHER / munlockall.
    ///
    /// `raisedTo` is the SCHED_RR priority `max_auto_priority` raised the daemon to (0: none); a
    /// reload puts the scheduling back to the configured one. With `max_auto_priority` newly on and
    /// no `realtime_priority`, SCHED_RR is tried once (priority 1, then back to normal), so a
    /// missing CAP_SYS_NICE is refused now, not found when the host is already overloaded.
    ///
    /// Returns what failed without stopping the daemon (RLIMIT_RTTIME not set), to log as errors.
    @discardableResult
    static func apply(_ config: VIPDConfiguration, previous: VIPDConfiguration? = nil, raisedTo: Int32 = 0,
                      calls: ProcessSettingsCalls = .system) throws(DaemonError) -> [String] {
        var problems: [String] = []
        if let priority = config.realtimePriority {
            if let problem = calls.setRealtimeCPULimit(for: config) { problems.append(problem) }
            try setScheduler(SCHED_RR, Int32(priority), config, calls)
        } else if previous?.realtimePriority != nil || raisedTo > 0 {
            try setScheduler(SCHED_OTHER, 0, config, calls)
        }
        if let maximum = config.maxAutoPriority, config.realtimePriority == nil, previous?.maxAutoPriority == nil {
            let code = calls.setScheduler(SCHED_RR, 1)
            if code != 0 {
                let error = SystemError(operation: "sched_setscheduler", errno: code, capability: .sysNice)
                throw DaemonError.startup("max_auto_priority \(maximum): \(error)")
            }
            try setScheduler(SCHED_OTHER, 0, config, calls)
        }
        if config.lockMemory {
            let code = calls.lockAll()
            if code != 0 {
                throw DaemonError.startup("lock_memory: \(SystemError(operation: "mlockall", errno: code, capability: .ipcLock))")
            }
        } else if previous?.lockMemory == true {
            calls.unlockAll()
        }
        return problems
    }

    private static func setScheduler(_ policy: Int32, _ priority: Int32, _ config: VIPDConfiguration,
                                     _ calls: ProcessSettingsCalls) throws(DaemonError) {
        let code = calls.setScheduler(policy, priority)
        guard code != 0 else { return }
        let error = SystemError(operation: "sched_setscheduler", errno: code, capability: .sysNice)
        throw DaemonError.startup(config.realtimePriority.map { "realtime_priority \($0): \(error)" }
            ?? "returning to normal scheduling (realtime_priority removed): \(error)")
    }
}
