// A tiny HTTP/1.x server for `GET /metrics`, on its own thread so a scrape never touches the
// daemon's event loop. Every client is handled without blocking (one poll over all of them), each
// bounded in time and size: a slow or malicious client holds only its own connection, for at most
// `requestTimeout`, and never delays another scrape or the daemon.

import Glibc
import Synchronization
import VIPDSystem
import VRRP

public enum MetricsHTTPServerError: Error, Equatable, CustomStringConvertible {
    /// The listen address is not `IPv4:port` or `[IPv6]:port`.
    case invalidListenAddress(String)
    /// A system call failed while setting up the listener.
    case system(address: String, call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidListenAddress(let text):
            return "invalid metrics listen address \"\(text)\": expected IPv4:port (127.0.0.1:9650) or [IPv6]:port ([::1]:9650)"
        case .system(let address, let call, let code):
            switch code {
            case EADDRINUSE: return "\(address) is already in use"
            case EADDRNOTAVAIL: return "\(address) is not an address of this host"
            case EACCES: return "binding \(address) was refused: ports below 1024 \(Capability.netBindService.advice)"
            default: return "metrics listener \(address): \(call) failed: \(String(cString: strerror(code))) (errno \(code))"
            }
        }
    }
}

public final class MetricsHTTPServer: Sendable {
    /// Largest request head we read; anything longer gets 431.
    public static let maxRequestBytes = 8192
    /// Time a client has to send its request head and take the response.
    public static let requestTimeout: Duration = .seconds(2)
    /// Connections served at once; more wait in the listen backlog until one finishes (at most
    /// `requestTimeout`).
    public static let maxClients = 32

    /// The bound address with the real port (useful with port 0), e.g. `127.0.0.1:40123`.
    public let boundAddress: String
    public let port: UInt16

    private let listenFD: Int32
    /// `stop()` writes to it to wake the server thread out of `poll`.
    private let wake: WakePipe
    private let thread: SystemThread

    /// Binds `address`:`port` (SO_REUSEADDR) and starts serving on a new thread. The daemon calls
    /// this with the address the configuration loader resolved, so it parses no text itself.
    public convenience init(address: IPAddress, port: UInt16, metrics: VIPDMetrics) throws(MetricsHTTPServerError) {
        try self.init(endpoint: ListenEndpoint(address: address, port: port), metrics: metrics)
    }

    /// Binds `listen` (`IPv4:port` or `[IPv6]:port`); for tools and tests.
    public convenience init(listen: String, metrics: VIPDMetrics) throws(MetricsHTTPServerError) {
        guard let endpoint = ListenEndpoint(listen) else { throw .invalidListenAddress(listen) }
        try self.init(endpoint: endpoint, metrics: metrics)
    }

    private init(endpoint: ListenEndpoint, metrics: VIPDMetrics) throws(MetricsHTTPServerError) {
        let listen = endpoint.text
        func step<T>(_ call: String, _ body: () throws(SystemError) -> T) throws(MetricsHTTPServerError) -> T {
            do throws(SystemError) { return try body() } catch { throw .system(address: listen, call: call, errno: error.errno) }
        }
        // Non-blocking so a connection that vanishes between poll and accept can't stall us.
        let fd = try step("socket") { () throws(SystemError) in
            try syscall("socket") { socket(endpoint.family, Int32(SOCK_STREAM.rawValue) | socketFlagsNonBlockingCloseOnExec, 0) }
        }
        var started = false
        defer { if !started { closeDescriptor(fd) } }
        try step("setsockopt(SO_REUSEADDR)") { () throws(SystemError) in
            try setSocketOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "setsockopt(SO_REUSEADDR)")
        }
        if endpoint.family == AF_INET6 {
            // `[::]:port` means IPv6 only: the listener serves exactly the family it was given.
            try step("setsockopt(IPV6_V6ONLY)") { () throws(SystemError) in
                try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), "setsockopt(IPV6_V6ONLY)")
            }
        }
        try step("bind") { () throws(SystemError) in _ = try syscall("bind") { endpoint.withSockaddr { bind(fd, $0, $1) } } }
        try step("listen") { () throws(SystemError) in _ = try syscall("listen") { Glibc.listen(fd, 16) } }
        let actualPort = try step("getsockname") { () throws(SystemError) in try Self.localPort(fd) }
        port = actualPort
        boundAddress = endpoint.family == AF_INET6 ? "[\(endpoint.host)]:\(actualPort)" : "\(endpoint.host):\(actualPort)"
        let wake = try step("pipe2") { () throws(SystemError) in try WakePipe() }
        let wakeFD = wake.readFD
        do throws(SystemError) {
            thread = try SystemThread.start {
                var loop = ServerLoop(listenFD: fd, wakeFD: wakeFD, metrics: metrics)
                loop.run()
            }
        } catch {
            wake.close()
            throw .system(address: listen, call: "pthread_create", errno: error.errno)
        }
        started = true
        listenFD = fd
        self.wake = wake
    }

    /// Stops serving, waits for the server thread and closes the socket. Idempotent.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.wake()
        thread.join()
        closeDescriptor(listenFD)
        wake.close()
    }
    private let stopped = Atomic<Bool>(false)

    deinit { stop() }

    private static func localPort(_ fd: Int32) throws(SystemError) -> UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try syscall("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
        }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { p -> UInt16 in
            if family == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }
}

