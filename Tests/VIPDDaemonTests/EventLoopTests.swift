import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import VIPDDaemon
import VRRP

@Suite(.serialized) struct EventLoopTests {
    @Test func timersFireInDeadlineOrderAndCancelledOnesDoNot() throws {
        let loop = try EventLoop()
        var fired: [String] = []
        let start = loop.now()
        loop.schedule(at: start + .milliseconds(30)) { fired.append("c"); loop.stop() }
        loop.schedule(at: start + .milliseconds(10)) { fired.append("a") }
        let cancelled = loop.schedule(at: start + .milliseconds(15)) { fired.append("x") }
        loop.schedule(at: start + .milliseconds(20)) { fired.append("b") }
        loop.cancel(cancelled)
        try loop.run()
        #expect(fired == ["a", "b", "c"])
        #expect(loop.now() - start >= .milliseconds(30))
    }

    @Test func timersNeverFireEarly() throws {
        let loop = try EventLoop()
        var lateness: [Duration] = []
        var remaining = 20
        func next() {
            let deadline = loop.now() + .microseconds(1_500)
            loop.schedule(at: deadline) {
                lateness.append(loop.now() - deadline)
                remaining -= 1
                if remaining == 0 { loop.stop() } else { next() }
            }
        }
        next()
        try loop.run()
        #expect(lateness.count == 20)
        #expect(lateness.allSatisfy { $0 >= .zero })
    }

    /// `max_auto_priority`'s measurement: a wakeup whose first due timer ran at least the threshold
    /// late is reported once, with that lateness; timers on time are not reported.
    @Test func lateTimersAreReportedOncePerWakeup() throws {
        let loop = try EventLoop()
        var reports: [Duration] = []
        loop.lateTimers = (.milliseconds(20), { reports.append($0) })
        let start = loop.now()
        // Two timers already 50 ms and 40 ms overdue: one wakeup, one report of the earlier.
        loop.schedule(at: start - .milliseconds(50)) {}
        loop.schedule(at: start - .milliseconds(40)) {}
        // Then timers on time (5 ms apart), which must not be reported.
        var onTime = 0
        func next() {
            loop.schedule(at: loop.now() + .milliseconds(5)) {
                onTime += 1
                if onTime == 5 { loop.stop() } else { next() }
            }
        }
        next()
        try loop.run()
        #expect(reports.count == 1, "\(reports)")
        #expect(reports.first.map { $0 >= .milliseconds(50) && $0 < .seconds(5) } == true, "\(reports)")
        #expect(onTime == 5)
    }

