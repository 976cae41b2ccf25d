import Foundation
import Testing
import VIPDDaemon

/// The real daemon talking to a fake systemd: READY=1 only once it runs, RELOADING=1/READY=1 around
/// a SIGHUP, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM, then exit 0.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct SystemdNotifyTests {
    /// A datagram socket standing in for systemd's NOTIFY_SOCKET.
    final class FakeSystemd {
        let path: String
        let fd: Int32
        init() throws {
            path = "/tmp/vipd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0, "cannot bind fake NOTIFY_SOCKET")
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd); unlink(path) }

        var messages: [String] = []
        /// Reads what has arrived (each datagram may hold several newline-separated assignments).
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { return }
                messages += String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
            }
        }
        func waitFor(_ prefix: String, timeout: TimeInterval = 10) -> Bool {
            waitUntil(timeout, every: 0.01) { drain(); return messages.contains { $0.hasPrefix(prefix) } }
        }
    }

    @Test func readyReloadWatchdogAndStopReachSystemdInOrder() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        let systemd = try FakeSystemd()
        let yaml = "control_socket: \(lab.socket(1))\ninstances:\n" + instanceYAML(priority: 150)
        try yaml.write(toFile: lab.configPath(1), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", lab.ns(1), lab.vipd, "run", "--config", lab.configPath(1)]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = systemd.path
        env["WATCHDOG_USEC"] = "400000"   // the daemon must ping every 200 ms
        process.environment = env
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        // WATCHDOG_PID, when unset, means "for the main process"; `ip netns exec` execs vipd, so the
        // pid is vipd's own.
        #expect(systemd.waitFor("READY=1"), "no READY=1: \(systemd.messages)")
        // READY=1 means sockets are open: status answers at once.
        #expect(lab.status(1) != nil)
        #expect(systemd.waitFor("WATCHDOG=1", timeout: 3), "no watchdog ping: \(systemd.messages)")
        let pingsBefore = systemd.messages.filter { $0 == "WATCHDOG=1" }.count
        usleep(1_000_000)   // on purpose: count the pings during one second
        systemd.drain()
        let pings = systemd.messages.filter { $0 == "WATCHDOG=1" }.count - pingsBefore
        #expect(pings >= 3, "expected ~5 watchdog pings per second at WATCHDOG_USEC=400ms, got \(pings)")

        kill(process.processIdentifier, SIGHUP)
        #expect(systemd.waitFor("RELOADING=1"), "no RELOADING=1: \(systemd.messages)")
        let readies = { systemd.messages.filter { $0 == "READY=1" }.count }
        #expect(waitUntil(5) { systemd.drain(); return readies() >= 2 }, "no READY=1 after reload: \(systemd.messages)")

        kill(process.processIdentifier, SIGTERM)
        #expect(systemd.waitFor("STOPPING=1"), "no STOPPING=1: \(systemd.messages)")
        #expect(waitUntil(10) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // Order: READY before RELOADING before STOPPING.
        let order = systemd.messages.filter { ["READY=1", "STOPPING=1"].contains($0) || $0.hasPrefix("RELOADING=1") }
        #expect(order.first == "READY=1")
        #expect(order.last == "STOPPING=1")
    }
}
