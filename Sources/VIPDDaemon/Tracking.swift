// Runs track scripts. What their results mean (rise/fall, weights, the clamp, weight 0 = Fault) is
// decided by the node layer (VRRPNode's `RiseFallCounter` and `Tracking`).

import VIPDConfig
import VRRP
import VRRPNode

/// Runs one track script periodically and turns its results into up/down with rise/fall.
public final class ScriptTracker {
    public let name: String
    public let weight: Int
    public var up: Bool { counter.up }
    private let command: String
    private let user: ScriptUser?
    private let interval: Duration
    private let timeout: Duration
    private var counter: RiseFallCounter
    private var running = false
    private var timer: TimerID?
    private let loop: any DaemonLoop
    private let children: any ChildSpawner
    private let onChange: (ScriptTracker) -> Void
    public private(set) var lastOutcome: ChildOutcome?

    /// Starts up (keepalived's default, unlike its `init_fail`): a failing script takes `fall`
    /// results to count as down.
    public init(name: String, command: String, user: ScriptUser? = nil, interval: Duration, timeout: Duration, weight: Int,
                rise: Int, fall: Int, loop: any DaemonLoop, children: any ChildSpawner,
                onChange: @escaping (ScriptTracker) -> Void) {
        self.name = name; self.command = command; self.user = user; self.interval = interval; self.timeout = timeout
        self.weight = weight; counter = RiseFallCounter(rise: rise, fall: fall)
        self.loop = loop; self.children = children; self.onChange = onChange
    }

    /// The tracker as the node layer's tracking sees it.
    public var item: TrackedItem { TrackedItem(kind: .script(name), weight: weight, up: up) }

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
        children.spawn(["/bin/sh", "-c", command], environment: [:], user: user, timeout: timeout) { [weak self] outcome in
            self?.record(outcome)
        }
    }

    func record(_ outcome: ChildOutcome) {
        running = false
        lastOutcome = outcome
        if counter.record(succeeded: outcome.succeeded) { onChange(self) }
    }
}
