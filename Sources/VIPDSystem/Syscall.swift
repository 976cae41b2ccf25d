// System calls: retry EINTR, throw a typed error naming the call, explain permission errors.
import CVIPDSystem
import Glibc

/// A Linux capability an operation needs; turns EPERM/EACCES into advice (written only here).
public enum Capability: String, Hashable, Sendable {
    /// Raw IP sockets (VRRP is IP protocol 112), AF_PACKET sockets (GARP/NA), SO_BINDTODEVICE
    /// before Linux 5.7.
    case netRaw = "CAP_NET_RAW"
    /// Netlink changes (addresses, links), writes under /proc/sys/net.
    case netAdmin = "CAP_NET_ADMIN"
    /// Binding a TCP port below 1024 (the metrics listener).
    case netBindService = "CAP_NET_BIND_SERVICE"
    /// Real-time scheduling (`realtime_priority`).
    case sysNice = "CAP_SYS_NICE"
    /// Locking memory (`lock_memory`).
    case ipcLock = "CAP_IPC_LOCK"
    /// Raising a resource limit's hard value (`realtime_cpu_limit` made larger on reload).
    case sysResource = "CAP_SYS_RESOURCE"

    /// What else can stand in the way besides the capability, if anything.
    var alsoNeeded: String? {
        switch self {
        case .sysNice: "under systemd also RestrictRealtime=no"
        case .ipcLock: "or a large enough RLIMIT_MEMLOCK"
        case .sysResource: "to raise the limit above an earlier one; under systemd also a SystemCallFilter= that allows setrlimit and prlimit64"
        case .netRaw, .netAdmin, .netBindService: nil
        }
    }

    /// Whether an errno from a call needing this capability means it is missing: EPERM/EACCES, and
    /// for memory locking also ENOMEM (over RLIMIT_MEMLOCK without the capability).
    public func explains(errno code: Int32) -> Bool {
        code == EPERM || code == EACCES || (self == .ipcLock && code == ENOMEM)
    }

    /// The sentence a permission error gets: "needs CAP_X; run as root or grant it to vipd".
    public var advice: String {
        "needs \(rawValue)" + (alsoNeeded.map { " (\($0))" } ?? "") + "; run as root or grant it to vipd"
    }
}

/// A failed system call: which call, which errno, and — for permission errors — what is missing.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    /// The capability the call needs, when known; used only to explain EPERM/EACCES.
    public var capability: Capability?

    public init(operation: String, errno: Int32, capability: Capability? = nil) {
        self.operation = operation; self.errno = errno; self.capability = capability
    }

    public var isPermissionDenied: Bool { errno == EPERM || errno == EACCES }

    /// strerror(3) for the errno.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        if let capability, capability.explains(errno: errno) {
            return "\(operation): \(reason) — \(capability.advice)"
        }
        return "\(operation): \(reason) (errno \(errno))"
    }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying on EINTR.
@discardableResult
public func syscall<T: FixedWidthInteger>(_ operation: @autoclosure () -> String, needs capability: Capability? = nil,
                                          _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemError(operation: operation(), errno: code, capability: capability)
    }
}

/// Like `syscall`, for non-blocking I/O: returns nil when the call would block (EAGAIN).
public func nonBlockingSyscall<T: FixedWidthInteger>(_ operation: @autoclosure () -> String, needs capability: Capability? = nil,
                                                     _ body: () -> T) throws(SystemError) -> T? {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return nil }
        throw SystemError(operation: operation(), errno: code, capability: capability)
    }
}

/// A call that returns 0 or an error number instead of setting errno (pthread_*, posix_spawn).
public func errorNumberCall(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) {
    let code = body()
    if code != 0 { throw SystemError(operation: operation(), errno: code) }
}

/// setsockopt for a trivially-copyable value.
public func setSocketOption<V>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: V,
                               _ operation: @autoclosure () -> String, needs capability: Capability? = nil) throws(SystemError) {
    _ = try withUnsafeBytes(of: value) { (raw) throws(SystemError) in
        try syscall(operation(), needs: capability) {
            setsockopt(fd, level, name, raw.baseAddress, socklen_t(raw.count))
        }
    }
}

/// Adds O_NONBLOCK to a descriptor's status flags.
public func setNonBlocking(_ fd: Int32) throws(SystemError) {
    let flags = try syscall("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
    try syscall("fcntl(F_SETFL, O_NONBLOCK)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}

/// Closes a descriptor we own. Errors from close are not actionable (the fd is gone either way).
public func closeDescriptor(_ fd: Int32) {
    _ = Glibc.close(fd)
}

/// SOCK_NONBLOCK | SOCK_CLOEXEC: every socket vipd opens is polled by the event loop and not inherited
/// by hook scripts.
public let socketFlagsNonBlockingCloseOnExec = vipd_sock_nonblock | vipd_sock_cloexec
/// SOCK_CLOEXEC alone, for the sockets a blocking client uses.
public let socketFlagCloseOnExec = vipd_sock_cloexec

/// accept4(2) with SOCK_CLOEXEC | SOCK_NONBLOCK: the descriptor is never inheritable, not even for
/// the instant an accept + fcntl pair would leave open to a concurrent fork. nil when no connection
/// is waiting.
public func acceptNonBlocking(_ listener: Int32, _ operation: @autoclosure () -> String = "accept4") throws(SystemError) -> Int32? {
    try nonBlockingSyscall(operation()) { vipd_accept_nonblock_cloexec(listener) }
}

/// The credentials of the process at the other end of a connected Unix socket (SO_PEERCRED), as
/// they were when it connected.
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) { self.pid = pid; self.uid = uid; self.gid = gid }

    public static func of(_ fd: Int32) throws(SystemError) -> PeerCredentials {
        var pid: Int32 = 0, uid: UInt32 = 0, gid: UInt32 = 0
        try syscall("getsockopt(SO_PEERCRED)") { vipd_peer_credentials(fd, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }
}

/// Returns the pages of freed heap memory to the kernel (glibc's `malloc_trim(0)`, every arena).
/// glibc keeps what a burst of allocations freed — a `vipd status` of 255 instances, a /metrics
/// page, a reload — as resident memory of the process; called after such rare bursts, never per
/// packet (docs/benchmarks.md, "Memory (RSS)"). Returns whether any memory was released.
@discardableResult
public func releaseFreeMemory() -> Bool {
    vipd_release_free_memory() == 1
}
