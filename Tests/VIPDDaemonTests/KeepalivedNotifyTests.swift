import Foundation
import Testing
import VIPDConfig
@testable import VIPDDaemon
import VRRP

/// What a transition runs under keepalived's convention, and the child path that runs it as
/// `script_user` (docs/config.md "keepalived notify convention", "Script user").
@Suite struct KeepalivedNotifyProgramTests {
    private func instance(style: NotifyStyle, notify: String? = "/hooks/notify.sh", arguments: [String] = []) -> InstanceConfig {
        var c = InstanceConfig(name: "web", interface: "eth0", vrid: 51, addresses: [AddressPrefix("192.0.2.100/24")!],
                               notify: notify)
        c.notifyStyle = style
        c.notifyArguments = arguments
        c.stateCommands = StateCommands(master: ["/hooks/master.sh", "a b"], fault: ["/hooks/fault.sh"])
        return c
    }

    @Test func keepalivedStyleRunsTheStateCommandThenNotifyWithItsFourArguments() {
        let c = instance(style: .keepalived, arguments: ["--site", "north"])
        #expect(Daemon.notifyPrograms(c, state: "MASTER", priority: 150) ==
                [["/hooks/master.sh", "a b"], ["/hooks/notify.sh", "--site", "north", "INSTANCE", "web", "MASTER", "150"]])
        #expect(Daemon.notifyPrograms(c, state: "BACKUP", priority: 90) ==
                [["/hooks/notify.sh", "--site", "north", "INSTANCE", "web", "BACKUP", "90"]])
        #expect(Daemon.notifyPrograms(c, state: "STOP", priority: 100) ==
                [["/hooks/notify.sh", "--site", "north", "INSTANCE", "web", "STOP", "100"]])
        // keepalived has no TAKEOVER_PENDING: nothing runs for it in its style.
        #expect(Daemon.notifyPrograms(c, state: "TAKEOVER_PENDING", priority: 100).isEmpty)
    }

    @Test func vipdStyleKeepsItsArgumentsAndStillRunsStateCommandsFirst() {
        let c = instance(style: .vipd)
        #expect(Daemon.notifyPrograms(c, state: "FAULT", priority: 0) == [["/hooks/fault.sh"], ["/hooks/notify.sh", "web", "FAULT"]])
        #expect(Daemon.notifyPrograms(c, state: "TAKEOVER_PENDING", priority: 100) == [["/hooks/notify.sh", "web", "TAKEOVER_PENDING"]])
        #expect(Daemon.notifyPrograms(instance(style: .vipd, notify: nil), state: "MASTER", priority: 1) == [["/hooks/master.sh", "a b"]])
    }

    @Test func groupStateNeedsItsMembersToAgree() {
        #expect(Daemon.groupState([]) == nil)
        #expect(Daemon.groupState([.master, .master]) == "MASTER")
        #expect(Daemon.groupState([.backup, .backup]) == "BACKUP")
        #expect(Daemon.groupState([.master, .backup]) == nil)
        #expect(Daemon.groupState([.master, .fault]) == "FAULT")
        #expect(Daemon.groupState([.initialize, .fault]) == "FAULT")
        #expect(Daemon.groupState([.initialize, .initialize]) == "STOP")
        #expect(Daemon.groupState([.initialize, .backup]) == nil)
    }
}

@Suite(.serialized) struct HookBatchTests {
    private func drain(_ loop: EventLoop, _ queue: HookQueue) throws {
        let deadline = loop.now() + .seconds(20)
        func check() {
            if queue.queued == 0 || loop.now() > deadline { loop.stop() } else { loop.schedule(after: .milliseconds(10), check) }
        }
        check()
        try loop.run()
    }

    private func program(_ log: String, _ word: String, sleep: String = "0") -> HookInvocation {
        HookInvocation(arguments: ["/bin/sh", "-c", "sleep \(sleep); echo \"$1 folded=$VIPD_COALESCED\" >> \(log)", "sh", word],
                       environment: [:])
    }

    @Test func oneTransitionsProgramsRunInOrderAndAreReplacedTogether() throws {
        let loop = try EventLoop()
        var idle = 0
        let queue = HookQueue(children: ChildProcesses(loop: loop)) { _, _ in }
        queue.onIdle = { idle += 1 }
        let log = "/tmp/vipd-hook-batch-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        // The state command sleeps: if the batch's programs overlapped, notify would write first.
        #expect(!queue.enqueue([program(log, "master-cmd", sleep: "0.2"), program(log, "notify-master")], router: "ipv4"))
        #expect(!queue.enqueue([program(log, "backup-cmd"), program(log, "notify-backup")], router: "ipv4"))
        #expect(queue.enqueue([program(log, "fault-cmd"), program(log, "notify-fault")], router: "ipv4"))
        #expect(queue.queued == 2)
        try drain(loop, queue)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["master-cmd folded=0", "notify-master folded=0", "fault-cmd folded=1", "notify-fault folded=1"])
        #expect(queue.coalesced == 1)
        #expect(idle == 1)
    }
}

private let isRoot = getuid() == 0
private let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

@Suite(.serialized, .enabled(if: isRoot || underCI, "running a child as another user needs root; CI=true makes this a failure"))
struct ScriptUserChildTests {
    /// Runs `arguments` as `user` and returns the outcome.
    private func run(_ arguments: [String], user: ScriptUser?) throws -> ChildOutcome? {
        try #require(isRoot, "needs root")
        let loop = try EventLoop()
        let children = ChildProcesses(loop: loop)
        var outcome: ChildOutcome?
        children.spawn(arguments, environment: ["VIPD_TEST": "1"], user: user, timeout: .seconds(10)) { outcome = $0; loop.stop() }
        // A child that could not start is reported at once, before the loop runs.
        guard outcome == nil else { return outcome }
        loop.schedule(after: .seconds(15)) { loop.stop() }
        try loop.run()
        return outcome
    }

    @Test func childRunsAsTheUserWithOnlyItsGroup() throws {
        var template = Array("/tmp/vipd-user-XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        let out = dir + "/id"
        let nobody = ScriptUser(name: "nobody:nogroup", user: "nobody", group: "nogroup", uid: 65534, gid: 65534)
        let outcome = try run(["/bin/sh", "-c", "echo \"$(id -u) $(id -g) $(id -G) $VIPD_TEST\" > \(out)"], user: nobody)
        #expect(outcome == .exited(0))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "65534 65534 65534 1\n")
        let file = try FileManager.default.attributesOfItem(atPath: out)
        #expect((file[.ownerAccountID] as? NSNumber)?.intValue == 65534)

        let asRoot = try run(["/bin/sh", "-c", "echo \"$(id -u) $(id -g)\" > \(out)"], user: nil)
        #expect(asRoot == .exited(0))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "0 0\n")
    }

    @Test func aProgramThatCannotStartIsReportedWithItsErrno() throws {
        #expect(try run(["/nonexistent/vipd-hook"], user: nil) == .spawnFailed(ENOENT))
        // A user never looked up is refused, never run as the daemon's own user.
        #expect(try run(["/bin/true"], user: ScriptUser(name: "nobody", user: "nobody", group: nil)) == .spawnFailed(EINVAL))
        // Not executable for the user: exec fails after the switch, in the child.
        #expect(try run(["/root/../etc/shadow"], user: ScriptUser(name: "nobody", user: "nobody", group: nil, uid: 65534, gid: 65534)) == .spawnFailed(EACCES))
    }
}
