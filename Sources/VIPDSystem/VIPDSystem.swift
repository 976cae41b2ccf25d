// VIPDSystem: the one way vipd's Swift code calls the C library and the kernel for general-purpose
// things — system calls with EINTR retry and typed errors (`syscall`, `SystemError`), the advice a
// permission error gets (`Capability`), the monotonic and wall clocks (`MonotonicClock`, `WallClock`,
// `Deadline`), Unix socket addresses (`UnixSocketAddress`), threads (`SystemThread`), the few
// socket calls Swift's Glibc module does not expose (accept4, SO_PEERCRED; C in `CVIPDSystem`) and
// RLIMIT_RTTIME with its SIGXCPU handler (`RealtimeCPUGuard`; the handler is C too).
//
// Used by VIPDLinux (the network data plane), VIPDObservability (metrics server, sd_notify, log
// writer) and VIPDDaemon (event loop, control socket). Must not: know about VRRP, networking policy
// or configuration — it only makes calls and reports their failures.
