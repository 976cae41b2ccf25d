import Simulation
import Testing

@Suite("Simulation support")
struct SimulationSupportTests {
    @Test("SimRandom: the same seed gives the same stream, different seeds differ")
    func randomStreams() {
        var a = SimRandom(seed: 7), b = SimRandom(seed: 7), c = SimRandom(seed: 8)
        let first = (0..<16).map { _ in a.next() }
        #expect(first == (0..<16).map { _ in b.next() })
        #expect(first != (0..<16).map { _ in c.next() })
    }

    @Test("SimRandom: bounded draws stay in range and reach both ends", arguments: [1, 2, 3, 7, 1000])
    func bounded(_ upper: Int) {
        var random = SimRandom(seed: UInt64(upper))
        var seen = Set<Int>()
        for _ in 0..<20_000 {
            let value = random.int(0...upper)
            #expect((0...upper).contains(value))
            seen.insert(value)
        }
        #expect(seen.contains(0) && seen.contains(upper))
    }

    @Test("SimRandom: chance(p) is roughly p")
    func chance() {
        var random = SimRandom(seed: 3)
        let hits = (0..<100_000).filter { _ in random.chance(0.25) }.count
        #expect((23_500...26_500).contains(hits))
        #expect(!(0..<1000).contains { _ in random.chance(0) })
    }
}