    /// The control socket writes replies on readiness: a descriptor can be watched for writing,
    /// and switched back to reading.
    @Test func descriptorsCanBeWatchedForWritingAndBack() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var events: [String] = []
        // The write end of an empty pipe is writable at once.
        try loop.watch(fd: fds[1], forWriting: true) {
            events.append("writable")
            loop.unwatch(fd: fds[1])
            var byte: UInt8 = 7
            _ = write(fds[1], &byte, 1)
        }
        try loop.watch(fd: fds[0], forWriting: true) { events.append("read end writable?") }
        // Re-watching for reading replaces the interest: a pipe's read end is never writable.
        try loop.watch(fd: fds[0]) {
            events.append("readable")
            loop.stop()
        }
        loop.schedule(after: .seconds(5)) { loop.stop() }
        try loop.run()
        #expect(events == ["writable", "readable"])
    }

    @Test func timersWithSlackShareAWakeupAndOthersStillWaitForTheirDeadline() throws {
        // Sharing a wakeup can only be seen when the loop woke for `a` before `b` was due: on a
        // busy machine the wakeup can come later than that (then every timer is simply due and
        // nothing is shown). Such runs are repeated; the order and lower bounds hold in every run.
        for _ in 0..<20 {
            let loop = try EventLoop()
            let start = loop.now()
            let a = start + .milliseconds(20)
            let b = a + .microseconds(600)
            var fired: [(String, Instant)] = []
            loop.schedule(at: a) { fired.append(("a", loop.now())) }
            // Due 0.6 ms after a, with 1 ms of slack: fired in a's wakeup, before its deadline.
            loop.schedule(at: b, slack: .milliseconds(1)) { fired.append(("b", loop.now())) }
            // Same deadline, no slack: waits for it.
            loop.schedule(at: b) { fired.append(("c", loop.now())) }
            // Due 5 ms after a with 4 ms of slack: not fired with it.
            loop.schedule(at: a + .milliseconds(5), slack: .milliseconds(4)) { fired.append(("d", loop.now())) }
            loop.schedule(at: start + .milliseconds(60)) { loop.stop() }
            try loop.run()
            #expect(fired.map(\.0) == ["a", "b", "c", "d"])
            let at = Dictionary(uniqueKeysWithValues: fired)
            #expect(at["c"]! >= b)
            // Never earlier than its slack before its deadline (a wakeup for c that came late on a
            // busy machine may take d within that much), never with a.
            #expect(at["d"]! >= a + .milliseconds(1))
            guard at["a"]! < b - .microseconds(300) else { continue }   // woke too late to show it
            #expect(at["b"]! < b, "b waited for its own deadline instead of sharing a's wakeup")
            return
        }
        Issue.record("in 20 runs the loop never woke within 0.3 ms of a timer's deadline")
    }

    @Test func cancelledAndReplacedTimersFireOnlyOnce() throws {
        // The Backup pattern: a timer replaced by a later one again and again before it is due
        // (the timerfd stays armed for the earliest, stale, deadline and must not fire anything).
        let loop = try EventLoop()
        let start = loop.now()
        var ids: [TimerID?] = Array(repeating: nil, count: 50)
        var fired: [Int] = []
        for round in 0...20 {
            for i in 0..<50 {
                loop.cancel(ids[i])
                ids[i] = loop.schedule(at: start + .milliseconds(Int64(10 + round + (49 - i)))) { fired.append(i) }
            }
        }
        loop.schedule(at: start + .milliseconds(150)) { loop.stop() }
        try loop.run()
        #expect(fired == Array((0..<50).reversed()))
    }

    @Test func readableDescriptorCallsItsHandler() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var got: [UInt8] = []
        try loop.watch(fd: fds[0]) {
            var byte: UInt8 = 0
            if read(fds[0], &byte, 1) == 1 { got.append(byte) }
            if got.count == 2 { loop.stop() }
        }
        loop.schedule(after: .milliseconds(5)) { var b: UInt8 = 7; _ = write(fds[1], &b, 1) }
        loop.schedule(after: .milliseconds(10)) { var b: UInt8 = 9; _ = write(fds[1], &b, 1) }
        loop.schedule(after: .seconds(5)) { loop.stop() }
        try loop.run()
        #expect(got == [7, 9])
    }

    /// A packet that arrived while the loop was busy is read before a timer that fell due
    /// meanwhile (both are ready at the next wakeup): the order the drain-before-expiry rule
    /// relies on for everything queued when the loop wakes.
    @Test func readyDescriptorsAreHandledBeforeTimersThatFellDueMeanwhile() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var order: [String] = []
        try loop.watch(fd: fds[0]) {
            var byte: UInt8 = 0
            if read(fds[0], &byte, 1) == 1 { order.append("packet") }
        }
        let start = loop.now()
        loop.schedule(at: start + .milliseconds(5)) {
            // The next timer falls due 5 ms from now, however late this one ran (a loaded machine
            // can run it 10 ms late), and beyond this wakeup's 1 ms slack horizon; the loop is busy
            // past it, and the "packet" arrives while it is busy.
            loop.schedule(at: loop.now() + .milliseconds(5)) { order.append("timer"); loop.stop() }
            var b: UInt8 = 1
            _ = write(fds[1], &b, 1)
            usleep(30_000)
        }
        loop.schedule(at: start + .seconds(5)) { loop.stop() }
        try loop.run()
        #expect(order == ["packet", "timer"])
    }

    @Test func signalsArriveThroughTheLoop() throws {
        let loop = try EventLoop()
        var received: [Int32] = []
        try loop.handleSignals([SIGUSR2]) { sig in received.append(sig); loop.stop() }
        // raise() directs the signal at this thread, which has it blocked: it stays pending
        // until the signalfd reads it.
        loop.schedule(after: .milliseconds(5)) { raise(SIGUSR2) }
        loop.schedule(after: .seconds(5)) { loop.stop() }
        try loop.run()
        #expect(received == [SIGUSR2])
    }

    // The passes below are given their time (`fireExpiredTimers(at:)`): the deadlines are made up,
    // the loop's clock plays no part.

    @Test func slackIsClampedToTheMaximum() throws {
        let loop = try EventLoop()
        let t = Instant(nanoseconds: 1_000_000_000_000)
        var fired = 0
        loop.schedule(at: t + .seconds(3), slack: .seconds(10)) { fired += 1 }
        loop.fireExpiredTimers(at: t + .seconds(3) - EventLoop.maximumSlack - .microseconds(1))
        #expect(fired == 0)
        loop.fireExpiredTimers(at: t + .seconds(3) - EventLoop.maximumSlack)
        #expect(fired == 1)
    }

    @Test func dueTimersFireFirstThenEarlyOnesNearestFirstUpToTheCap() throws {
        let loop = try EventLoop()
        let t = Instant(nanoseconds: 1_000_000_000_000)
        let cap = EventLoop.maximumEarlyPerWakeup
        var fired: [Int] = []
        // Timer i is due i µs after t, with 5 ms of slack; scheduled in reverse order of deadline.
        let count = cap + 44
        for i in stride(from: count, through: 0, by: -1) {
            loop.schedule(at: t + .microseconds(Int64(i)), slack: .milliseconds(5)) { fired.append(i) }
        }
        // A timer that is late, without slack: due, so it fires first (before the early ones).
        loop.schedule(at: t - .milliseconds(1)) { fired.append(-1) }
        loop.fireExpiredTimers(at: t)
        // -1 and 0 are due; then `cap` early ones, by deadline.
        #expect(fired == Array(-1...cap))
        // The ones over the cap wait for their own deadlines: looked at again only then.
        let examined = loop.timersExamined
        loop.fireExpiredTimers(at: t + .microseconds(Int64(cap)))
        #expect(fired.count == cap + 2)
        #expect(loop.timersExamined == examined)
        loop.fireExpiredTimers(at: t + .microseconds(Int64(count)))
        #expect(fired == Array(-1...count))
    }

    @Test func aWakeupLooksOnlyAtTheTimersItMayFire() throws {
        // 1,000 timers without slack due over the next second, one with a second of slack: a pass
        // now fires that one and looks at nothing else (the cost is in what it fires).
        let loop = try EventLoop()
        let t = Instant(nanoseconds: 1_000_000_000_000)
        var fired: [Int] = []
        for i in 1...1_000 { loop.schedule(at: t + .milliseconds(Int64(i))) { fired.append(i) } }
        loop.schedule(at: t + .milliseconds(900), slack: .seconds(1)) { fired.append(0) }
        loop.fireExpiredTimers(at: t)
        #expect(fired == [0])
        #expect(loop.timersExamined == 1)
        loop.fireExpiredTimers(at: t + .milliseconds(10))
        #expect(fired == [0] + Array(1...10))
        #expect(loop.timersExamined == 11)
    }

    @Test func aTimerSetAgainInsideItsWindowIsNotFiredAgainInTheSamePass() throws {
        // A Backup check that finds nothing moved and sets itself again at the same deadline with
        // its slack: at most once per pass, however often; a timer set due is still fired at once.
        let loop = try EventLoop()
        let t = Instant(nanoseconds: 1_000_000_000_000)
        var checks = 0
        func check() {
            checks += 1
            loop.schedule(at: t + .milliseconds(50), slack: .milliseconds(100)) { check() }
        }
        loop.schedule(at: t + .milliseconds(50), slack: .milliseconds(100)) { check() }
        var chain = 0
        func due() {
            chain += 1
            if chain < 3 { loop.schedule(at: t) { due() } }
        }
        loop.schedule(at: t) { due() }
        loop.fireExpiredTimers(at: t)
        #expect(checks == 1)
        #expect(chain == 3)
        loop.fireExpiredTimers(at: t + .milliseconds(1))
        #expect(checks == 2)
    }

    @Test func aTimerCancelledByAnEarlierCallbackOfThePassDoesNotFire() throws {
        let loop = try EventLoop()
        let t = Instant(nanoseconds: 1_000_000_000_000)
        var fired: [String] = []
        var victim: TimerID?
        loop.schedule(at: t) { fired.append("a"); loop.cancel(victim) }
        victim = loop.schedule(at: t + .milliseconds(1), slack: .milliseconds(2)) { fired.append("b") }
        loop.schedule(at: t + .milliseconds(2), slack: .milliseconds(2)) { fired.append("c") }
        loop.fireExpiredTimers(at: t)
        #expect(fired == ["a", "c"])
    }

    @Test func heapOrdersManyDeadlines() {
        var heap = DeadlineHeap()
        var rng = SystemRandomNumberGenerator()
        let values = (0..<500).map { _ in Int64.random(in: 0..<1000, using: &rng) }
        for (i, v) in values.enumerated() { heap.push(Instant(nanoseconds: v), UInt64(i)) }
        var out: [Int64] = []
        while let top = heap.pop() { out.append(top.deadline.nanoseconds) }
        #expect(out == values.sorted())
    }
}

