import Glibc
import Testing
import VRRP
@testable import VIPDObservability

/// The daemon's way in: an address the configuration loader already resolved, no text parsed.
@Suite("MetricsHTTPServer(address:port:)", .serialized)
struct MetricsAddressTests {
    @Test func bindsAResolvedIPv4AddressInNetworkOrder() throws {
        let address = try #require(IPAddress("127.0.0.1"))
        let s = try MetricsHTTPServer(address: address, port: 0, metrics: VIPDMetrics(node: nil))
        defer { s.stop() }
        #expect(s.boundAddress == "127.0.0.1:\(s.port)")
        #expect(try scrape(s.port, v6: false).hasPrefix("HTTP/1.1 200"))
    }

    @Test func bindsAResolvedIPv6Address() throws {
        let address = try #require(IPAddress("::1"))
        let result = Result { () throws(MetricsHTTPServerError) in
            try MetricsHTTPServer(address: address, port: 0, metrics: VIPDMetrics(node: nil))
        }
        if case .failure(.system(_, _, let code)) = result, code == EADDRNOTAVAIL || code == EAFNOSUPPORT {
            return   // no IPv6 loopback here; the IPv4 test covers the conversion
        }
        let s = try result.get()
        defer { s.stop() }
        #expect(s.boundAddress == "[::1]:\(s.port)")
        #expect(try scrape(s.port, v6: true).hasPrefix("HTTP/1.1 200"))
    }

    private func scrape(_ port: UInt16, v6: Bool) throws -> String {
        let client = try RawClient(port: port, v6: v6)
        defer { client.close() }
        client.send("GET /metrics HTTP/1.0\r\n\r\n")
        return String(decoding: client.readAll(), as: UTF8.self)
    }

    @Test func anAddressNotOnThisHostIsNamedInTheError() throws {
        let address = try #require(IPAddress("192.0.2.77"))
        #expect(throws: MetricsHTTPServerError.system(address: "192.0.2.77:9650", call: "bind", errno: EADDRNOTAVAIL)) {
            _ = try MetricsHTTPServer(address: address, port: 9650, metrics: VIPDMetrics(node: nil))
        }
    }
}
