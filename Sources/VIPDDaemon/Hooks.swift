// Notify hooks: run on every transition, strictly in order per instance, never on the loop's time.
// A slow hook delays only the hooks queued behind it.
//
// The queue is bounded: besides the running hook, at most one invocation waits per virtual router
// (an instance has one per address family). A newer transition of that router replaces the waiting
// one — a hook never runs a state that is already stale — and the replacement is counted. A state
// that flaps faster than its hook runs (VRRPv3 has no authentication: anyone on the link can make it
// flap) therefore costs bounded memory and runs the latest state next, not minutes of old ones.
//
// One transition may run several programs (keepalived's convention: the state's `notify_STATE`
// command, then `notify`): they form one entry, run one after the other in that order, and a newer
// transition replaces the whole entry while it waits.

import VIPDConfig

public struct HookInvocation: Equatable, Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    /// Who runs it (`script_user`); nil = the daemon's own user.
    public var user: ScriptUser?

    public init(arguments: [String], environment: [String: String], user: ScriptUser? = nil) {
        self.arguments = arguments; self.environment = environment; self.user = user
    }

    /// Environment variables the queue maintains when it folds invocations together.
    public static let previousStateVariable = "VIPD_PREVIOUS_STATE"
    /// How many transitions were folded into this invocation (0 when none).
    public static let coalescedVariable = "VIPD_COALESCED"
}

public final class HookQueue {
    /// A hook still running after this long is killed so that later transitions are reported.
    public static let timeout: Duration = .seconds(60)

    private let children: any ChildSpawner
    /// Waiting transitions in the order their latest transition happened; one per router key, each
    /// the programs that transition runs, in order.
    private var pending: [(router: String, invocations: [HookInvocation], folded: Int)] = []
    /// Programs of the transition being run that have not started yet.
    private var current: [HookInvocation] = []
    private var busy = false
    /// Called when the last queued program has finished (the daemon's graceful stop waits for it).
    public var onIdle: (() -> Void)?
    private let onFailure: (HookInvocation, ChildOutcome) -> Void
    /// Transitions whose hook was replaced by a newer one of the same router before it ran.
    public private(set) var coalesced = 0

    public init(children: any ChildSpawner, onFailure: @escaping (HookInvocation, ChildOutcome) -> Void) {
        self.children = children
        self.onFailure = onFailure
    }

    /// The running hook plus those waiting: at most 1 + the number of routers.
    public var queued: Int { pending.count + (busy ? 1 : 0) }

    /// Queues `invocation` for the virtual router `router`; see `enqueue(_:router:)` for a batch.
    @discardableResult
    public func enqueue(_ invocation: HookInvocation, router: String) -> Bool {
        enqueue([invocation], router: router)
    }

    /// Queues one transition's programs for the virtual router `router`, to run in order. Returns
    /// true when it replaced a waiting transition of that router (one more transition coalesced).
    /// The replacement keeps the replaced one's `VIPD_PREVIOUS_STATE` — the state the hooks last
    /// heard of — so every run still reads as a change from the previous run, and `VIPD_COALESCED`
    /// says how many were skipped.
    @discardableResult
    public func enqueue(_ invocations: [HookInvocation], router: String) -> Bool {
        guard !invocations.isEmpty else { return false }
        var next = invocations
        var folded = 0
        var previous: String?
        if let index = pending.firstIndex(where: { $0.router == router }) {
            let replaced = pending.remove(at: index)
            folded = replaced.folded + 1
            previous = replaced.invocations.first?.environment[HookInvocation.previousStateVariable]
            coalesced += 1
        }
        for i in next.indices {
            if folded > 0 { next[i].environment[HookInvocation.previousStateVariable] = previous }
            next[i].environment[HookInvocation.coalescedVariable] = "\(folded)"
        }
        pending.append((router, next, folded))
        startNext()
        return folded > 0
    }

    private func startNext() {
        guard !busy else { return }
        if current.isEmpty {
            guard !pending.isEmpty else { return }
            current = pending.removeFirst().invocations
        }
        let next = current.removeFirst()
        busy = true
        children.spawn(next.arguments, environment: next.environment, user: next.user,
                       timeout: Self.timeout) { [weak self] outcome in
            guard let self else { return }
            self.busy = false
            if !outcome.succeeded { self.onFailure(next, outcome) }
            self.startNext()
            if !self.busy { self.onIdle?() }
        }
    }
}
