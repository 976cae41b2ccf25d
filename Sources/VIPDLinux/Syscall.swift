// The one way vipd calls into the kernel: retry EINTR, throw a typed error naming the call.
import CVIPDShim
import Glibc

/// A Linux capability an operation needs; used to turn EPERM/EACCES into advice.
public enum Capability: String, Hashable, Sendable {
    /// Raw IP sockets (VRRP is IP protocol 112), AF_PACKET sockets (GARP/NA), SO_BINDTODEVICE
    /// before Linux 5.7.
    case netRaw = "CAP_NET_RAW"
    /// Netlink changes (addresses, links), writes under /proc/sys/net.
    case netAdmin = "CAP_NET_ADMIN"
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

    public var description: String {
        let reason = String(cString: strerror(errno))
        if isPermissionDenied, let capability {
            return "\(operation): \(reason) (needs \(capability.rawValue); run as root or grant it to vipd)"
        }
        return "\(operation): \(reason) (errno \(errno))"
    }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying on EINTR.
@discardableResult
public func syscall<T: FixedWidthInteger>(_ operation: String, needs capability: Capability? = nil,
                                   _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemError(operation: operation, errno: code, capability: capability)
    }
}

/// Like `syscall`, for non-blocking I/O: returns nil when the call would block (EAGAIN).
func nonBlockingSyscall<T: FixedWidthInteger>(_ operation: String, needs capability: Capability? = nil,
                                              _ body: () -> T) throws(SystemError) -> T? {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return nil }
        throw SystemError(operation: operation, errno: code, capability: capability)
    }
}

/// setsockopt for a trivially-copyable value.
func setSocketOption<V>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: V,
                                         _ operation: String, needs capability: Capability? = nil) throws(SystemError) {
    _ = try withUnsafeBytes(of: value) { (raw) throws(SystemError) in
        try syscall(operation, needs: capability) {
            setsockopt(fd, level, name, raw.baseAddress, socklen_t(raw.count))
        }
    }
}

/// Closes a descriptor we own. Errors from close are not actionable (the fd is gone either way).
func closeDescriptor(_ fd: Int32) {
    _ = Glibc.close(fd)
}

/// Interface name → index, via if_nametoindex (no capability needed).
public func interfaceIndex(named name: String) throws(SystemError) -> Int32 {
    let index = if_nametoindex(name)
    if index == 0 { throw SystemError(operation: "if_nametoindex(\(name))", errno: Glibc.errno) }
    return Int32(index)
}

/// SOCK_NONBLOCK | SOCK_CLOEXEC: every socket vipd opens is polled by the event loop and not inherited
/// by hook scripts.
let socketFlagsNonBlockingCloseOnExec = vipd_sock_nonblock | vipd_sock_cloexec
