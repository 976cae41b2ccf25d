// A priority queue of simulation events by time; equal times pop in insertion order, so a run is
// fully determined by its seed. Shared with the daemon simulation (Tests/DaemonSimulation).

public struct EventQueue<Payload> {
    private struct Entry {
        var time: Int64
        var sequence: UInt64
        var payload: Payload
        func before(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    /// When the next event is due, nil when none is left.
    public var nextTime: Int64? { heap.first?.time }

    public mutating func push(_ payload: Payload, at time: Int64) {
        heap.append(Entry(time: time, sequence: nextSequence, payload: payload))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].before(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> (time: Int64, payload: Payload)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].before(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].before(heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.time, top.payload)
    }
}