@Suite(.serialized) struct ChildProcessTests {
    private func run(_ args: [String], env: [String: String] = [:], timeout: Duration?) throws -> ChildOutcome? {
        let loop = try EventLoop()
        let children = ChildProcesses(loop: loop)
        var outcome: ChildOutcome?
        children.spawn(args, environment: env, timeout: timeout) { outcome = $0; loop.stop() }
        if outcome == nil {
            loop.schedule(after: .seconds(20)) { loop.stop() }
            try loop.run()
        }
        return outcome
    }

    @Test func exitStatusIsReported() throws {
        #expect(try run(["/bin/sh", "-c", "exit 3"], timeout: .seconds(10)) == .exited(3))
        #expect(try run(["/bin/true"], timeout: nil) == .exited(0))
    }

    @Test func environmentIsPassed() throws {
        let outcome = try run(["/bin/sh", "-c", "test \"$VIPD_TEST\" = hello"], env: ["VIPD_TEST": "hello"], timeout: .seconds(10))
        #expect(outcome == .exited(0))
    }

    @Test func hangingChildIsKilledAtItsTimeout() throws {
        let start = EventLoop.now()
        let outcome = try run(["/bin/sh", "-c", "sleep 30"], timeout: .milliseconds(200))
        #expect(outcome == .timedOut)
        #expect(EventLoop.now() - start < .seconds(10))
    }

    @Test func missingProgramFailsToSpawn() throws {
        let outcome = try run(["/nonexistent/vipd-hook"], timeout: .seconds(5))
        // glibc's posix_spawn reports exec failure as the spawn result (ENOENT), older ones as exit 127.
        #expect(outcome == .spawnFailed(ENOENT) || outcome == .exited(127))
    }
}
