// Optional real-time scheduling and memory locking, as keepalived offers (vrrp_rt_priority,
// vrrp_no_swap). Both are off by default. Under heavy CPU load a daemon scheduled like any other can
// be kept off the CPU past Master_Down_Interval at 10 ms adverts, and the Backups take over although
// nothing failed; SCHED_RR for the event-loop thread removes that (docs/benchmarks.md).

#if canImport(Glibc)
import Glibc
#endif
import VIPDConfig
import VIPDSystem

enum ProcessSettings {
    /// Applies the configuration's scheduling to the calling thread (the event loop: the log writer
    /// and metrics threads keep normal scheduling) and locks memory if asked.
    static func apply(_ config: VIPDConfiguration) throws(DaemonError) {
        var param = sched_param()
        let policy: Int32
        if let priority = config.realtimePriority {
            policy = SCHED_RR
            param.sched_priority = Int32(priority)
        } else {
            policy = SCHED_OTHER
            param.sched_priority = 0
        }
        do throws(SystemError) {
            try syscall("sched_setscheduler", needs: .sysNice) { sched_setscheduler(0, policy, &param) }
        } catch {
            throw DaemonError.startup("realtime_priority \(config.realtimePriority ?? 0): \(error)")
        }
        if config.lockMemory {
            do throws(SystemError) {
                try syscall("mlockall", needs: .ipcLock) { mlockall(MCL_CURRENT | MCL_FUTURE) }
            } catch {
                throw DaemonError.startup("lock_memory: \(error)")
            }
        } else {
            munlockall()
        }
    }
}