/// `IPv4:port` or `[IPv6]:port`.
struct ListenEndpoint {
    var family: Int32
    var host: String
    var port: UInt16
    var v4 = in_addr()
    var v6 = in6_addr()

    init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
            family = AF_INET6
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            family = AF_INET
        }
        guard !portPart.isEmpty, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portPart) else { return nil }
        self.port = port
        host = String(hostPart)
        let ok = family == AF_INET ? inet_pton(AF_INET, host, &v4) : inet_pton(AF_INET6, host, &v6)
        guard ok == 1 else { return nil }
    }

    init(address: IPAddress, port: UInt16) {
        self.port = port
        host = address.description
        switch address {
        case .v4(let a):
            family = AF_INET
            v4.s_addr = a.bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        case .v6(let a):
            family = AF_INET6
            withUnsafeMutableBytes(of: &v6) { raw in for (i, b) in a.bytes.enumerated() { raw[i] = b } }
        }
    }

    /// `host:port`, IPv6 in brackets.
    var text: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if family == AF_INET {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr = v4
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        sa.sin6_addr = v6
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }
}

/// The server thread's state; only that thread has it.
private struct ServerLoop {
    let listenFD: Int32
    let wakeFD: Int32
    let metrics: VIPDMetrics

    /// One connection: reading its request head, then writing its response.
    private struct Client {
        let fd: Int32
        let deadline: Deadline
        var request: [UInt8] = []
        var response: [UInt8]?
        var sent = 0
    }
    private var clients: [Client] = []
    /// After an accept error (EMFILE, ENOBUFS) the listener is left alone briefly instead of spinning.
    private var acceptPausedUntil: Deadline?

    init(listenFD: Int32, wakeFD: Int32, metrics: VIPDMetrics) {
        self.listenFD = listenFD; self.wakeFD = wakeFD; self.metrics = metrics
    }

