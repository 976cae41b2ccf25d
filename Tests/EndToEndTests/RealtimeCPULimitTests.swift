import Foundation
import Testing
import VIPDDaemon

/// realtime_cpu_limit: a real-time event loop gets RLIMIT_RTTIME, and SIGXCPU (the kernel's signal
/// at that limit; sent here with `kill -XCPU`, the same signal) moves it back to normal scheduling
/// without losing Master, until a reload.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct RealtimeCPULimitTests {
    static let dropped = "real-time scheduling dropped: the event loop ran"

    /// /proc/PID/limits' "Max realtime timeout" line: soft and hard, in microseconds.
    static func rttimeLimit(_ pid: Int32) -> String {
        let limits = (try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)) ?? ""
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max realtime timeout") } ?? ""
        return line.split(separator: " ").dropFirst(3).prefix(2).joined(separator: "/")
    }


    static func value(_ metrics: String, _ series: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    static func occurrences(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func sigxcpuDropsRealTimeSchedulingKeepsMasterAndAReloadRestoresIt() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.startMasterWithBackup(r1: "realtime_priority: 10\nrealtime_cpu_limit: 200ms\n")
        #expect(waitUntil(5) { lab.state(2, "web") == "Backup" })
        let pid = try #require(lab.daemons[1]?.processIdentifier)
        let other = try #require(lab.daemons[2]?.processIdentifier)
        #expect(Self.rttimeLimit(pid) == "200000/1200000", "\(Self.rttimeLimit(pid))")
        #expect(Self.rttimeLimit(other) == "unlimited/unlimited", "a daemon without real-time sets no limit")
        #expect(threadPolicies(pid).loop.contains("SCHED_RR") && threadPolicies(pid).loop.contains("priority: 10"), "\(threadPolicies(pid))")
        let sentBefore = Self.value(lab.scrapeMetrics(1, port: 9464) ?? "", "vipd_adverts_sent_total{vrrp_instance=\"web\",family=\"ipv4\"}") ?? 0

        shell("kill -XCPU \(pid)")
        #expect(waitUntil(5) { threadPolicies(pid).loop.contains("SCHED_OTHER") }, "\(threadPolicies(pid))\n\(lab.log(1))")
        #expect(threadPolicies(pid).others.allSatisfy { $0.contains("SCHED_OTHER") }, "\(threadPolicies(pid))")
        #expect(waitUntil(5) { lab.log(1).contains(Self.dropped) }, "\(lab.log(1))")
        #expect(lab.log(1).contains("\(Self.dropped) 200ms of CPU without sleeping (realtime_cpu_limit); back to normal scheduling"), "\(lab.log(1))")
        // A second SIGXCPU has nothing left to drop: no second error, no second count.
        shell("kill -XCPU \(pid)")
        #expect(waitUntil(5) { lab.log(1).contains("SIGXCPU on normal scheduling: nothing to do") }, "\(lab.log(1))")
        #expect(Self.occurrences(lab.log(1), Self.dropped) == 1, "\(lab.log(1))")
        let metrics = lab.scrapeMetrics(1, port: 9464) ?? ""
        #expect(Self.value(metrics, "vipd_realtime_cpu_limit_exceeded_total") == 1, "\(metrics)")
        #expect(Self.value(metrics, "vipd_realtime_priority") == 0, "\(metrics)")
        // Still Master, still advertising: the Backup never took over.
        Thread.sleep(forTimeInterval: 1.0)
        #expect(lab.isRunning(1))
        #expect(lab.state(1, "web") == "Master")
        #expect(lab.state(2, "web") == "Backup")
        lab.expectSoleHolder(Lab.vip4, 1)
        let sentAfter = Self.value(lab.scrapeMetrics(1, port: 9464) ?? "", "vipd_adverts_sent_total{vrrp_instance=\"web\",family=\"ipv4\"}") ?? 0
        #expect(sentAfter >= sentBefore + 8, "100 ms adverts for over a second: \(sentBefore) → \(sentAfter)")

        // A reload with the file unchanged makes the loop real-time again, and the guard holds again.
        let reload = lab.vipdCommand(1, "reload")
        #expect(reload.status == 0, "\(reload.output)")
        #expect(waitUntil(5) { threadPolicies(pid).loop.contains("SCHED_RR") }, "\(threadPolicies(pid))\n\(lab.log(1))")
        #expect(threadPolicies(pid).loop.contains("priority: 10"), "\(threadPolicies(pid))")
        #expect(Self.rttimeLimit(pid) == "200000/1200000")
        #expect(Self.value(lab.scrapeMetrics(1, port: 9464) ?? "", "vipd_realtime_priority") == 10)
        shell("kill -XCPU \(pid)")
        #expect(waitUntil(5) { Self.occurrences(lab.log(1), Self.dropped) == 2 }, "\(lab.log(1))")
        #expect(threadPolicies(pid).loop.contains("SCHED_OTHER"), "\(threadPolicies(pid))")
        #expect(Self.value(lab.scrapeMetrics(1, port: 9464) ?? "", "vipd_realtime_cpu_limit_exceeded_total") == 2)
        #expect(lab.state(1, "web") == "Master")
        lab.expectSoleHolder(Lab.vip4, 1)
    }

    /// max_auto_priority: the limit comes with the first raise (none before: the daemon is not
    /// real-time yet), and after a SIGXCPU no stall raises the loop again until a reload.
    @Test func afterSigxcpuMaxAutoPriorityWaitsForAReload() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        try lab.start(1, config: "max_auto_priority: 3\nmin_auto_priority_delay: 20ms\n" + config(instanceYAML(priority: 150)))
        lab.expectSoleHolder(Lab.vip4, 1)
        let pid = try #require(lab.daemons[1]?.processIdentifier)
        #expect(Self.rttimeLimit(pid) == "unlimited/unlimited", "not real-time yet: \(Self.rttimeLimit(pid))")
        func stall() { shell("kill -STOP \(pid); sleep 0.2; kill -CONT \(pid)") }
        Thread.sleep(forTimeInterval: 1.2)   // past the hold-off after start
        stall()
        #expect(waitUntil(5) { threadPolicies(pid).loop.contains("SCHED_RR") }, "\(threadPolicies(pid))\n\(lab.log(1))")
        #expect(Self.rttimeLimit(pid) == "1000000/2000000", "the default, 1 s: \(Self.rttimeLimit(pid))")

        shell("kill -XCPU \(pid)")
        #expect(waitUntil(5) { threadPolicies(pid).loop.contains("SCHED_OTHER") }, "\(threadPolicies(pid))\n\(lab.log(1))")
        #expect(waitUntil(5) { lab.log(1).contains("\(Self.dropped) 1s of CPU without sleeping") }, "\(lab.log(1))")
        for _ in 0..<2 {
            Thread.sleep(forTimeInterval: 1.1)
            stall()
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(threadPolicies(pid).loop.contains("SCHED_OTHER"), "no raise after the fallback: \(threadPolicies(pid))\n\(lab.log(1))")
        #expect(Self.occurrences(lab.log(1), "raised the event loop to SCHED_RR") == 1, "\(lab.log(1))")

        #expect(lab.vipdCommand(1, "reload").status == 0)
        Thread.sleep(forTimeInterval: 1.2)   // past the hold-off after the reload
        stall()
        #expect(waitUntil(5) { threadPolicies(pid).loop.contains("SCHED_RR") }, "raises again after the reload: \(threadPolicies(pid))\n\(lab.log(1))")
        #expect(threadPolicies(pid).loop.contains("priority: 1"), "from the configured scheduling: \(threadPolicies(pid))")
        #expect(lab.state(1, "web") == "Master")
    }

    /// A larger limit on reload raises the hard limit, which needs CAP_SYS_RESOURCE (the systemd
    /// unit does not grant it): an error in the log, the running limit kept, still real-time. A
    /// smaller one needs nothing.
    @Test func aLargerLimitOnReloadWithoutCapSysResourceIsAnErrorNotAFailure() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        func write(_ limit: String) throws {
            try lab.rewriteConfig(1, config: "realtime_priority: 10\nrealtime_cpu_limit: \(limit)\n" + config(instanceYAML(priority: 150)))
        }
        try write("200ms")
        let daemon = try lab.background(lab.ns(1), ["capsh", "--drop=cap_sys_resource", "--", "-c", "exec \(lab.vipd) run --config \(lab.configPath(1))"],
                                        output: lab.logPath(1))
        let pid = daemon.processIdentifier
        lab.expectSoleHolder(Lab.vip4, 1)
        #expect(Self.rttimeLimit(pid) == "200000/1200000", "\(Self.rttimeLimit(pid))\n\(lab.log(1))")

        try write("500ms")
        let larger = lab.vipdCommand(1, "reload")
        #expect(larger.status == 0, "\(larger.output)")
        #expect(larger.output.contains("CAP_SYS_RESOURCE"), "the reply says it too: \(larger.output)")
        #expect(waitUntil(5) { lab.log(1).contains("realtime_cpu_limit 500ms: setrlimit(RLIMIT_RTTIME): Operation not permitted — needs CAP_SYS_RESOURCE") },
                "\(lab.log(1))")
        #expect(Self.rttimeLimit(pid) == "200000/1200000", "the running limit stays")
        #expect(threadPolicies(pid).loop.contains("SCHED_RR"), "\(threadPolicies(pid))")

        try write("100ms")
        #expect(lab.vipdCommand(1, "reload").status == 0)
        #expect(Self.rttimeLimit(pid) == "100000/1100000", "\(Self.rttimeLimit(pid))\n\(lab.log(1))")
        #expect(lab.state(1, "web") == "Master")
        kill(pid, SIGTERM)
        #expect(waitUntil(10) { !daemon.isRunning })
    }

    /// The kernel's own SIGXCPU: a SCHED_RR thread under the lowest limit (10 ms) that never sleeps
    /// is moved back to SCHED_OTHER by the handler the daemon installs (vipd-netprobe rttime-spin:
    /// RLIMIT_RTTIME is per process, so not in the test's own).
    @Test func theKernelsSigxcpuMovesASpinningRealTimeThreadBack() throws {
        let probe = URL(fileURLWithPath: LabEnvironment.vipdBinary).deletingLastPathComponent().appendingPathComponent("vipd-netprobe").path
        try #require(FileManager.default.isExecutableFile(atPath: probe), "vipd-netprobe not built at \(probe)")
        let result = shell("\(probe) rttime-spin --limit-us 10000", timeout: 10)
        #expect(result.status == 0, "\(result.output)")
        let fields = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
        #expect(fields["policy_before"] as? String == "SCHED_RR", "\(result.output)")
        #expect(fields["signalled"] as? Bool == true, "\(result.output)")
        #expect(fields["policy_after"] as? String == "SCHED_OTHER", "\(result.output)")
        // It took the limit's CPU time (the kernel counts whole ticks, up to 10 ms each).
        #expect((fields["spun_ms"] as? Int ?? 0) >= 9, "\(result.output)")
    }
}
