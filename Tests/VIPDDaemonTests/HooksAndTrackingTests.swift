import Foundation
import Testing
@testable import VIPDDaemon
import VRRP
import VRRPNode

@Suite(.serialized) struct HookQueueTests {
    @Test func hooksRunStrictlyInOrderEvenWhenTheFirstIsSlow() throws {
        let loop = try EventLoop()
        let children = ChildProcesses(loop: loop)
        let log = "/tmp/vipd-hooks-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        var failures: [ChildOutcome] = []
        let queue = HookQueue(children: children) { _, outcome in failures.append(outcome) }
        // The first hook sleeps before writing: if hooks overlapped, "b" would be written first.
        queue.enqueue(HookInvocation(arguments: ["/bin/sh", "-c", "sleep 0.2; echo \"$1 $2 $VIPD_STATE\" >> \(log)", "sh", "web", "MASTER"],
                                     environment: ["VIPD_STATE": "MASTER"]), router: "ipv4")
        queue.enqueue(HookInvocation(arguments: ["/bin/sh", "-c", "echo \"$1 $2 $VIPD_STATE\" >> \(log); exit 4", "sh", "web", "BACKUP"],
                                     environment: ["VIPD_STATE": "BACKUP"]), router: "ipv4")
        let deadline = loop.now() + .seconds(20)
        func check() {
            if queue.queued == 0 || loop.now() > deadline { loop.stop() } else { loop.schedule(after: .milliseconds(10), check) }
        }
        check()
        try loop.run()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["web MASTER MASTER", "web BACKUP BACKUP"])
        #expect(failures == [.exited(4)])
    }
}

/// The queue is bounded: the running hook, then the latest transition per router.
@Suite(.serialized) struct HookCoalescingTests {
    private func invocation(_ log: String, _ router: String, _ state: String, previous: String) -> HookInvocation {
        HookInvocation(arguments: ["/bin/sh", "-c", "sleep 0.05; echo \"$1 $2 prev=$VIPD_PREVIOUS_STATE folded=$VIPD_COALESCED\" >> \(log)", "sh", router, state],
                       environment: ["VIPD_STATE": state, "VIPD_PREVIOUS_STATE": previous])
    }

    /// A loop, a queue on it, and a log file name for the hooks to write to.
    private func setUp() throws -> (EventLoop, HookQueue, String) {
        let loop = try EventLoop()
        let queue = HookQueue(children: ChildProcesses(loop: loop)) { _, _ in }
        return (loop, queue, "/tmp/vipd-hooks-queue-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
    }

    private func drain(_ loop: EventLoop, _ queue: HookQueue) throws {
        let deadline = loop.now() + .seconds(20)
        func check() {
            if queue.queued == 0 || loop.now() > deadline { loop.stop() } else { loop.schedule(after: .milliseconds(10), check) }
        }
        check()
        try loop.run()
    }

    @Test func waitingTransitionsOfOneRouterFoldIntoTheLatest() throws {
        let (loop, queue, log) = try setUp()
        defer { unlink(log) }
        // The first runs at once; while it runs, ipv4 flaps and ipv6 changes once.
        var replaced: [Bool] = []
        replaced.append(queue.enqueue(invocation(log, "ipv4", "MASTER", previous: "BACKUP"), router: "ipv4"))
        replaced.append(queue.enqueue(invocation(log, "ipv4", "BACKUP", previous: "MASTER"), router: "ipv4"))
        replaced.append(queue.enqueue(invocation(log, "ipv6", "MASTER", previous: "BACKUP"), router: "ipv6"))
        replaced.append(queue.enqueue(invocation(log, "ipv4", "MASTER", previous: "BACKUP"), router: "ipv4"))
        replaced.append(queue.enqueue(invocation(log, "ipv4", "FAULT", previous: "MASTER"), router: "ipv4"))
        #expect(replaced == [false, false, false, true, true])
        #expect(queue.queued == 3)
        #expect(queue.coalesced == 2)
        try drain(loop, queue)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // The ipv4 hook hears MASTER, then FAULT as a change from MASTER (what it last heard),
        // with the two skipped transitions counted; ipv6's waiting hook keeps its place.
        #expect(lines == ["ipv4 MASTER prev=BACKUP folded=0", "ipv6 MASTER prev=BACKUP folded=0", "ipv4 FAULT prev=MASTER folded=2"])
    }

    @Test func aFlappingRouterNeverQueuesMoreThanOneWaitingHook() throws {
        let (loop, queue, log) = try setUp()
        defer { unlink(log) }
        let states = ["BACKUP", "MASTER"]
        for i in 0..<1000 {
            queue.enqueue(invocation(log, "ipv4", states[i % 2], previous: states[(i + 1) % 2]), router: "ipv4")
            #expect(queue.queued <= 2)
        }
        #expect(queue.coalesced == 998)
        try drain(loop, queue)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["ipv4 BACKUP prev=MASTER folded=0", "ipv4 MASTER prev=BACKUP folded=998"])
    }
}

