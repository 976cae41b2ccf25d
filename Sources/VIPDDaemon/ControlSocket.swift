// The control socket: a Unix stream socket speaking one JSON request line and one JSON response
// per connection. The server runs on the event loop; the client (the `vipd` CLI) blocks.

#if canImport(Glibc)
import Glibc
#endif
import VIPDLinux
import Foundation

public struct ControlRequest: Codable, Equatable, Sendable {
    public enum Command: String, Codable, Sendable { case status, handover, approve, reload }
    public var command: Command
    public var instance: String?
    /// handover: keep stepping aside this long (nil = until cancelled).
    public var holdSeconds: Double?
    /// handover: cancel a handover (resume normal election).
    public var cancel: Bool?

    public init(command: Command, instance: String? = nil, holdSeconds: Double? = nil, cancel: Bool? = nil) {
        self.command = command; self.instance = instance; self.holdSeconds = holdSeconds; self.cancel = cancel
    }
    enum CodingKeys: String, CodingKey { case command, instance, holdSeconds = "hold_seconds", cancel }
}

public struct ControlResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String?
    public var status: DaemonStatus?

    public init(ok: Bool, message: String? = nil, status: DaemonStatus? = nil) {
        self.ok = ok; self.message = message; self.status = status
    }
    public static func failure(_ message: String) -> ControlResponse { ControlResponse(ok: false, message: message) }
}

public enum ControlSocketError: Error, CustomStringConvertible {
    case pathTooLong(String)
    case alreadyRunning(String)
    case system(String, SystemError)
    case noDaemon(String, SystemError)
    case badResponse(String)

    public var description: String {
        switch self {
        case .pathTooLong(let p): "control socket path is too long (max 107 bytes): \(p)"
        case .alreadyRunning(let p): "another vipd is already serving the control socket \(p)"
        case .system(let p, let e): "control socket \(p): \(e)"
        case .noDaemon(let p, let e):
            e.errno == EACCES || e.errno == EPERM
                ? "cannot reach vipd at \(p): permission denied (run as root or as the socket's group)"
                : "cannot reach vipd at \(p): \(String(cString: strerror(e.errno))) — is the daemon running?"
        case .badResponse(let why): "bad response from vipd: \(why)"
        }
    }
}

func makeUnixAddress(_ path: String) throws(ControlSocketError) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .pathTooLong(path) }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
        raw[bytes.count] = 0
    }
    return address
}

func connectUnix(_ path: String) throws(ControlSocketError) -> Int32 {
    var address = try makeUnixAddress(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .system(path, SystemError(operation: "socket", errno: errno)) }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    if result != 0 {
        let code = errno
        close(fd)
        throw .noDaemon(path, SystemError(operation: "connect", errno: code))
    }
    return fd
}

public final class ControlServer {
    private let loop: EventLoop
    public let path: String
    private let listenFD: Int32
    private var connections: [Int32: (buffer: [UInt8], timer: TimerID)] = [:]
    private let handler: (ControlRequest) -> ControlResponse

    /// Maximum request size; anything longer is refused.
    static let maximumRequestBytes = 64 * 1024
    /// A client that doesn't send its request within this time is dropped.
    static let requestTimeout: Duration = .seconds(2)

    public init(path: String, loop: EventLoop, handler: @escaping (ControlRequest) -> ControlResponse) throws(ControlSocketError) {
        self.loop = loop
        self.path = path
        self.handler = handler
        // A live daemon answers on the path: refuse to steal it. A stale file from a crash is removed.
        if let fd = try? connectUnix(path) {
            close(fd)
            throw .alreadyRunning(path)
        }
        unlink(path)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var address = try makeUnixAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(path, SystemError(operation: "socket", errno: errno)) }
        let oldMask = umask(0o077)   // root-only socket: status reveals topology, handover changes it
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw .system(path, SystemError(operation: "bind", errno: code))
        }
        listenFD = fd
        do {
            try loop.watch(fd: fd) { [weak self] in self?.acceptAll() }
        } catch {
            close(fd)
            throw .system(path, SystemError(operation: "epoll_ctl", errno: EINVAL))
        }
    }

    public func shutdown() {
        for fd in Array(connections.keys) { drop(fd) }
        loop.unwatch(fd: listenFD)
        Glibc.close(listenFD)
        unlink(path)
    }

    private func acceptAll() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let timer = loop.schedule(after: Self.requestTimeout) { [weak self] in self?.drop(fd) }
            connections[fd] = ([], timer)
            do {
                try loop.watch(fd: fd) { [weak self] in self?.readRequest(fd) }
            } catch {
                drop(fd)
            }
        }
    }

    private func drop(_ fd: Int32) {
        guard let entry = connections.removeValue(forKey: fd) else { return }
        loop.cancel(entry.timer)
        loop.unwatch(fd: fd)
        Glibc.close(fd)
    }

    private func readRequest(_ fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard var entry = connections[fd] else { return }
        if n > 0 { entry.buffer += chunk[0..<n] }
        connections[fd] = entry
        let complete = n == 0 || entry.buffer.contains(UInt8(ascii: "\n"))
        if entry.buffer.count > Self.maximumRequestBytes {
            respond(fd, .failure("request too large"))
            return
        }
        guard complete else { return }
        let line = entry.buffer.split(separator: UInt8(ascii: "\n")).first.map(Array.init) ?? []
        let response: ControlResponse
        do {
            let request = try JSONDecoder().decode(ControlRequest.self, from: Data(line))
            response = handler(request)
        } catch {
            response = .failure("malformed request: \(error)")
        }
        respond(fd, response)
    }

    private func respond(_ fd: Int32, _ response: ControlResponse) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((try? encoder.encode(response)) ?? Data("{\"ok\":false}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        // Responses are small; a client that doesn't read loses its answer rather than blocking us.
        var offset = 0
        var attempts = 0
        while offset < bytes.count && attempts < 1000 {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 { offset += written } else if errno == EAGAIN {
                attempts += 1
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 1)
            } else { break }
        }
        drop(fd)
    }
}

/// Blocking client used by the CLI.
public enum ControlClient {
    public static func send(_ request: ControlRequest, to path: String, timeout: Duration = .seconds(10)) throws -> ControlResponse {
        let fd = try connectUnix(path)
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var payload = Array(try JSONEncoder().encode(request))
        payload.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < payload.count {
            let n = payload[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ControlSocketError.system(path, SystemError(operation: "write", errno: errno)) }
            offset += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { response += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ControlSocketError.system(path, SystemError(operation: "read", errno: errno)) }
            break
        }
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: Data(response))
        } catch {
            throw ControlSocketError.badResponse(response.isEmpty ? "empty reply" : "\(error)")
        }
    }
}
