import Glibc
import Testing
@testable import VIPDObservability

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
final class FakeNotifySocket {
    let fd: Int32
    /// The NOTIFY_SOCKET value: a path, or `@name` for the abstract namespace.
    let name: String
    private let path: String?

    init(abstract: Bool) throws {
        let unique = "vipd-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            name = "@" + unique
            path = nil
            bytes = [0] + Array(unique.utf8)
        } else {
            let p = "/tmp/\(unique).sock"
            name = p
            path = p
            bytes = Array(p.utf8) + [0]
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count - (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw RawClient.ClientError.errno("bind", errno) }
    }

    func receive() -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n < 0 ? nil : String(decoding: buf[0..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsTheExactMessages(abstract: Bool) throws {
        let fake = try FakeNotifySocket(abstract: abstract)
        let notifier = SystemdNotifier(notifySocket: fake.name)
        #expect(notifier.isEnabled)

        try notifier.ready()
        #expect(fake.receive() == "READY=1")
        try notifier.status("2 routers: web Master, db Backup")
        #expect(fake.receive() == "STATUS=2 routers: web Master, db Backup")
        try notifier.status("line one\nline two")
        #expect(fake.receive() == "STATUS=line one line two")
        try notifier.watchdog()
        #expect(fake.receive() == "WATCHDOG=1")
        try notifier.stopping()
        #expect(fake.receive() == "STOPPING=1")

        let before = SystemdNotifier.monotonicMicroseconds()
        try notifier.reloading()
        let after = SystemdNotifier.monotonicMicroseconds()
        let message = try #require(fake.receive())
        let lines = message.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        #expect(usec >= before && usec <= after)
    }

    @Test func reloadingMessageFormat() {
        #expect(SystemdNotifier.reloadingMessage(monotonicMicroseconds: 123_456_789) == "RELOADING=1\nMONOTONIC_USEC=123456789")
    }

    @Test func noOpWithoutNotifySocket() throws {
        for value in [nil, ""] as [String?] {
            let notifier = SystemdNotifier(notifySocket: value)
            #expect(!notifier.isEnabled)
            try notifier.ready()
            try notifier.reloading()
            try notifier.watchdog()
        }
    }

    @Test(arguments: ["relative/path", "/" + String(repeating: "x", count: 200)])
    func invalidSocketNames(_ name: String) {
        #expect(throws: SystemdNotifyError.invalidSocket(name)) { try SystemdNotifier(notifySocket: name).ready() }
    }

    @Test func missingSocketIsATypedError() {
        let name = "/tmp/vipd-no-such-socket-\(getpid())"
        #expect(throws: SystemdNotifyError.system(socket: name, call: "sendto", errno: ENOENT)) {
            try SystemdNotifier(notifySocket: name).ready()
        }
    }

    @Test(arguments: [
        (String?("10000000"), String?(nil), Int64?(10_000_000)),
        ("10000000", "4242", 10_000_000),      // WATCHDOG_PID is ours
        ("10000000", "4243", nil),             // meant for another process
        ("10000000", "notapid", nil),
        ("0", nil, nil),
        ("-5", nil, nil),
        ("abc", nil, nil),
        (nil, "4242", nil),
    ] as [(String?, String?, Int64?)])
    func watchdogEnvironment(usec: String?, pid: String?, expectedMicroseconds: Int64?) {
        let n = SystemdNotifier(notifySocket: "/run/systemd/notify", watchdogUsec: usec, watchdogPID: pid, ownPID: 4242)
        #expect(n.watchdogInterval == expectedMicroseconds.map { .microseconds($0) })
        #expect(n.watchdogPingInterval == expectedMicroseconds.map { .microseconds($0 / 2) })
    }

    @Test func environmentIsRead() throws {
        let fake = try FakeNotifySocket(abstract: true)
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": fake.name, "WATCHDOG_USEC": "4000000",
                                              "WATCHDOG_PID": String(getpid())])
        #expect(n.socketPath == fake.name)
        #expect(n.watchdogPingInterval == .seconds(2))
        try n.ready()
        #expect(fake.receive() == "READY=1")
    }
}
