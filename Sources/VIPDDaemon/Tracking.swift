// Tracked interfaces and scripts adjust a router's effective priority (keepalived's track_interface
// and vrrp_script semantics): a negative weight is subtracted while the item is down, a positive
// weight is added while it is up, and weight 0 puts the instance in Fault while the item is down.

import VRRP

public struct TrackedItemState: Equatable, Sendable {
    public var name: String
    public var weight: Int
    public var up: Bool
}

public enum PriorityComputation {
    /// The effective priority, or nil when a weight-0 item is down (Fault).
    /// The address owner (255) is never changed by tracking (RFC 9568 §6.1).
    public static func effectivePriority(configured: UInt8, items: [TrackedItemState]) -> UInt8? {
        if items.contains(where: { $0.weight == 0 && !$0.up }) { return nil }
        if configured == ProtocolConstants.ownerPriority { return configured }
        var priority = Int(configured)
        for item in items {
            if item.weight < 0 && !item.up { priority += item.weight }
            if item.weight > 0 && item.up { priority += item.weight }
        }
        // Tracking never makes a router an owner (255) nor takes it out of the election (0).
        return UInt8(min(max(priority, 1), 254))
    }
}

/// Runs one track script periodically and turns its results into up/down with rise/fall.
public final class ScriptTracker {
    public let name: String
    public let weight: Int
    public private(set) var up = true
    private let command: String
    private let interval: Duration
    private let timeout: Duration
    private let rise: Int
    private let fall: Int
    private var successes = 0
    private var failures = 0
    private var running = false
    private var timer: TimerID?
    private let loop: any DaemonLoop
    private let children: any ChildSpawner
    private let onChange: (ScriptTracker) -> Void
    public private(set) var lastOutcome: ChildOutcome?

    /// Starts up (keepalived's default, unlike its `init_fail`): a failing script takes `fall`
    /// results to count as down.
    public init(name: String, command: String, interval: Duration, timeout: Duration, weight: Int, rise: Int, fall: Int,
                loop: any DaemonLoop, children: any ChildSpawner, onChange: @escaping (ScriptTracker) -> Void) {
        self.name = name; self.command = command; self.interval = interval; self.timeout = timeout
        self.weight = weight; self.rise = max(rise, 1); self.fall = max(fall, 1)
        self.loop = loop; self.children = children; self.onChange = onChange
    }

    public func start() {
        runOnce()
    }

    public func stop() {
        loop.cancel(timer)
        timer = nil
    }

    private func runOnce() {
        timer = loop.schedule(after: interval) { [weak self] in self?.runOnce() }
        // One run at a time: a run still going when the next is due is not doubled.
        guard !running else { return }
        running = true
        children.spawn(["/bin/sh", "-c", command], environment: [:], timeout: timeout) { [weak self] outcome in
            self?.record(outcome)
        }
    }

    func record(_ outcome: ChildOutcome) {
        running = false
        lastOutcome = outcome
        if outcome.succeeded {
            successes += 1
            failures = 0
            if !up && successes >= rise { up = true; onChange(self) }
        } else {
            failures += 1
            successes = 0
            if up && failures >= fall { up = false; onChange(self) }
        }
    }
}
