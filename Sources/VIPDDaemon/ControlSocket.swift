// The control socket: a Unix stream socket speaking one JSON request line and one JSON response
// per connection. The server runs on the event loop and never blocks it: it reads and writes only
// when the socket is ready, serves at most `maximumConnections` clients at once, and only root and
// the daemon's own user. The client (the `vipd` CLI) blocks.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import VIPDSystem

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

    /// The longest handover hold: 30 days.
    public static let maximumHoldSeconds: Double = 30 * 24 * 3600
    /// Instance names are short (the configuration allows far less); this bounds what a request carries.
    public static let maximumInstanceBytes = 256

    /// Why a request is refused before anything acts on it.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Checks every field; the server decodes only requests that pass, and the client sends only those.
    public func validate() throws(Invalid) {
        if let instance {
            guard !instance.isEmpty, instance.utf8.count <= Self.maximumInstanceBytes,
                  !instance.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw Invalid("instance must be a name of 1 to \(Self.maximumInstanceBytes) bytes without control characters")
            }
        }
        if command != .handover {
            if holdSeconds != nil { throw Invalid("hold_seconds applies to handover only") }
            if cancel != nil { throw Invalid("cancel applies to handover only") }
        }
        if let hold = holdSeconds {
            guard hold.isFinite, hold >= 0, hold <= Self.maximumHoldSeconds else {
                throw Invalid("the handover hold must be from 0 to 30 days (\(Int(Self.maximumHoldSeconds)) s), not \(hold) s")
            }
            if cancel == true { throw Invalid("a cancelled handover takes no hold") }
        }
    }

    public init(from decoder: Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        command = try fields.decode(Command.self, forKey: .command)
        instance = try fields.decodeIfPresent(String.self, forKey: .instance)
        holdSeconds = try fields.decodeIfPresent(Double.self, forKey: .holdSeconds)
        cancel = try fields.decodeIfPresent(Bool.self, forKey: .cancel)
        try validate()
    }
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
    /// The CLI refused to send a request the daemon would refuse.
    case invalidRequest(ControlRequest.Invalid)

    public var description: String {
        switch self {
        case .pathTooLong(let p): "control socket path is too long (max \(UnixSocketAddress.capacity - 1) bytes): \(p)"
        case .alreadyRunning(let p): "another vipd is already serving the control socket \(p)"
        case .system(let p, let e): "control socket \(p): \(e)"
        case .noDaemon(let p, let e):
            e.isPermissionDenied
                ? "cannot reach vipd at \(p): permission denied (only root and the daemon's user may use it)"
                : "cannot reach vipd at \(p): \(e.reason) — is the daemon running?"
        case .badResponse(let why): "bad response from vipd: \(why)"
        case .invalidRequest(let why): "invalid request: \(why)"
        }
    }
}

private func unixAddress(_ path: String) throws(ControlSocketError) -> UnixSocketAddress {
    do { return try UnixSocketAddress(path) } catch { throw .pathTooLong(path) }
}

