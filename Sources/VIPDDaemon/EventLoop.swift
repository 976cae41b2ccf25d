// The daemon's single serial executor: one thread, epoll for readiness, one timerfd (absolute
// CLOCK_MONOTONIC) for every timer, signalfd for signals. Everything that touches router state runs
// on this thread, so the protocol core needs no locks. No polling: the thread sleeps in epoll_wait
// until a file descriptor is ready or the earliest deadline passes, with the timerfd's microsecond
// precision rather than epoll_wait's millisecond timeout.

#if canImport(Glibc)
import Glibc
#endif
import CVIPDSystem
import VIPDSystem
import VRRP

public struct TimerID: Hashable, Sendable {
    public let value: UInt64
    /// For other `DaemonLoop`s (the daemon simulation's virtual clock).
    public init(_ value: UInt64) { self.value = value }
}

public final class EventLoop {
    private let epollFD: Int32
    private let timerFD: Int32
    private var signalFD: Int32 = -1
    private var handlers: [Int32: () -> Void] = [:]
    /// Descriptors watched for writability instead of readability.
    private var waitingToWrite: Set<Int32> = []
    private var signalHandler: ((Int32) -> Void)?
    /// A struct, not a tuple: a closure inside a tuple stored in a Dictionary is re-abstracted
    /// through a thunk allocated per `schedule`; a struct field keeps its own representation.
    private struct Timer {
        var deadline: Instant
        var slack: Duration
        var callback: () -> Void
    }
    private var timers: [UInt64: Timer] = [:]
    /// Every timer by the earliest time it may fire (deadline − slack): what a wakeup looks at, so
    /// that it touches only the timers it may fire, however large the slacks.
    private var byEarliest = DeadlineHeap()
    /// Every timer by its deadline: what the timerfd is armed for (the loop never wakes early).
    private var byDeadline = DeadlineHeap()
    private var nextTimerID: UInt64 = 1
    /// Live timers taken off `byEarliest` by `fireExpiredTimers` so far (fired or put back): what a
    /// wakeup costs, for the tests.
    private(set) var timersExamined = 0
    private var armedDeadline: Instant?
    private var running = false
    /// Called with how late the first due timer of a wakeup ran, when that is at least `threshold`
    /// (the daemon's `max_auto_priority`; see AutoPriority). At most once per wakeup.
    public var lateTimers: (threshold: Duration, report: (Duration) -> Void)?

    public init() throws {
        epollFD = try syscall("epoll_create1") { vipd_epoll_create() }
        timerFD = try syscall("timerfd_create") { vipd_timerfd_create() }
        try add(fd: timerFD)
    }

    deinit {
        close(timerFD)
        if signalFD >= 0 { close(signalFD) }
        close(epollFD)
    }

    /// The monotonic clock the whole daemon uses, as the core's `Instant`.
    public static func now() -> Instant { Instant(nanoseconds: MonotonicClock.nanoseconds()) }
    public func now() -> Instant { Self.now() }

    // MARK: File descriptors

    /// Calls `handler` on this thread whenever `fd` is readable (level-triggered), or with
    /// `forWriting` whenever it is writable. Watching a watched descriptor replaces its handler and
    /// what it is waited for. Hang-ups and errors also call the handler.
    public func watch(fd: Int32, forWriting: Bool = false, handler: @escaping () -> Void) throws(SystemError) {
        if handlers[fd] == nil {
            try add(fd: fd)
            if forWriting { try syscall("epoll_ctl(MOD)") { vipd_epoll_modify(epollFD, fd, 1) } }
        } else if waitingToWrite.contains(fd) != forWriting {
            try syscall("epoll_ctl(MOD)") { vipd_epoll_modify(epollFD, fd, forWriting ? 1 : 0) }
        }
        handlers[fd] = handler
        if forWriting { waitingToWrite.insert(fd) } else { waitingToWrite.remove(fd) }
    }

    public func unwatch(fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        waitingToWrite.remove(fd)
        _ = vipd_epoll_del(epollFD, fd)
    }

