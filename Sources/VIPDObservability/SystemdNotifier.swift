// sd_notify(3) without libsystemd: one datagram per state change to $NOTIFY_SOCKET.
//
// Sends are non-blocking (MSG_DONTWAIT): if systemd's queue is full the message is lost and an
// error returned, but the event loop never waits on PID 1.

import Glibc
import VIPDSystem

public enum SystemdNotifyError: Error, Equatable, CustomStringConvertible {
    /// NOTIFY_SOCKET is neither an absolute path nor `@abstract`, or is too long for sun_path.
    case invalidSocket(String)
    case system(socket: String, call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidSocket(let s):
            return "NOTIFY_SOCKET=\(s) is not an absolute path or @abstract name that fits a unix socket address"
        case .system(let socket, let call, let code):
            return "systemd notification to \(socket): \(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

public struct SystemdNotifier: Sendable {
    /// NOTIFY_SOCKET as given, nil when not started by systemd with Type=notify (then every call is a no-op).
    public let socketPath: String?
    /// WATCHDOG_USEC when it applies to this process (WATCHDOG_PID unset or equal to our pid).
    public let watchdogInterval: Duration?

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the process environment.
    public init() {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        self.init(notifySocket: env("NOTIFY_SOCKET"), watchdogUsec: env("WATCHDOG_USEC"),
                  watchdogPID: env("WATCHDOG_PID"), ownPID: getpid())
    }

    /// Reads the same variables from `environment` (e.g. a parsed `/proc/PID/environ` or a test's).
    public init(environment: [String: String]) {
        self.init(notifySocket: environment["NOTIFY_SOCKET"], watchdogUsec: environment["WATCHDOG_USEC"],
                  watchdogPID: environment["WATCHDOG_PID"], ownPID: getpid())
    }

    /// For tests and for callers that already parsed the environment.
    public init(notifySocket: String?, watchdogUsec: String? = nil, watchdogPID: String? = nil, ownPID: Int32 = getpid()) {
        socketPath = notifySocket.flatMap { $0.isEmpty ? nil : $0 }
        watchdogInterval = Self.watchdogInterval(usec: watchdogUsec, pid: watchdogPID, ownPID: ownPID)
    }

    /// How often to call `watchdog()`: half the interval, as sd_watchdog_enabled(3) recommends.
    public var watchdogPingInterval: Duration? { watchdogInterval.map { $0 / 2 } }

    public var isEnabled: Bool { socketPath != nil }

    /// Parses WATCHDOG_USEC/WATCHDOG_PID the way sd_watchdog_enabled(3) does.
    static func watchdogInterval(usec: String?, pid: String?, ownPID: Int32) -> Duration? {
        guard let usec, let value = UInt64(usec), value > 0 else { return nil }
        if let pid {
            guard let target = Int32(pid), target == ownPID else { return nil }
        }
        return .microseconds(Int64(clamping: value))
    }

    // MARK: Messages

    /// Startup finished: configuration loaded, sockets open, routers started.
    public func ready() throws(SystemdNotifyError) { try send("READY=1") }

    /// A reload began. Includes MONOTONIC_USEC, which Type=notify-reload (systemd ≥ 253) requires
    /// to match the reload to its request; older systemd ignores the extra field. Send `ready()`
    /// when the reload is done.
    public func reloading() throws(SystemdNotifyError) {
        try send(Self.reloadingMessage(monotonicMicroseconds: Self.monotonicMicroseconds()))
    }

    /// Shutdown began.
    public func stopping() throws(SystemdNotifyError) { try send("STOPPING=1") }

    /// Free-form status shown by `systemctl status`. Newlines would start a new assignment, so
    /// they become spaces.
    public func status(_ text: String) throws(SystemdNotifyError) {
        try send(Self.statusMessage(text))
    }

    /// Watchdog keep-alive; call every `watchdogPingInterval` from the event loop, so a wedged loop
    /// gets the daemon restarted.
    public func watchdog() throws(SystemdNotifyError) { try send("WATCHDOG=1") }

    static func reloadingMessage(monotonicMicroseconds: UInt64) -> String {
        "RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds)"
    }

    static func statusMessage(_ text: String) -> String {
        "STATUS=" + String(text.map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" ? " " : $0 })
    }

    static func monotonicMicroseconds() -> UInt64 {
        UInt64(MonotonicClock.nanoseconds() / 1_000)
    }

    /// Sends one raw notification (`KEY=VALUE` lines). No-op without NOTIFY_SOCKET.
    public func send(_ message: String) throws(SystemdNotifyError) {
        guard let path = socketPath else { return }
        // systemd gives an absolute path or an @abstract name; anything else is not for us.
        guard path.hasPrefix("/") || path.hasPrefix("@"),
              let address = try? UnixSocketAddress(path, allowAbstract: true) else { throw .invalidSocket(path) }
        let fd: Int32
        do throws(SystemError) {
            fd = try syscall("socket") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | socketFlagCloseOnExec, 0) }
        } catch {
            throw .system(socket: path, call: "socket", errno: error.errno)
        }
        defer { closeDescriptor(fd) }
        let payload = Array(message.utf8)
        do throws(SystemError) {
            try address.withSockaddr { (sockaddr, length) throws(SystemError) in
                _ = try syscall("sendto") {
                    payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), sockaddr, length) }
                }
            }
        } catch {
            throw .system(socket: path, call: "sendto", errno: error.errno)
        }
    }
}
