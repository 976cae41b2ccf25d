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
                                     environment: ["VIPD_STATE": "MASTER"]))
        queue.enqueue(HookInvocation(arguments: ["/bin/sh", "-c", "echo \"$1 $2 $VIPD_STATE\" >> \(log); exit 4", "sh", "web", "BACKUP"],
                                     environment: ["VIPD_STATE": "BACKUP"]))
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
