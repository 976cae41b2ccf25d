// Notify hooks: run on every transition, strictly in order per instance, never on the loop's time.
// A slow hook delays only the hooks queued behind it.

public struct HookInvocation: Equatable, Sendable {
    public var arguments: [String]
    public var environment: [String: String]
}

public final class HookQueue {
    /// A hook still running after this long is killed so that later transitions are reported.
    public static let timeout: Duration = .seconds(60)

    private let children: any ChildSpawner
    private var pending: [HookInvocation] = []
    private var busy = false
    private let onFailure: (HookInvocation, ChildOutcome) -> Void

    public init(children: any ChildSpawner, onFailure: @escaping (HookInvocation, ChildOutcome) -> Void) {
        self.children = children
        self.onFailure = onFailure
    }

    public var queued: Int { pending.count + (busy ? 1 : 0) }

    public func enqueue(_ invocation: HookInvocation) {
        pending.append(invocation)
        startNext()
    }

    private func startNext() {
        guard !busy, !pending.isEmpty else { return }
        let next = pending.removeFirst()
        busy = true
        children.spawn(next.arguments, environment: next.environment, timeout: Self.timeout) { [weak self] outcome in
            guard let self else { return }
            self.busy = false
            if !outcome.succeeded { self.onFailure(next, outcome) }
            self.startNext()
        }
    }
}