/// A Unix stream socket for the control socket at `path`, with `flags` (SOCK_CLOEXEC at least).
private func streamSocket(_ path: String, flags: Int32) throws(ControlSocketError) -> Int32 {
    do throws(SystemError) {
        return try syscall("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | flags, 0) }
    } catch {
        throw .system(path, error)
    }
}

func connectUnix(_ path: String) throws(ControlSocketError) -> Int32 {
    let address = try unixAddress(path)
    let fd = try streamSocket(path, flags: socketFlagCloseOnExec)
    do throws(SystemError) {
        try address.connect(fd)
    } catch {
        closeDescriptor(fd)
        throw .noDaemon(path, error)
    }
    return fd
}

public final class ControlServer {
    private let loop: EventLoop
    public let path: String
    private let listenFD: Int32
    /// A client: its request so far, then its reply and how much of it went out.
    private struct Connection {
        /// The answer a refused client gets instead of the handler's.
        let verdict: ControlResponse?
        var request: [UInt8] = []
        var reply: [UInt8]?
        var written = 0
        let timer: TimerID
    }
    private var connections: [Int32: Connection] = [:]
    private let handler: (ControlRequest) -> ControlResponse
    /// Users whose clients are served (SO_PEERCRED): root and the daemon's own user.
    let allowedUsers: Set<UInt32>

    /// Maximum request size; anything longer is refused.
    static let maximumRequestBytes = 64 * 1024
    /// A client has this long to send its request and take its reply; then it is dropped.
    static let requestTimeout: Duration = .seconds(2)
    /// Clients served at once; more are answered "busy".
    static let maximumConnections = 8
    /// After an accept error (EMFILE, ENOBUFS) the listener rests this long instead of spinning.
    static let acceptPause: Duration = .milliseconds(100)

    public convenience init(path: String, loop: EventLoop, handler: @escaping (ControlRequest) -> ControlResponse) throws(ControlSocketError) {
        try self.init(path: path, loop: loop, allowedUsers: [0, geteuid()], handler: handler)
    }

    init(path: String, loop: EventLoop, allowedUsers: Set<UInt32>,
         handler: @escaping (ControlRequest) -> ControlResponse) throws(ControlSocketError) {
        self.loop = loop
        self.path = path
        self.handler = handler
        self.allowedUsers = allowedUsers
        // A live daemon answers on the path: refuse to steal it. A stale file from a crash is removed.
        if let fd = try? connectUnix(path) {
            closeDescriptor(fd)
            throw .alreadyRunning(path)
        }
        let address = try unixAddress(path)
        unlink(path)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = try streamSocket(path, flags: socketFlagsNonBlockingCloseOnExec)
        do throws(SystemError) {
            let oldMask = umask(0o077)   // root-only socket: status reveals topology, handover changes it
            defer { umask(oldMask) }
            try address.bind(fd)
            try syscall("listen") { listen(fd, 16) }
        } catch {
            closeDescriptor(fd)
            throw .system(path, error)
        }
        listenFD = fd
        do throws(SystemError) {
            try watchListener()
        } catch {
            closeDescriptor(fd)
            unlink(path)
            throw .system(path, error)
        }
    }

    public func shutdown() {
        for fd in Array(connections.keys) { drop(fd) }
        loop.unwatch(fd: listenFD)
        closeDescriptor(listenFD)
        unlink(path)
    }

    private func watchListener() throws(SystemError) {
        try loop.watch(fd: listenFD) { [weak self] in self?.acceptAll() }
    }

    private func acceptAll() {
        while true {
            let fd: Int32
            do throws(SystemError) {
                guard let accepted = try acceptNonBlocking(listenFD, "accept4(\(path))") else { return }
                fd = accepted
            } catch {
                if error.errno == ECONNABORTED { continue }
                // Level-triggered: without a pause, a persistent error would spin the loop.
                loop.unwatch(fd: listenFD)
                loop.schedule(after: Self.acceptPause) { [weak self] in try? self?.watchListener() }
                return
            }
            admit(fd)
        }
    }

    /// Serves the client, or — when its user is not allowed or every slot is taken — answers it
    /// with the refusal once it has sent its request (answering earlier would reset a client that is
    /// still writing). Refused clients take no serving slot; beyond twice the limit a client is
    /// closed without a word.
    private func admit(_ fd: Int32) {
        var verdict: ControlResponse?
        if let peer = try? PeerCredentials.of(fd), allowedUsers.contains(peer.uid) {
            if connections.values.count(where: { $0.verdict == nil }) >= Self.maximumConnections {
                verdict = .failure("busy: \(Self.maximumConnections) control clients are already connected; try again")
            }
        } else {
            verdict = .failure("permission denied: only root and the daemon's user (uid \(geteuid())) may use the control socket")
        }
        guard connections.count < 2 * Self.maximumConnections else {
            closeDescriptor(fd)
            return
        }
        let timer = loop.schedule(after: Self.requestTimeout) { [weak self] in self?.drop(fd) }
        connections[fd] = Connection(verdict: verdict, timer: timer)
        do throws(SystemError) {
            try loop.watch(fd: fd) { [weak self] in self?.readRequest(fd) }
        } catch {
            drop(fd)
        }
    }

    private func drop(_ fd: Int32) {
        guard let entry = connections.removeValue(forKey: fd) else { return }
        loop.cancel(entry.timer)
        loop.unwatch(fd: fd)
        closeDescriptor(fd)
    }

    private func readRequest(_ fd: Int32) {
        guard var connection = connections[fd], connection.reply == nil else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count: Int?
        do throws(SystemError) {
            count = try nonBlockingSyscall("read") { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        } catch {
            drop(fd)
            return
        }
        guard let count else { return }
        connection.request += chunk[0..<count]
        connections[fd] = connection
        if connection.request.count > Self.maximumRequestBytes {
            respond(fd, .failure("request too large"))
            return
        }
        guard count == 0 || connection.request.contains(UInt8(ascii: "\n")) else { return }
        let line = connection.request.split(separator: UInt8(ascii: "\n")).first.map(Array.init) ?? []
        respond(fd, connection.verdict ?? answer(line))
    }

    private func answer(_ line: [UInt8]) -> ControlResponse {
        do {
            return handler(try JSONDecoder().decode(ControlRequest.self, from: Data(line)))
        } catch let invalid as ControlRequest.Invalid {
            return .failure("invalid request: \(invalid)")
        } catch {
            return .failure("malformed request: \(error)")
        }
    }

    private static func encode(_ response: ControlResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((try? encoder.encode(response)) ?? Data("{\"ok\":false}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private func respond(_ fd: Int32, _ response: ControlResponse) {
        guard connections[fd] != nil else { return }
        connections[fd]?.reply = Self.encode(response)
        writeReply(fd)
    }

    /// Writes what the socket takes now; the rest when the loop says it is writable again. The
    /// request timeout still bounds a client that never reads.
    private func writeReply(_ fd: Int32) {
        guard var connection = connections[fd], let reply = connection.reply else { return }
        while connection.written < reply.count {
            let offset = connection.written
            let written: Int?
            do throws(SystemError) {
                written = try nonBlockingSyscall("send") {
                    reply.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                }
            } catch {
                drop(fd)
                return
            }
            guard let written else {
                connections[fd] = connection
                do throws(SystemError) {
                    try loop.watch(fd: fd, forWriting: true) { [weak self] in self?.writeReply(fd) }
                } catch {
                    drop(fd)
                }
                return
            }
            connection.written += written
        }
        drop(fd)
        // A status of 255 instances allocates and frees about a megabyte, which glibc would keep.
        releaseFreeMemory()
    }
}

/// Blocking client used by the CLI.
public enum ControlClient {
    public static func send(_ request: ControlRequest, to path: String, timeout: Duration = .seconds(10)) throws -> ControlResponse {
        do throws(ControlRequest.Invalid) { try request.validate() } catch { throw ControlSocketError.invalidRequest(error) }
        let fd = try connectUnix(path)
        defer { closeDescriptor(fd) }
        var payload = Array(try JSONEncoder().encode(request))
        payload.append(UInt8(ascii: "\n"))
        do throws(SystemError) {
            try setSocketOption(fd, SOL_SOCKET, SO_RCVTIMEO, timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0),
                                "setsockopt(SO_RCVTIMEO)")
            var offset = 0
            while offset < payload.count {
                let start = offset
                offset += try syscall("write") {
                    payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + start, $0.count - start, Int32(MSG_NOSIGNAL)) }
                }
            }
        } catch {
            throw ControlSocketError.system(path, error)
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do throws(SystemError) {
                count = try syscall("read") { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            } catch {
                throw ControlSocketError.system(path, error)
            }
            if count == 0 { break }
            response += chunk[0..<count]
        }
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: Data(response))
        } catch {
            throw ControlSocketError.badResponse(response.isEmpty ? "empty reply" : "\(error)")
        }
    }
}
