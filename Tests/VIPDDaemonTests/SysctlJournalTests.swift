import Testing
@testable import VIPDDaemon
import VIPDLinux

/// A /proc/sys of its own: a table, with keys that refuse writes.
private final class FakeSysctls {
    var values: [String: String]
    var readOnly: Set<String> = []
    var writes: [String] = []
    struct Refused: Error {}

    init(_ values: [String: String]) { self.values = values }

    func journal() -> SysctlJournal {
        SysctlJournal(
            read: { [unowned self] in
                guard let value = self.values[$0.joined(separator: ".")] else { throw Refused() }
                return value
            },
            write: { [unowned self] components, value in
                let key = components.joined(separator: ".")
                guard self.values[key] != nil, !self.readOnly.contains(key) else { throw Refused() }
                self.values[key] = value
                self.writes.append("\(key)=\(value)")
            })
    }
}

private func setting(_ key: String, _ value: String) -> SysctlSetting {
    SysctlSetting(key.split(separator: ".").map(String.init), value, reason: "test")
}

@Suite struct SysctlJournalTests {
    @Test func restoreAllPutsBackEveryValueVipdChanged() throws {
        let kernel = FakeSysctls(["a.accept_local": "0", "b.rp_filter": "1", "c.arp_ignore": "0"])
        let journal = kernel.journal()
        try journal.apply([setting("a.accept_local", "1")])
        try journal.apply([setting("b.rp_filter", "0"), setting("c.arp_ignore", "1")])
        #expect(kernel.values == ["a.accept_local": "1", "b.rp_filter": "0", "c.arp_ignore": "1"])
        #expect(journal.restoreAll().isEmpty)
        #expect(kernel.values == ["a.accept_local": "0", "b.rp_filter": "1", "c.arp_ignore": "0"])
        #expect(journal.originals.isEmpty)
    }

    @Test func aKeyChangedTwiceGetsItsFirstValueBack() throws {
        let kernel = FakeSysctls(["x.rp_filter": "0"])
        let journal = kernel.journal()
        try journal.apply([setting("x.rp_filter", "2")])
        try journal.apply([setting("x.rp_filter", "1")])
        #expect(journal.originals.map(\.value) == ["0"])
        journal.restoreAll()
        #expect(kernel.values["x.rp_filter"] == "0")
    }

    @Test func aValueAlreadyInPlaceIsNotRewrittenButStillRecorded() throws {
        let kernel = FakeSysctls(["a.accept_local": "1"])
        let journal = kernel.journal()
        try journal.apply([setting("a.accept_local", "1")])
        #expect(kernel.writes.isEmpty)
        journal.restoreAll()
        #expect(kernel.values["a.accept_local"] == "1")
    }

    @Test func aFailedBatchUndoesItsOwnChangesAndKeepsEarlierOnes() throws {
        let kernel = FakeSysctls(["a.x": "0", "b.x": "0", "c.x": "0"])
        kernel.readOnly = ["c.x"]
        let journal = kernel.journal()
        try journal.apply([setting("a.x", "1")])
        #expect(throws: FakeSysctls.Refused.self) {
            try journal.apply([setting("b.x", "1"), setting("c.x", "1")])
        }
        #expect(kernel.values == ["a.x": "1", "b.x": "0", "c.x": "0"])
        #expect(journal.originals.map(\.key) == ["a.x"])
    }

    @Test func restoreSkipsAKeyThatIsGoneAndRestoresTheRest() throws {
        let kernel = FakeSysctls(["parent.arp_ignore": "0", "vmac.arp_ignore": "0"])
        let journal = kernel.journal()
        try journal.apply([setting("parent.arp_ignore", "1"), setting("vmac.arp_ignore", "1")])
        kernel.values.removeValue(forKey: "vmac.arp_ignore")   // the macvlan was deleted
        let failures = journal.restoreAll()
        #expect(failures.map(\.0.key) == ["vmac.arp_ignore"])
        #expect(kernel.values == ["parent.arp_ignore": "0"])
    }
}
