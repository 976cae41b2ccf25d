// RLIMIT_RTTIME and the SIGXCPU handler behind `realtime_cpu_limit` (the C half is in CVIPDSystem:
// a signal handler has to be C). The daemon decides what a SIGXCPU means; this only makes the calls.
import CVIPDSystem
import Glibc

public enum RealtimeCPUGuard {
    /// Installs the SIGXCPU handler and makes the calling thread the one it moves back to
    /// SCHED_OTHER; call it on the event-loop thread. Returns a descriptor that becomes readable
    /// when the signal arrived (the same one on every call; never closed).
    public static func install() throws(SystemError) -> Int32 {
        try syscall("sigaction(SIGXCPU)") { vipd_cpu_limit_guard_install() }
    }

    /// Whether SIGXCPU arrived since the last call; clears it.
    public static func take() -> Bool { vipd_cpu_limit_guard_take() != 0 }

    /// setrlimit(RLIMIT_RTTIME): soft and hard limits in microseconds. 0 or an errno.
    public static func setLimit(softMicroseconds: UInt64, hardMicroseconds: UInt64) -> Int32 {
        vipd_set_rttime_limit(softMicroseconds, hardMicroseconds) == 0 ? 0 : errno
    }
}
