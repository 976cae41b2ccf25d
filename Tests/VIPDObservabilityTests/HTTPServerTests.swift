import Glibc
import Testing
import VRRP
@testable import VIPDObservability

/// A blocking raw TCP client with a receive timeout, so no test can hang.
struct RawClient {
    let fd: Int32

    init(port: UInt16, v6: Bool = false, timeoutSeconds: Int = 5) throws {
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.errno("socket", errno) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let endpoint = ListenEndpoint(v6 ? "[::1]:\(port)" : "127.0.0.1:\(port)")!
        let rc = endpoint.withSockaddr { connect(fd, $0, $1) }
        guard rc == 0 else { let e = errno; _ = Glibc.close(fd); throw ClientError.errno("connect", e) }
    }

    enum ClientError: Error { case errno(String, Int32) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the server closes (or the receive timeout passes).
    func readAll() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    func close() { _ = Glibc.close(fd) }
}

struct HTTPReply {
    var status: Int
    var headers: [String: String]
    var body: String

    init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let headLines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = headLines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let code = Int(statusParts[1]) else { return nil }
        status = code
        headers = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: " ")
        }
        body = String(text[split.upperBound...])
    }
}

private extension StringProtocol {
    func components(separatedBy sep: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let r = rest.range(of: sep) {
            parts.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
    func trimmingCharacters(in c: Character) -> String {
        String(drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}

private extension StringProtocol {
    func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) {
                return i..<index(i, offsetBy: needle.count)
            }
            i = index(after: i)
        }
        return nil
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

@Suite("MetricsHTTPServer", .serialized)
struct HTTPServerTests {
    private func server() throws -> (MetricsHTTPServer, VIPDMetrics) {
        let metrics = VIPDMetrics(node: "test")
        metrics.transition(instance: "vr1", family: .ipv4, to: .master)
        metrics.routerHandles(instance: "vr1", family: .ipv4).advertsSent.increment()
        return (try MetricsHTTPServer(listen: "127.0.0.1:0", metrics: metrics), metrics)
    }

    private func request(_ port: UInt16, _ text: String, v6: Bool = false) throws -> HTTPReply? {
        let c = try RawClient(port: port, v6: v6)
        defer { c.close() }
        c.send(text)
        return HTTPReply(c.readAll())
    }

    @Test func getMetricsServesTheExposition() throws {
        let (s, metrics) = try server()
        defer { s.stop() }
        #expect(s.port != 0)
        #expect(s.boundAddress == "127.0.0.1:\(s.port)")
        metrics.routerHandles(instance: "vr1", family: .ipv4).advertsSent.increment()
        let reply = try #require(try request(s.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n"))
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(reply.headers["connection"] == "close")
        #expect(reply.headers["content-length"] == String(reply.body.utf8.count))
        let e = try Exposition(reply.body)
        #expect(e.value("vipd_adverts_sent_total", ["vrrp_instance": "vr1", "family": "ipv4"]) == 2)
        #expect(e.value("vipd_instance_state", ["vrrp_instance": "vr1", "family": "ipv4", "state": "master"]) == 1)
    }

    @Test(arguments: [
        ("GET /metrics HTTP/1.0\r\n\r\n", 200),
        ("GET /metrics?x=1 HTTP/1.1\r\n\r\n", 200),
        ("GET /metrics HTTP/1.1\n\n", 200),
        ("GET / HTTP/1.1\r\n\r\n", 404),
        ("GET /metricsx HTTP/1.1\r\n\r\n", 404),
        ("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        ("BREW /metrics HTCPCP/1.0\r\n\r\n", 400),
        ("garbage\r\n\r\n", 400),
    ])
    func statusCodes(_ text: String, _ expected: Int) throws {
        let (s, _) = try server()
        defer { s.stop() }
        let reply = try #require(try request(s.port, text))
        #expect(reply.status == expected)
        #expect(reply.headers["connection"] == "close")
    }

    @Test func headHasHeadersButNoBody() throws {
        let (s, _) = try server()
        defer { s.stop() }
        let reply = try #require(try request(s.port, "HEAD /metrics HTTP/1.1\r\n\r\n"))
        #expect(reply.status == 200)
        #expect(reply.body.isEmpty)
        #expect(Int(reply.headers["content-length"] ?? "") ?? 0 > 100)
    }

    @Test func oversizedRequestIsRefused() throws {
        let (s, _) = try server()
        defer { s.stop() }
        let huge = "GET /metrics HTTP/1.1\r\n" + String(repeating: "X-Pad: " + String(repeating: "a", count: 100) + "\r\n", count: 120)
        let reply = try #require(try request(s.port, huge))
        #expect(reply.status == 431)
    }

    @Test func slowClientIsDroppedAndDoesNotBlockOthersForLong() throws {
        let (s, _) = try server()
        defer { s.stop() }
        let slow = try RawClient(port: s.port, timeoutSeconds: 10)
        defer { slow.close() }
        slow.send("GET /metr")   // never finishes its request
        let start = monotonicSeconds()
        let reply = try #require(try request(s.port, "GET /metrics HTTP/1.1\r\n\r\n"))
        let waited = monotonicSeconds() - start
        #expect(reply.status == 200)
        // Served once the slow client's request timeout (2 s) passed, well before our 5 s timeout.
        #expect(waited < 4.0)
        // And the slow client got closed without a response.
        #expect(slow.readAll().isEmpty)
    }

    /// Issue 11: a client that stalls mid-request or never reads holds only its own connection.
    @Test func aStalledClientDoesNotDelayAnotherScrape() throws {
        let (s, _) = try server()
        defer { s.stop() }
        let stalled = try RawClient(port: s.port, timeoutSeconds: 10)
        defer { stalled.close() }
        stalled.send("GET /metr")   // and nothing more
        let alsoStalled = try RawClient(port: s.port, timeoutSeconds: 10)
        defer { alsoStalled.close() }
        alsoStalled.send("GET /metrics HTTP/1.1\r\n\r\n")   // never reads its response
        for _ in 0..<5 {
            let start = monotonicSeconds()
            let reply = try #require(try request(s.port, "GET /metrics HTTP/1.1\r\n\r\n"))
            #expect(reply.status == 200)
            #expect(monotonicSeconds() - start < 0.5, "a scrape waited behind a stalled client")
        }
    }

    @Test func moreClientsThanTheServerHoldsWaitButAreServed() throws {
        let (s, _) = try server()
        defer { s.stop() }
        // Fill every slot with silent clients; one more is served once they time out.
        let silent = try (0..<MetricsHTTPServer.maxClients).map { _ in try RawClient(port: s.port, timeoutSeconds: 10) }
        defer { silent.forEach { $0.close() } }
        let start = monotonicSeconds()
        let reply = try #require(try request(s.port, "GET /metrics HTTP/1.1\r\n\r\n"))
        #expect(reply.status == 200)
        #expect(monotonicSeconds() - start < 4.0)
    }

    @Test func stopClosesTheListener() throws {
        let (s, _) = try server()
        let port = s.port
        s.stop()
        s.stop()   // idempotent
        #expect(throws: RawClient.ClientError.self) { _ = try RawClient(port: port) }
    }

    @Test func secondBindReportsAddressInUse() throws {
        let (s, metrics) = try server()
        defer { s.stop() }
        let address = "127.0.0.1:\(s.port)"
        #expect(throws: MetricsHTTPServerError.system(address: address, call: "bind", errno: EADDRINUSE)) {
            _ = try MetricsHTTPServer(listen: address, metrics: metrics)
        }
        let error = MetricsHTTPServerError.system(address: address, call: "bind", errno: EADDRINUSE)
        #expect(error.description == "\(address) is already in use")
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:", "localhost:9650", "1.2.3.4:99999", "[::1]", "::1:9650", "[::1:9650", "127.0.0.1:-1"])
    func invalidListenAddresses(_ text: String) {
        #expect(throws: MetricsHTTPServerError.invalidListenAddress(text)) {
            _ = try MetricsHTTPServer(listen: text, metrics: VIPDMetrics(node: nil))
        }
    }

    @Test func ipv6Loopback() throws {
        let metrics = VIPDMetrics(node: nil)
        let result = Result { () throws(MetricsHTTPServerError) in try MetricsHTTPServer(listen: "[::1]:0", metrics: metrics) }
        if case .failure(.system(_, _, let code)) = result, code == EADDRNOTAVAIL || code == EAFNOSUPPORT {
            // No IPv6 loopback in this environment; the IPv4 tests cover the server itself.
            return
        }
        let s = try result.get()
        defer { s.stop() }
        #expect(s.boundAddress == "[::1]:\(s.port)")
        let reply = try #require(try request(s.port, "GET /metrics HTTP/1.1\r\n\r\n", v6: true))
        #expect(reply.status == 200)
        _ = try Exposition(reply.body)
    }

    @Test func curlCanScrape() throws {
        // Optional cross-check with a real HTTP client; the raw-socket tests above cover the server.
        guard access("/usr/bin/curl", X_OK) == 0 else { return }
        let (s, _) = try server()
        defer { s.stop() }
        let output = try runProcess("/usr/bin/curl", ["-sS", "--max-time", "5", "-D", "-", "http://127.0.0.1:\(s.port)/metrics"])
        #expect(output.status == 0)
        let reply = try #require(HTTPReply(Array(output.stdout.utf8)))
        #expect(reply.status == 200)
        let e = try Exposition(reply.body)
        #expect(e.value("vipd_adverts_sent_total", ["vrrp_instance": "vr1", "family": "ipv4"]) == 1)
    }

    @Test func requestHeadParsing() {
        #expect(HTTPRequestHead.parse(Array("GET http://h:1/metrics?a HTTP/1.1\r\n\r\n".utf8))?.path == "/metrics")
        #expect(HTTPRequestHead.parse(Array("GET  /metrics HTTP/1.1\r\n\r\n".utf8)) == nil)
        #expect(HTTPRequestHead.endOfHead(in: Array("GET / HTTP/1.1\r\nA: b\r\n".utf8)) == nil)
        #expect(HTTPRequestHead.endOfHead(in: Array("GET / HTTP/1.1\r\n\r\n".utf8)) == 18)
    }
}
