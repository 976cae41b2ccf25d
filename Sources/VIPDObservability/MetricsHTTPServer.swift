// A tiny HTTP/1.x server for `GET /metrics`, on its own thread so a scrape never touches the
// daemon's event loop. One connection at a time, each bounded in time and size: a slow or
// malicious client can hold the server for at most `requestTimeout`, and never the daemon.

import Glibc
import Synchronization
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
            case EACCES: return "binding \(address) was refused: ports below 1024 need CAP_NET_BIND_SERVICE"
            default: return "metrics listener \(address): \(call) failed: \(String(cString: strerror(code))) (errno \(code))"
            }
        }
    }
}

public final class MetricsHTTPServer: Sendable {
    /// Largest request head we read; anything longer gets 431.
    public static let maxRequestBytes = 8192
    /// Time a client has to send its request head, and then to take the response.
    public static let requestTimeout: Duration = .seconds(2)

    /// The bound address with the real port (useful with port 0), e.g. `127.0.0.1:40123`.
    public let boundAddress: String
    public let port: UInt16

    private let metrics: VIPDMetrics
    private let listenFD: Int32
    /// A pipe `stop()` writes to, to wake the server thread out of `poll`.
    private let wakeReadFD: Int32
    private let wakeFD: Int32
    private let thread: Mutex<pthread_t?> = Mutex(nil)

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
        self.metrics = metrics
        let listen = endpoint.text

        let fd = socket(endpoint.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(address: listen, call: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if endpoint.family == AF_INET6 {
            // `[::]:port` means IPv6 only: the listener serves exactly the family it was given.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = endpoint.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let e = errno; close(fd)
            throw .system(address: listen, call: "bind", errno: e)
        }
        guard Glibc.listen(fd, 16) == 0 else {
            let e = errno; close(fd)
            throw .system(address: listen, call: "listen", errno: e)
        }
        // Non-blocking so a connection that vanishes between poll and accept can't stall us.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let actualPort = Self.localPort(fd)
        port = actualPort
        boundAddress = endpoint.family == AF_INET6 ? "[\(endpoint.host)]:\(actualPort)" : "\(endpoint.host):\(actualPort)"

        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else {
            let e = errno; close(fd)
            throw .system(address: listen, call: "pipe", errno: e)
        }
        for p in wake { _ = fcntl(p, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(wake[1], F_SETFL, fcntl(wake[1], F_GETFL) | O_NONBLOCK)
        listenFD = fd
        wakeReadFD = wake[0]
        wakeFD = wake[1]

        let loop = ServerLoop(listenFD: fd, wakeFD: wake[0], metrics: metrics)
        let context = Unmanaged.passRetained(loop).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            let loop = Unmanaged<ServerLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ServerLoop>.fromOpaque(context).release()
            close(fd); close(wake[0]); close(wake[1])
            throw .system(address: listen, call: "pthread_create", errno: rc)
        }
        thread.withLock { $0 = tid }
    }

    /// Stops serving, waits for the server thread and closes the socket. Idempotent.
    public func stop() {
        guard let tid = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) else { return }
        var byte: UInt8 = 1
        _ = write(wakeFD, &byte, 1)
        pthread_join(tid, nil)
        close(listenFD)
        close(wakeReadFD)
        close(wakeFD)
    }

    deinit { stop() }

    private static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
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

/// The server thread's state. Only that thread touches it after start.
private final class ServerLoop: Sendable {
    let listenFD: Int32
    let wakeFD: Int32
    let metrics: VIPDMetrics

    init(listenFD: Int32, wakeFD: Int32, metrics: VIPDMetrics) {
        self.listenFD = listenFD; self.wakeFD = wakeFD; self.metrics = metrics
    }

    func run() {
        while true {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listenFD, nil, nil)
                if client >= 0 {
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
                    let stopRequested = serve(client)
                    close(client)
                    if stopRequested { return }
                }
            }
        }
    }

    /// Serves one request. Returns true if `stop()` was called meanwhile.
    private func serve(_ fd: Int32) -> Bool {
        let deadline = Deadline(after: MetricsHTTPServer.requestTimeout)
        var request: [UInt8] = []
        request.reserveCapacity(1024)
        var chunk = [UInt8](repeating: 0, count: 2048)
        while HTTPRequestHead.endOfHead(in: request) == nil {
            if request.count > MetricsHTTPServer.maxRequestBytes {
                return send(fd, HTTPResponse.status(431, "Request Header Fields Too Large", head: false), deadline)
            }
            switch wait(fd, for: Int16(POLLIN), until: deadline) {
            case .stop: return true
            case .timeout: return false   // slow client: drop it without a word
            case .ready: break
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return false }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            request.append(contentsOf: chunk[0..<n])
        }
        let response: [UInt8]
        switch HTTPRequestHead.parse(request) {
        case .none:
            response = HTTPResponse.status(400, "Bad Request", head: false)
        case .some(let head):
            response = HTTPResponse.respond(to: head, render: { metrics.render() })
        }
        return send(fd, response, deadline)
    }

    private func send(_ fd: Int32, _ bytes: [UInt8], _ deadline: Deadline) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                Glibc.send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            if n < 0 && errno != EAGAIN && errno != EINTR { return false }
            switch wait(fd, for: Int16(POLLOUT), until: deadline) {
            case .stop: return true
            case .timeout: return false
            case .ready: continue
            }
        }
        // Half-close so the client reads everything before the connection goes away.
        shutdown(fd, Int32(SHUT_WR))
        return false
    }

    private enum WaitResult { case ready, timeout, stop }

    private func wait(_ fd: Int32, for events: Int16, until deadline: Deadline) -> WaitResult {
        while true {
            let remaining = deadline.remainingMilliseconds()
            if remaining <= 0 { return .timeout }
            var fds = [pollfd(fd: fd, events: events, revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, remaining)
            if n < 0 { if errno == EINTR { continue }; return .timeout }
            if fds[1].revents != 0 { return .stop }
            if fds[0].revents != 0 { return .ready }
        }
    }
}

/// A monotonic deadline.
struct Deadline {
    let nanoseconds: Int64

    init(after duration: Duration) {
        let (s, attos) = duration.components
        nanoseconds = Deadline.now() + s * 1_000_000_000 + attos / 1_000_000_000
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func remainingMilliseconds() -> Int32 {
        let ns = nanoseconds - Deadline.now()
        if ns <= 0 { return 0 }
        return Int32(clamping: (ns + 999_999) / 1_000_000)
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