    private func add(fd: Int32) throws(SystemError) {
        _ = try syscall("epoll_ctl(ADD)") { vipd_epoll_add(epollFD, fd) }
    }

    // MARK: Signals

    /// Blocks `signals` in the calling thread. Call it first thing in the process, before any other
    /// thread exists (a logging or Dispatch thread started earlier would not inherit the mask and
    /// would take a process-directed SIGTERM with its default action).
    public static func blockSignals(_ signals: [Int32]) {
        _ = vipd_block_signals(signals, Int32(signals.count))
    }

    /// Blocks `signals` for the process and delivers them through a signalfd on this loop. Call it
    /// before any thread is started so that every thread inherits the blocked mask.
    public func handleSignals(_ signals: [Int32], handler: @escaping (Int32) -> Void) throws {
        signalFD = try syscall("signalfd") { vipd_signalfd(signals, Int32(signals.count)) }
        signalHandler = handler
        try add(fd: signalFD)
    }

    // MARK: Timers

    /// The most a timer's `slack` can be (see `schedule(at:slack:_:)`).
    public static let maximumSlack: Duration = .seconds(1)
    /// The most timers one wakeup fires before their deadlines. A Master's advertisements sent
    /// early stay together (the core re-phases them), so this caps the burst of advertisements a
    /// wakeup hands to the kernel (a qdisc and a netdev backlog hold 1,000 packets by default);
    /// the timers left over wait for their own deadlines, and then form a burst of their own.
    /// Timers that are due always fire.
    public static let maximumEarlyPerWakeup = 256

    /// Calls `callback` once `deadline` has passed. With `slack` (at most `maximumSlack`) it may
    /// be called up to that much earlier, when the loop is awake anyway for another timer or a
    /// descriptor: timers that fall due close together then share one wakeup. The loop never wakes
    /// early for it, and never fires early a timer scheduled during the same wakeup (a callback
    /// that sets its timer again inside the window waits for the next wakeup, or its deadline).
    @discardableResult
    public func schedule(at deadline: Instant, slack: Duration = .zero, _ callback: @escaping () -> Void) -> TimerID {
        let id = nextTimerID
        nextTimerID += 1
        let slack = min(max(slack, .zero), Self.maximumSlack)
        timers[id] = Timer(deadline: deadline, slack: slack, callback: callback)
        byDeadline.push(deadline, id)
        byEarliest.push(deadline - slack, id)
        return TimerID(id)
    }

