// Kernel tests of LinkMonitor: the probe prints events as JSON lines while the test changes things.
import Foundation
import Testing

func event(_ o: [String: Any]) -> String? { o["event"] as? String }
func eventLink(_ o: [String: Any]) -> [String: Any] { o["link"] as? [String: Any] ?? [:] }
func eventAddress(_ o: [String: Any]) -> [String: Any] { o["address"] as? [String: Any] ?? [:] }

extension NamespaceLab {
@Suite(.serialized) struct MonitorLabTests {
    @Test func seesCarrierLossAddressRemovalAndDeletion() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let a = try lab.namespace("a"), b = try lab.namespace("b")
        try lab.veth(a, "eth0", b, "eth0")
        try run(["ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "eth0"])
        let monitor = try lab.background(a, ["monitor", "--seconds", "20"])
        try #require(monitor.waitFor { $0["ready"] as? Bool == true }, "monitor did not start")

        // Carrier loss: the peer end goes down; our end stays admin-up.
        try run(["ip", "-n", b, "link", "set", "eth0", "down"])
        #expect(monitor.waitFor {
            event($0) == "linkChanged" && eventLink($0)["name"] as? String == "eth0"
                && eventLink($0)["carrier"] as? Bool == false && eventLink($0)["up"] as? Bool == true
        }, "no carrier-loss event")
        try run(["ip", "-n", b, "link", "set", "eth0", "up"])
        #expect(monitor.waitFor {
            event($0) == "linkChanged" && eventLink($0)["carrier"] as? Bool == true
        }, "no carrier-back event")

        // Someone else adds and removes an address.
        try run(["ip", "-n", a, "addr", "add", "192.0.2.100/24", "dev", "eth0"])
        #expect(monitor.waitFor { event($0) == "addressAdded" && eventAddress($0)["prefix"] as? String == "192.0.2.100/24" })
        try run(["ip", "-n", a, "addr", "del", "192.0.2.100/24", "dev", "eth0"])
        #expect(monitor.waitFor { event($0) == "addressRemoved" && eventAddress($0)["prefix"] as? String == "192.0.2.100/24" })

        // An interface appears and is deleted.
        try run(["ip", "-n", a, "link", "add", "x0", "type", "veth", "peer", "name", "x1"])
        #expect(monitor.waitFor { event($0) == "linkAppeared" && eventLink($0)["name"] as? String == "x0" })
        try run(["ip", "-n", a, "link", "del", "x0"])
        #expect(monitor.waitFor { event($0) == "linkRemoved" && $0["name"] as? String == "x0" })
        #expect(monitor.waitFor { event($0) == "linkRemoved" && $0["name"] as? String == "x1" })

        // Only changes: the carrier-loss event appeared once, not once per repeated notification.
        let carrierLoss = monitor.objects.filter {
            event($0) == "linkChanged" && eventLink($0)["name"] as? String == "eth0" && eventLink($0)["carrier"] as? Bool == false
        }
        #expect(carrierLoss.count == 1)
        #expect(!monitor.objects.contains { event($0) == "resynchronized" })
    }

    /// A tiny SO_RCVBUF and many changes while the monitor is not reading force ENOBUFS; after it
    /// reads, every change must be reported anyway (synthesized from a re-dump) plus `resynchronized`.
    @Test func overrunResynchronizes() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let a = try lab.namespace("a")
        try run(["ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"])
        try run(["ip", "-n", a, "link", "set", "eth0", "up"])
        let before = (1...10).map { "198.51.100.\($0)/32" }
        for p in before { try run(["ip", "-n", a, "addr", "add", p, "dev", "eth0"]) }

        let hold = NSTemporaryDirectory() + "\(lab.tag)-hold"
        defer { try? FileManager.default.removeItem(atPath: hold) }
        let monitor = try lab.background(a, ["monitor", "--rcvbuf", "1", "--hold", hold, "--seconds", "20"])
        try #require(monitor.waitFor { $0["ready"] as? Bool == true }, "monitor did not start")

        // While the monitor is not reading: remove the 10, add 200 others, create a link.
        let added = (1...200).map { "203.0.113.\($0)/32" }
        let batch = before.map { "addr del \($0) dev eth0" } + added.map { "addr add \($0) dev eth0" }
            + ["link add y0 type veth peer name y1"]
        let batchFile = NSTemporaryDirectory() + "\(lab.tag)-batch"
        try batch.joined(separator: "\n").write(toFile: batchFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: batchFile) }
        try run(["ip", "-n", a, "-batch", batchFile])
        _ = FileManager.default.createFile(atPath: hold, contents: nil)

        #expect(monitor.waitFor(timeout: 10) { event($0) == "resynchronized" }, "no overrun was detected")
        let complete = waitUntil(timeout: 10) {
            let events = monitor.objects
            let addedSeen = Set(events.filter { event($0) == "addressAdded" }.compactMap { eventAddress($0)["prefix"] as? String })
            let removedSeen = Set(events.filter { event($0) == "addressRemoved" }.compactMap { eventAddress($0)["prefix"] as? String })
            let linksSeen = Set(events.filter { event($0) == "linkAppeared" }.compactMap { eventLink($0)["name"] as? String })
            return addedSeen.isSuperset(of: added) && removedSeen.isSuperset(of: before) && linksSeen.isSuperset(of: ["y0", "y1"])
        }
        #expect(complete, "events were lost across the overrun")
    }
}
}
