import Foundation
import Testing
import VIPDDaemon

/// The `vipd` command as an operator meets it: bad input gets a clear error and changes nothing.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct CommandLineTests {
    let vipd = LabEnvironment.vipdBinary

    private func temporaryFile(_ contents: String) throws -> String {
        let path = "/tmp/vipd-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkConfigPrintsTheEffectiveConfiguration() throws {
        let path = try temporaryFile("instances:\n" + instanceYAML(priority: 150))
        defer { unlink(path) }
        let result = shell("\(vipd) check-config \(path)")
        #expect(result.status == 0, "\(result.output)")
        // Defaults are filled in.
        #expect(result.output.contains("preempt: true"))
        #expect(result.output.contains("version: 3"))
        #expect(result.output.contains("control_socket: /run/vipd/vipd.sock"))
    }

    @Test func checkConfigRefusesWithFileLineColumn() throws {
        let path = try temporaryFile("instances:\n  - name: web\n    interface: eth0\n    vrid: 300\n    addresses: [192.0.2.100/24]\n")
        defer { unlink(path) }
        let result = shell("\(vipd) check-config \(path)")
        #expect(result.status != 0)
        #expect(result.output.contains("\(path):4:11:"), "\(result.output)")
        #expect(result.output.contains("1"), "the message says the allowed range: \(result.output)")
    }

    @Test func runRefusesABadConfigWithoutStarting() throws {
        let path = try temporaryFile("instances:\n  - name: web\n    interfac: eth0\n")
        defer { unlink(path) }
        let result = shell("\(vipd) run --config \(path)", timeout: 20)
        #expect(result.status != 0)
        #expect(result.output.contains("\(path):3:5:"), "\(result.output)")
        #expect(result.output.contains("interface"), "suggests the known key: \(result.output)")
    }

    @Test func runWithoutCapNetRawSaysWhichCapabilityIsMissing() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        try lab.rewriteConfig(1, config: "instances:\n" + instanceYAML(priority: 150))
        // Drop CAP_NET_RAW from every set, keep the rest of root's powers.
        let result = shell("ip netns exec \(lab.ns(1)) capsh --drop=cap_net_raw -- -c '\(vipd) run --config \(lab.configPath(1))'", timeout: 20)
        #expect(result.status != 0)
        #expect(result.output.contains("CAP_NET_RAW"), "\(result.output)")
        // Nothing was left behind: no VIP, no socket file.
        #expect(lab.holders(Lab.vip4).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: lab.socket(1)))
    }

    /// Only the event loop: the metrics server's thread (started after the switch) and hooks run
    /// normally scheduled (SCHED_RESET_ON_FORK, as keepalived does).
    @Test func realtimePriorityPutsTheEventLoopOnSchedRR() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        let hook = "\(lab.workdir)/notify.sh", record = "\(lab.workdir)/notify.log"
        try "#!/bin/sh\n/usr/bin/chrt -p $$ >> \(record)\n".write(toFile: hook, atomically: true, encoding: .utf8)
        #expect(chmod(hook, 0o755) == 0)
        try lab.start(1, config: "metrics:\n  listen: 127.0.0.1:9464\nrealtime_priority: 10\nlock_memory: true\n"
                      + config(instanceYAML(priority: 150, extra: "notify: \(hook)")))
        let pid = try #require(lab.daemons[1]?.processIdentifier)
        let policies = threadPolicies(pid)
        #expect(policies.loop.contains("SCHED_RR"), "\(policies)")
        #expect(policies.loop.contains("priority: 10"), "\(policies)")
        #expect(policies.others.count >= 2 && policies.others.allSatisfy { $0.contains("SCHED_OTHER") }, "\(policies)")
        let locked = shell("grep VmLck /proc/\(pid)/status").output
        #expect(!locked.contains(" 0 kB"), "memory should be locked: \(locked)")
        let hookPolicy = { (try? String(contentsOfFile: record, encoding: .utf8)) ?? "" }
        #expect(waitUntil(5) { hookPolicy().contains("SCHED_OTHER") && hookPolicy().contains("priority: 0") }, "\(hookPolicy())\n\(lab.log(1))")
        #expect(!hookPolicy().contains("SCHED_RR"), "\(hookPolicy())")
    }

    /// realtime_priority, and max_auto_priority (tried once at start), without CAP_SYS_NICE.
    @Test(arguments: ["realtime_priority", "max_auto_priority"])
    func schedulingWithoutCapSysNiceSaysSo(_ key: String) throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        try lab.rewriteConfig(1, config: "\(key): 10\n" + config(instanceYAML(priority: 150)))
        let result = shell("ip netns exec \(lab.ns(1)) capsh --drop=cap_sys_nice -- -c '\(vipd) run --config \(lab.configPath(1))'", timeout: 20)
        #expect(result.status != 0)
        #expect(result.output.contains("\(key) 10"), "\(result.output)")
        #expect(result.output.contains("CAP_SYS_NICE"), "\(result.output)")
        #expect(lab.holders(Lab.vip4).isEmpty)
    }

    /// max_auto_priority: a daemon kept off the CPU (SIGSTOP stands in for an overloaded host) past
    /// min_auto_priority_delay raises itself to SCHED_RR, one step per stall; without the setting it
    /// stays on normal scheduling and says in its log that its timers ran late.
    @Test func maxAutoPriorityRaisesALateDaemonOneStepPerStall() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.startMasterWithBackup(r1: "max_auto_priority: 2\nmin_auto_priority_delay: 20ms\n")
        let pids = try [1, 2].map { try #require(lab.daemons[$0]?.processIdentifier) }
        func policy(_ pid: Int32) -> String { shell("chrt -p \(pid)").output }
        #expect(policy(pids[0]).contains("SCHED_OTHER"), "no raise before a stall: \(policy(pids[0]))")
        // Past the hold-off after start (1 s), then a 200 ms stall of both: 100 ms adverts, so a
        // timer of each falls due while it is stopped. The Backup's Master_Down_Interval (≈ 360 ms)
        // is not reached: nothing else changes.
        Thread.sleep(forTimeInterval: 1.2)
        func stall() {
            shell("kill -STOP \(pids[0]) \(pids[1]); sleep 0.2; kill -CONT \(pids[0]) \(pids[1])")
        }
        stall()
        #expect(waitUntil(5) { policy(pids[0]).contains("SCHED_RR") && policy(pids[0]).contains("priority: 1") },
                "\(policy(pids[0]))\n\(lab.log(1))")
        #expect(lab.log(1).contains("raised the event loop to SCHED_RR priority 1 (max_auto_priority 2)"), "\(lab.log(1))")
        // A second stall within the hold-off changes nothing; one after it is the next step; a third
        // stays at the maximum.
        stall()
        Thread.sleep(forTimeInterval: 0.3)
        #expect(policy(pids[0]).contains("priority: 1"), "\(policy(pids[0]))")
        Thread.sleep(forTimeInterval: 1.0)
        stall()
        #expect(waitUntil(5) { policy(pids[0]).contains("priority: 2") }, "\(policy(pids[0]))\n\(lab.log(1))")
        Thread.sleep(forTimeInterval: 1.1)
        stall()
        Thread.sleep(forTimeInterval: 0.3)
        #expect(policy(pids[0]).contains("priority: 2"), "\(policy(pids[0]))")
        let metrics = lab.scrapeMetrics(1, port: 9464) ?? ""
        #expect(metrics.contains("\nvipd_realtime_priority 2.0\n"), "\(metrics)")
        let late = metrics.components(separatedBy: "\n").first { $0.hasPrefix("vipd_late_timer_wakeups_total ") }
        #expect(late.flatMap { Int($0.split(separator: " ")[1]) }.map { $0 >= 4 } == true, "one per stall at least: \(late ?? metrics)")
        // The other daemon has max_auto_priority off: normal scheduling, and one warning.
        #expect(policy(pids[1]).contains("SCHED_OTHER"), "\(policy(pids[1]))")
        let warnings = lab.log(2).components(separatedBy: "\n").filter { $0.contains("timers ran") && $0.contains("Set max_auto_priority") }
        #expect(warnings.count == 1, "one warning a minute: \(lab.log(2))")
        lab.expectSoleHolder(Lab.vip4, 1)
    }

    /// Issue 11: a hold the daemon would refuse is refused by the CLI, before it connects.
    @Test(arguments: ["60000m", "2592001s"])
    func handoverHoldBeyondThirtyDaysIsRefusedByTheCLI(_ hold: String) {
        let result = shell("\(vipd) handover --hold \(hold) --socket /tmp/vipd-none-\(getpid()).sock")
        #expect(result.status != 0)
        #expect(result.output.contains("from 0 to 30 days"), "\(result.output)")
        #expect(!result.output.contains("is the daemon running?"), "\(result.output)")
    }

    @Test func statusWithoutADaemonExplains() {
        let result = shell("\(vipd) status --socket /tmp/vipd-none-\(getpid()).sock")
        #expect(result.status != 0)
        #expect(result.output.contains("is the daemon running?"), "\(result.output)")
    }

    @Test func handoverAndApproveOnABackupChangeNothing() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: config(instanceYAML(priority: 200)))
        try lab.start(2, config: config(instanceYAML(priority: 100)))
        lab.expectSoleHolder(Lab.vip4, 1)
        let handover = lab.vipdCommand(2, "handover web")
        #expect(handover.status != 0)
        #expect(handover.output.contains("not Master here"), "\(handover.output)")
        let approve = lab.vipdCommand(2, "approve web")
        #expect(approve.status != 0)
        #expect(approve.output.contains("no takeover pending"), "\(approve.output)")
        let unknown = lab.vipdCommand(1, "handover nosuch")
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no instance named nosuch"), "\(unknown.output)")
        lab.expectSoleHolder(Lab.vip4, 1)
        #expect(lab.state(2, "web") == "Backup")
    }
}
