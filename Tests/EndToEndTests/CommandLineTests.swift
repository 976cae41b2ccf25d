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

    @Test func realtimePriorityPutsTheEventLoopOnSchedRR() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        try lab.start(1, config: "realtime_priority: 10\nlock_memory: true\n" + config(instanceYAML(priority: 150)))
        let pid = try #require(lab.daemons[1]?.processIdentifier)
        let policy = shell("chrt -p \(pid)").output
        #expect(policy.contains("SCHED_RR"), "\(policy)")
        #expect(policy.contains("priority: 10"), "\(policy)")
        let locked = shell("grep VmLck /proc/\(pid)/status").output
        #expect(!locked.contains(" 0 kB"), "memory should be locked: \(locked)")
    }

    @Test func realtimePriorityWithoutCapSysNiceSaysSo() throws {
        let lab = try Lab(routers: 1)
        defer { lab.teardown() }
        try lab.rewriteConfig(1, config: "realtime_priority: 10\n" + config(instanceYAML(priority: 150)))
        let result = shell("ip netns exec \(lab.ns(1)) capsh --drop=cap_sys_nice -- -c '\(vipd) run --config \(lab.configPath(1))'", timeout: 20)
        #expect(result.status != 0)
        #expect(result.output.contains("CAP_SYS_NICE"), "\(result.output)")
        #expect(lab.holders(Lab.vip4).isEmpty)
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