    @discardableResult
    public func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: now() + delay, callback)
    }

    public func cancel(_ id: TimerID?) {
        guard let id else { return }
        timers.removeValue(forKey: id.value)   // the heap entries are dropped lazily
    }

    // MARK: Running

    public func stop() { running = false }

    /// Runs until `stop()` is called from a callback.
    ///
    /// Order within one wakeup: every ready descriptor is handled, then the timers that are due
    /// (at the top of the next iteration, before sleeping again). A timer that fell due while the
    /// loop was busy, stopped or starved of CPU therefore never runs before the packets that were
    /// queued when `epoll_wait` returned have been read (up to one read per socket). Packets that
    /// arrive after that, or beyond one read, can still be waiting when a Master_Down_Timer fires:
    /// the daemon drains the router's socket before acting on it (`DrainBeforeExpiry`).
    public func run() throws {
        running = true
        var ready = [Int32](repeating: -1, count: 64)
        while running {
            fireExpiredTimers(at: now())
            guard running else { break }
            try armTimerFD()
            let n = vipd_epoll_wait(epollFD, &ready, Int32(ready.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(operation: "epoll_wait", errno: errno)
            }
            for i in 0..<Int(n) {
                let fd = ready[i]
                if fd == timerFD {
                    var expirations: UInt64 = 0
                    _ = read(timerFD, &expirations, 8)
                    armedDeadline = nil
                } else if fd == signalFD {
                    drainSignals()
                } else if let handler = handlers[fd] {
                    handler()
                }
                if !running { break }
            }
        }
    }

    /// Fires every timer that is due at `current`, due ones first (in deadline order), then up to
    /// `maximumEarlyPerWakeup` of those within their slack (nearest deadline first). Timers that
    /// callbacks schedule are fired in the same call only when they are already due. Each entry
    /// looked at is either fired or put back once, keyed so that it is not looked at again before
    /// it may fire: the cost is in the timers fired, not in the timers pending.
    func fireExpiredTimers(at current: Instant) {
        var early = 0
        var firstRound = true
        var putBack: [(deadline: Instant, id: UInt64)] = []
        var batch: [(deadline: Instant, id: UInt64)] = []
        var lateness: Duration?
        repeat {
            batch.removeAll(keepingCapacity: true)
            while let top = byEarliest.peek(), top.deadline <= current {
                byEarliest.pop()
                guard let timer = timers[top.id] else { continue }   // fired or cancelled
                timersExamined += 1
                // Scheduled by a callback of this call and not yet due: not before the next wakeup.
                if !firstRound && timer.deadline > current { putBack.append(top); continue }
                batch.append((timer.deadline, top.id))
            }
            batch.sort { $0.deadline != $1.deadline ? $0.deadline < $1.deadline : $0.id < $1.id }
            // How late the earliest due timer of the wakeup runs (`lateTimers`).
            if firstRound, let first = batch.first, first.deadline <= current { lateness = current - first.deadline }
            for entry in batch {
                guard let timer = timers[entry.id] else { continue }   // cancelled by a callback
                if timer.deadline > current {
                    // Over the cap: waits for its deadline (looked at again only then).
                    guard early < Self.maximumEarlyPerWakeup else { putBack.append(entry); continue }
                    early += 1
                }
                timers.removeValue(forKey: entry.id)
                timer.callback()
            }
            firstRound = false
        } while !batch.isEmpty
        for entry in putBack { byEarliest.push(entry.deadline, entry.id) }
        if let lateness, let lateTimers, lateness >= lateTimers.threshold { lateTimers.report(lateness) }
    }

    /// Arms the timerfd for the earliest pending deadline. Lazily: when the earliest deadline moved
    /// later than what is armed (a Backup's Master_Down_Timer moves later with every advertisement),
    /// the timerfd stays armed (one early wakeup that finds nothing due) instead of a
    /// timerfd_settime for every advertisement received.
    private func armTimerFD() throws {
        // Drop fired and cancelled entries at the top.
        while let top = byDeadline.peek(), timers[top.id]?.deadline != top.deadline { byDeadline.pop() }
        let deadline = byDeadline.peek()?.deadline
        if let armed = armedDeadline, let deadline, armed <= deadline { return }
        guard deadline != armedDeadline else { return }
        // 0 disarms the timer; a deadline in the past (but not 0) fires at once.
        let ns = deadline.map { max($0.nanoseconds, 1) } ?? 0
        _ = try syscall("timerfd_settime") { vipd_timerfd_set_absolute(timerFD, ns) }
        armedDeadline = deadline
    }

    private func drainSignals() {
        while case let signal = vipd_signalfd_read(signalFD), signal > 0 {
            signalHandler?(signal)
        }
    }
}

/// A binary min-heap of (deadline, id); ties keep insertion order via the id.
struct DeadlineHeap {
    private var items: [(deadline: Instant, id: UInt64)] = []

    var isEmpty: Bool { items.isEmpty }
    func peek() -> (deadline: Instant, id: UInt64)? { items.first }

    private static func less(_ a: (deadline: Instant, id: UInt64), _ b: (deadline: Instant, id: UInt64)) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.id < b.id
    }

    mutating func push(_ deadline: Instant, _ id: UInt64) {
        items.append((deadline, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> (deadline: Instant, id: UInt64)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && Self.less(items[left], items[smallest]) { smallest = left }
            if right < items.count && Self.less(items[right], items[smallest]) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