@Suite struct NotifyStatusTests {
    @Test func statusShowsCoalescedHooksInTextAndJSON() throws {
        var instance = InstanceStatus(name: "web", interface: "eth0", vrid: 51, version: 3, state: "Master", syncGroup: nil,
                                      routers: [], trackers: [])
        #expect(!StatusRenderer.render(DaemonStatus(node: nil, pid: 1, configPath: "c", uptimeSeconds: 1, instances: [instance], interfaces: []))
            .contains("notify hooks"))
        instance.notifyQueued = 2
        instance.notifyCoalesced = 7
        let status = DaemonStatus(node: nil, pid: 1, configPath: "c", uptimeSeconds: 1, instances: [instance], interfaces: [])
        #expect(StatusRenderer.render(status).contains("  notify hooks: 2 running or waiting, 7 transitions coalesced\n"))
        let json = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
        #expect(json.contains("\"notify_coalesced\":7") && json.contains("\"notify_queued\":2"))
        #expect(try JSONDecoder().decode(DaemonStatus.self, from: Data(json.utf8)) == status)
    }
}

/// The node layer's tracking rules (VRRPNode `Tracking`), as the daemon uses them.
@Suite struct PriorityComputationTests {
    @Test func negativeWeightsApplyWhileDownPositiveWhileUp() {
        let items = [TrackedItem(kind: .interface("eth1"), weight: -50, up: false),
                     TrackedItem(kind: .script("chk"), weight: 20, up: true),
                     TrackedItem(kind: .script("other"), weight: -30, up: true)]
        #expect(Tracking.result(configured: 150, items: items).priority == 120)
    }

    @Test func clampedToTheElectionRange() {
        #expect(Tracking.result(configured: 20, items: [TrackedItem(kind: .script("a"), weight: -100, up: false)]).priority == 1)
        #expect(Tracking.result(configured: 250, items: [TrackedItem(kind: .script("a"), weight: 100, up: true)]).priority == 254)
    }

    @Test func weightZeroDownMeansFault() {
        #expect(Tracking.result(configured: 150, items: [TrackedItem(kind: .script("a"), weight: 0, up: false)]).priority == nil)
        #expect(Tracking.result(configured: 150, items: [TrackedItem(kind: .script("a"), weight: 0, up: true)]).priority == 150)
    }

    @Test func ownerPriorityIsNeverLowered() {
        // RFC 9568 §6.1: the address owner keeps 255.
        #expect(Tracking.result(configured: 255, items: [TrackedItem(kind: .script("a"), weight: -50, up: false)]).priority == 255)
    }
}

@Suite(.serialized) struct ScriptTrackerTests {
    @Test func riseAndFallCountConsecutiveResults() throws {
        let loop = try EventLoop()
        let children = ChildProcesses(loop: loop)
        var changes: [Bool] = []
        let tracker = ScriptTracker(name: "chk", command: "true", interval: .seconds(3600), timeout: .seconds(1),
                                    weight: -10, rise: 2, fall: 3, loop: loop, children: children) { changes.append($0.up) }
        #expect(tracker.up)
        tracker.record(.exited(1)); tracker.record(.exited(1))
        #expect(tracker.up)
        tracker.record(.timedOut)
        #expect(!tracker.up)
        tracker.record(.exited(0)); tracker.record(.exited(1)); tracker.record(.exited(0))
        #expect(!tracker.up)
        tracker.record(.exited(0))
        #expect(tracker.up)
        #expect(changes == [false, true])
    }

    @Test func hangingScriptCountsAsFailedAtItsTimeout() throws {
        let loop = try EventLoop()
        let children = ChildProcesses(loop: loop)
        var changes: [Bool] = []
        let tracker = ScriptTracker(name: "hang", command: "sleep 30", interval: .milliseconds(300), timeout: .milliseconds(100),
                                    weight: -10, rise: 1, fall: 2, loop: loop, children: children) { t in
            changes.append(t.up)
            loop.stop()
        }
        tracker.start()
        loop.schedule(after: .seconds(20)) { loop.stop() }
        try loop.run()
        tracker.stop()
        #expect(changes == [false])
        #expect(tracker.lastOutcome == .timedOut)
    }
}