    mutating func run() {
        defer { for client in clients { closeDescriptor(client.fd) } }
        while true {
            if let paused = acceptPausedUntil, paused.hasPassed { acceptPausedUntil = nil }
            let accepting = clients.count < MetricsHTTPServer.maxClients && acceptPausedUntil == nil
            var fds = [pollfd(fd: listenFD, events: accepting ? Int16(POLLIN) : 0, revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            for client in clients {
                fds.append(pollfd(fd: client.fd, events: Int16(client.response == nil ? POLLIN : POLLOUT), revents: 0))
            }
            let nearest = (clients.map(\.deadline) + (acceptPausedUntil.map { [$0] } ?? [])).min()
            let timeout = nearest.map { $0.remainingMilliseconds() } ?? -1
            if poll(&fds, nfds_t(fds.count), timeout) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            // Back to front, so removing a client keeps the earlier indices valid.
            var closed = false
            for index in clients.indices.reversed() {
                let keep = fds[index + 2].revents != 0 ? advance(&clients[index]) : !clients[index].deadline.hasPassed
                if !keep {
                    closeDescriptor(clients[index].fd)
                    clients.remove(at: index)
                    closed = true
                }
            }
            // What rendering a page allocated goes back to the kernel instead of staying resident.
            if closed { releaseFreeMemory() }
            if fds[0].revents & Int16(POLLIN) != 0 { acceptWaiting() }
        }
    }

    private mutating func acceptWaiting() {
        while clients.count < MetricsHTTPServer.maxClients {
            do throws(SystemError) {
                guard let fd = try acceptNonBlocking(listenFD) else { return }
                clients.append(Client(fd: fd, deadline: Deadline(after: MetricsHTTPServer.requestTimeout)))
            } catch {
                if error.errno == ECONNABORTED { continue }
                acceptPausedUntil = Deadline(after: .milliseconds(100))
                return
            }
        }
    }

    /// Reads or writes what the client is ready for. False when the connection is done.
    private func advance(_ client: inout Client) -> Bool {
        if client.deadline.hasPassed { return false }   // slow client: dropped without a word
        if client.response == nil {
            var chunk = [UInt8](repeating: 0, count: 2048)
            let received: Int?
            do throws(SystemError) {
                received = try nonBlockingSyscall("recv") { chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) } }
            } catch {
                return false
            }
            guard let received else { return true }
            if received == 0 { return false }
            client.request.append(contentsOf: chunk[0..<received])
            if client.request.count > MetricsHTTPServer.maxRequestBytes {
                client.response = HTTPResponse.status(431, "Request Header Fields Too Large", head: false)
            } else if HTTPRequestHead.endOfHead(in: client.request) != nil {
                client.response = HTTPRequestHead.parse(client.request).map { head in
                    HTTPResponse.respond(to: head, render: { metrics.render() })
                } ?? HTTPResponse.status(400, "Bad Request", head: false)
            } else {
                return true
            }
        }
        guard let response = client.response else { return true }
        while client.sent < response.count {
            let offset = client.sent
            let sent: Int?
            do throws(SystemError) {
                sent = try nonBlockingSyscall("send") {
                    response.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                }
            } catch {
                return false
            }
            guard let sent else { return true }   // socket buffer full: wait for POLLOUT
            client.sent += sent
        }
        // Half-close so the client reads everything before the connection goes away.
        shutdown(client.fd, Int32(SHUT_WR))
        return false
    }
}

/// The parts of an HTTP/1.x request head the server looks at.
struct HTTPRequestHead: Equatable {
    var method: String
    var target: String
    var version: String

    /// Index just past the blank line ending the head (CRLF CRLF, or bare LF LF), if present.
    static func endOfHead(in bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A { return i + 2 }
                if i + 2 < bytes.count && bytes[i + 1] == 0x0D && bytes[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses the request line; nil for anything that is not `METHOD SP target SP HTTP/1.x`.
    static func parse(_ bytes: [UInt8]) -> HTTPRequestHead? {
        guard let lineEnd = bytes.firstIndex(of: 0x0A) else { return nil }
        var line = bytes[..<lineEnd]
        if line.last == 0x0D { line = line.dropLast() }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }),
              target.hasPrefix("/") || target.hasPrefix("http://"),
              version == "HTTP/1.0" || version == "HTTP/1.1" else { return nil }
        return HTTPRequestHead(method: method, target: target, version: version)
    }

    /// The path without query string or absolute-form scheme and authority.
    var path: Substring {
        var t = Substring(target)
        if t.hasPrefix("http://") {
            t = t.dropFirst("http://".count)
            t = t.firstIndex(of: "/").map { t[$0...] } ?? "/"
        }
        if let q = t.firstIndex(where: { $0 == "?" || $0 == "#" }) { t = t[..<q] }
        return t
    }
}

enum HTTPResponse {
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    static func respond(to head: HTTPRequestHead, render: () -> String) -> [UInt8] {
        let isHead = head.method == "HEAD"
        guard head.method == "GET" || isHead else {
            return build(405, "Method Not Allowed", contentType: "text/plain; charset=utf-8",
                         body: Array("only GET and HEAD\n".utf8), extra: ["Allow: GET, HEAD"], head: isHead)
        }
        guard head.path == "/metrics" else {
            return status(404, "Not Found", head: isHead)
        }
        return build(200, "OK", contentType: metricsContentType, body: Array(render().utf8), extra: [], head: isHead)
    }

    static func status(_ code: Int, _ reason: String, head: Bool) -> [UInt8] {
        build(code, reason, contentType: "text/plain; charset=utf-8", body: Array("\(code) \(reason)\n".utf8),
              extra: [], head: head)
    }

    static func build(_ code: Int, _ reason: String, contentType: String, body: [UInt8], extra: [String],
                      head: Bool) -> [UInt8] {
        var lines = ["HTTP/1.1 \(code) \(reason)",
                     "Content-Type: \(contentType)",
                     "Content-Length: \(body.count)",
                     "Connection: close",
                     "Cache-Control: no-store"]
        lines += extra
        var out = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        if !head { out += body }
        return out
    }
}
