import Testing
import VRRP
@testable import VRRPNode

/// One result recorded (a mutating call cannot sit inside `#expect`).
private func record(_ counter: inout RiseFallCounter, _ succeeded: Bool) -> Bool {
    counter.record(succeeded: succeeded)
}

@Suite("Tracking: weights, clamp, weight 0 = fault, rise/fall")
struct TrackingTests {
    func item(_ weight: Int, up: Bool, script: Bool = false) -> TrackedItem {
        TrackedItem(kind: script ? .script("script 1 (true)") : .interface("eth1"), weight: weight, up: up)
    }

    @Test("keepalived semantics: a negative weight counts while down, a positive one while up")
    func weights() {
        #expect(Tracking.result(configured: 100, items: []) == .priority(100))
        #expect(Tracking.result(configured: 100, items: [item(-30, up: false)]) == .priority(70))
        #expect(Tracking.result(configured: 100, items: [item(-30, up: true)]) == .priority(100))
        #expect(Tracking.result(configured: 100, items: [item(20, up: true)]) == .priority(120))
        #expect(Tracking.result(configured: 100, items: [item(20, up: false)]) == .priority(100))
        #expect(Tracking.result(configured: 100, items: [item(20, up: true), item(-50, up: false, script: true)]) == .priority(70))
    }

    @Test("weight 0 down is Fault, whatever else; up it changes nothing")
    func weightZero() {
        #expect(Tracking.result(configured: 100, items: [item(0, up: false), item(50, up: true)]) == .fault)
        #expect(Tracking.result(configured: 255, items: [item(0, up: false)]) == .fault)
        #expect(Tracking.result(configured: 100, items: [item(0, up: true)]) == .priority(100))
        #expect(TrackingResult.fault.priority == nil)
    }

    @Test("property: any configured priority and weights give 1...254 (255 for the owner), never 0")
    func clampProperty() {
        let weights = [-300, -254, -100, -1, 1, 60, 154, 253, 400]
        for configured in 1...255 {
            for (i, w1) in weights.enumerated() {
                for w2 in weights {
                    let items = [item(w1, up: i % 2 == 0), item(w2, up: configured % 2 == 0, script: true)]
                    let result = Tracking.result(configured: UInt8(configured), items: items)
                    let raw = configured + items.reduce(0) { $0 + $1.priorityOffset }
                    if configured == 255 {
                        #expect(result == .priority(255))
                    } else {
                        #expect(result == .priority(UInt8(min(max(raw, 1), 254))), "\(configured) \(items)")
                    }
                }
            }
        }
    }

    @Test("the one clamp: Router.clampBackup")
    func clamp() {
        #expect(Router.clampBackup(-5) == 1)
        #expect(Router.clampBackup(0) == 1)
        #expect(Router.clampBackup(1) == 1)
        #expect(Router.clampBackup(254) == 254)
        #expect(Router.clampBackup(255) == 254)
        #expect(Router.clampBackup(.max) == 254)
    }

    @Test("names and kinds come from the item, not from its text")
    func kinds() {
        #expect(item(1, up: true).description == "interface eth1")
        #expect(item(1, up: true).kind.label == "interface")
        // A script whose name starts with "interface" is still a script.
        let odd = TrackedItem(kind: .script("interface-check"), weight: 1, up: true)
        #expect(odd.kind.label == "script")
        #expect(odd.description == "interface-check")
    }

    @Test("rise/fall: fall failures in a row go down, rise successes in a row come back")
    func riseFall() {
        var counter = RiseFallCounter(rise: 2, fall: 3)
        #expect(counter.up)
        #expect(!record(&counter, false))
        #expect(!record(&counter, false))
        #expect(!record(&counter, true))   // the run of failures is broken
        #expect(!record(&counter, false))
        #expect(!record(&counter, false))
        #expect(record(&counter, false))   // third in a row
        #expect(!counter.up)
        #expect(!record(&counter, false))  // already down: no change reported
        #expect(!record(&counter, true))
        #expect(record(&counter, true))
        #expect(counter.up)
    }

    @Test("rise/fall below 1 count as 1")
    func minimumCounts() {
        var counter = RiseFallCounter(rise: 0, fall: -2)
        #expect(counter.rise == 1 && counter.fall == 1)
        #expect(record(&counter, false))
        #expect(record(&counter, true))
    }

    @Test("property: up changes exactly after rise (fall) equal results in a row", arguments: [(1, 1), (1, 3), (3, 1), (2, 5), (4, 4)])
    func riseFallProperty(rise: Int, fall: Int) {
        var counter = RiseFallCounter(rise: rise, fall: fall)
        var up = true, run = 0, lastSucceeded: Bool?
        for i in 0..<5000 {
            let succeeded = mixed(i, salt: UInt64(rise * 10 + fall)) % 3 != 0
            run = lastSucceeded == succeeded ? run + 1 : 1
            lastSucceeded = succeeded
            let expectChange = succeeded ? (!up && run >= rise) : (up && run >= fall)
            if expectChange { up.toggle() }
            #expect(record(&counter, succeeded) == expectChange, "step \(i)")
            #expect(counter.up == up)
        }
    }
}
