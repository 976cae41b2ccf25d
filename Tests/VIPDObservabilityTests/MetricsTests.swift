import Testing
import VRRP
@testable import VIPDObservability

@Suite("VIPDMetrics")
struct MetricsTests {
    private func labels(_ instance: String, _ family: AddressFamily, _ extra: [String: String] = [:]) -> [String: String] {
        ["vrrp_instance": instance, "family": family.rawValue].merging(extra) { _, new in new }
    }

    @Test func sequenceRendersExpectedValues() throws {
        let m = VIPDMetrics(node: "lb1", version: "1.2.3")
        m.setState(instance: "web", family: .ipv4, state: .initialize)
        m.setPriority(instance: "web", family: .ipv4, configured: 150, effective: 140)
        m.transition(instance: "web", family: .ipv4, to: .backup)
        m.transition(instance: "web", family: .ipv4, to: .master)
        for _ in 0..<3 { m.routerHandles(instance: "web", family: .ipv4).advertsSent.increment() }
        for _ in 0..<2 { m.routerHandles(instance: "web", family: .ipv4).advertsReceived.increment() }
        m.dropped(interface: "eth0", reason: "auth_mismatch")
        m.dropped(interface: "eth0", reason: DropReason.unknownVRID.label)
        m.dropped(interface: "eth0", reason: DropReason.unknownVRID.label)
        m.routerHandles(instance: "web", family: .ipv4).announcements.increment()
        m.addressRestored(instance: "web")
        m.hookFailure(instance: "web")
        m.hookFailure(instance: "web")
        for _ in 0..<3 { m.hookCoalesced(instance: "web") }
        m.trackerState(instance: "web", tracker: "nginx", up: false)
        m.setTakeoverPending(instance: "web", true)

        let e = try Exposition(m.render())
        #expect(e.value("vipd_build_info", ["version": "1.2.3", "node": "lb1"]) == 1)
        #expect((e.value("vipd_start_time_seconds") ?? 0) > 1_600_000_000)
        #expect(e.value("vipd_instance_state", labels("web", .ipv4, ["state": "master"])) == 1)
        for s in ["initialize", "backup", "fault"] {
            #expect(e.value("vipd_instance_state", labels("web", .ipv4, ["state": s])) == 0)
        }
        #expect(e.value("vipd_instance_priority", labels("web", .ipv4, ["kind": "configured"])) == 150)
        #expect(e.value("vipd_instance_priority", labels("web", .ipv4, ["kind": "effective"])) == 140)
        #expect(e.value("vipd_transitions_total", labels("web", .ipv4, ["to": "backup"])) == 1)
        #expect(e.value("vipd_transitions_total", labels("web", .ipv4, ["to": "master"])) == 1)
        #expect(e.value("vipd_transitions_total", labels("web", .ipv4, ["to": "fault"])) == 0)
        #expect(e.value("vipd_adverts_sent_total", labels("web", .ipv4)) == 3)
        #expect(e.value("vipd_adverts_received_total", labels("web", .ipv4)) == 2)
        #expect(e.value("vipd_packets_dropped_total", ["interface": "eth0", "reason": "auth_mismatch"]) == 1)
        #expect(e.value("vipd_packets_dropped_total", ["interface": "eth0", "reason": "unknown_vrid"]) == 2)
        #expect(e.value("vipd_announcements_total", labels("web", .ipv4)) == 1)
        #expect(e.value("vipd_addresses_restored_total", ["vrrp_instance": "web"]) == 1)
        #expect(e.value("vipd_notify_failures_total", ["vrrp_instance": "web"]) == 2)
        #expect(e.value("vipd_notify_coalesced_total", ["vrrp_instance": "web"]) == 3)
        #expect(e.value("vipd_tracker_up", ["vrrp_instance": "web", "tracker": "nginx"]) == 0)
        #expect(e.value("vipd_takeover_pending", ["vrrp_instance": "web"]) == 1)
        #expect((e.value("vipd_last_transition_timestamp_seconds", labels("web", .ipv4)) ?? 0) > 1_600_000_000)
    }

    @Test func typesHelpAndNamingConventions() throws {
        let m = VIPDMetrics(node: nil)
        m.setState(instance: "a", family: .ipv6, state: .backup)
        m.setPriority(instance: "a", family: .ipv6, configured: 100, effective: 100)
        m.transition(instance: "a", family: .ipv6, to: .master)
        m.dropped(interface: "eth1", reason: "own_packet")
        m.trackerState(instance: "a", tracker: "t", up: true)
        m.setTakeoverPending(instance: "a", false)
        let e = try Exposition(m.render())
        #expect(!e.types.isEmpty)
        for (name, type) in e.types {
            #expect(name.hasPrefix("vipd_"), "\(name)")
            #expect(e.help[name]?.isEmpty == false, "\(name) has no HELP")
            // Prometheus conventions: counters and only counters end in _total.
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name) is a \(type)")
        }
        #expect(e.value("vipd_build_info", ["version": vipdVersion]) == 1)
    }

    @Test func stateGaugeIsOneHotAfterEveryTransition() throws {
        let m = VIPDMetrics(node: nil)
        let path: [RouterState] = [.initialize, .backup, .master, .fault, .backup, .master, .initialize]
        for (i, state) in path.enumerated() {
            if i == 0 { m.setState(instance: "x", family: .ipv4, state: state) }
            else { m.transition(instance: "x", family: .ipv4, to: state) }
            let e = try Exposition(m.render())
            let states = e.samples("vipd_instance_state")
            #expect(states.count == 4)
            #expect(states.filter { $0.value == 1 }.map { $0.labels["state"] } == [state.rawValue])
        }
        let e = try Exposition(m.render())
        #expect(e.value("vipd_transitions_total", labels("x", .ipv4, ["to": "backup"])) == 2)
        #expect(e.value("vipd_transitions_total", labels("x", .ipv4, ["to": "initialize"])) == 1)
    }

    @Test func countersStartAtZeroWhenAnInstanceAppears() throws {
        let m = VIPDMetrics(node: nil)
        m.setState(instance: "new", family: .ipv4, state: .initialize)
        let e = try Exposition(m.render())
        #expect(e.value("vipd_adverts_sent_total", labels("new", .ipv4)) == 0)
        #expect(e.value("vipd_adverts_received_total", labels("new", .ipv4)) == 0)
        #expect(e.value("vipd_announcements_total", labels("new", .ipv4)) == 0)
        #expect(e.value("vipd_notify_failures_total", ["vrrp_instance": "new"]) == 0)
        #expect(e.value("vipd_notify_coalesced_total", ["vrrp_instance": "new"]) == 0)
        #expect(e.samples("vipd_transitions_total").count == 4)
    }

    @Test func removeInstanceDropsOnlyItsSeries() throws {
        let m = VIPDMetrics(node: nil)
        for name in ["keep", "gone"] {
            m.transition(instance: name, family: .ipv4, to: .master)
            m.routerHandles(instance: name, family: .ipv4).advertsSent.increment()
            m.trackerState(instance: name, tracker: "chk", up: true)
            m.setTakeoverPending(instance: name, false)
            m.setPriority(instance: name, family: .ipv4, configured: 100, effective: 90)
        }
        m.dropped(interface: "eth0", reason: "malformed_checksum")
        m.removeInstance("gone")
        let e = try Exposition(m.render())
        #expect(!e.samples.contains { $0.labels["vrrp_instance"] == "gone" })
        #expect(e.value("vipd_adverts_sent_total", labels("keep", .ipv4)) == 1)
        #expect(e.value("vipd_tracker_up", ["vrrp_instance": "keep", "tracker": "chk"]) == 1)
        #expect(e.value("vipd_packets_dropped_total", ["interface": "eth0", "reason": "malformed_checksum"]) == 1)

        // Coming back after a reload starts from zero.
        m.setState(instance: "gone", family: .ipv4, state: .backup)
        let again = try Exposition(m.render())
        #expect(again.value("vipd_adverts_sent_total", labels("gone", .ipv4)) == 0)
        #expect(again.value("vipd_instance_state", labels("gone", .ipv4, ["state": "backup"])) == 1)
        // Removing an unknown name is harmless.
        m.removeInstance("never-existed")
    }

    @Test func removingTheLastInstanceLeavesValidOutput() throws {
        let m = VIPDMetrics(node: nil)
        m.transition(instance: "only", family: .ipv6, to: .backup)
        m.removeInstance("only")
        let e = try Exposition(m.render())
        #expect(e.samples("vipd_instance_state").isEmpty)
        #expect(e.value("vipd_build_info", ["version": vipdVersion]) == 1)
    }

    @Test func instancesOfVIPDMetricsAreIndependent() throws {
        let a = VIPDMetrics(node: "a"), b = VIPDMetrics(node: "b")
        a.routerHandles(instance: "r", family: .ipv4).advertsSent.increment()
        a.routerHandles(instance: "r", family: .ipv4).advertsSent.increment()
        b.routerHandles(instance: "r", family: .ipv4).advertsSent.increment()
        #expect(try Exposition(a.render()).value("vipd_adverts_sent_total", labels("r", .ipv4)) == 2)
        #expect(try Exposition(b.render()).value("vipd_adverts_sent_total", labels("r", .ipv4)) == 1)
    }

    @Test(arguments: ["plain", "with \"quotes\"", #"back\slash"#, "new\nline", "ünï-cödé vr 1"])
    func labelValuesRoundTrip(_ name: String) throws {
        let m = VIPDMetrics(node: name)
        m.transition(instance: name, family: .ipv4, to: .master)
        let e = try Exposition(m.render())
        #expect(e.value("vipd_instance_state", labels(name, .ipv4, ["state": "master"])) == 1)
        #expect(e.value("vipd_build_info", ["version": vipdVersion, "node": name]) == 1)
    }

    @Test func concurrentRecordingAndRendering() async throws {
        let m = VIPDMetrics(node: nil)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for _ in 0..<500 { m.routerHandles(instance: "r\(t % 2)", family: .ipv4).advertsSent.increment() }
                }
            }
            group.addTask {
                for _ in 0..<50 { _ = m.render() }
            }
        }
        let e = try Exposition(m.render())
        #expect(e.value("vipd_adverts_sent_total", labels("r0", .ipv4)) == 1000)
        #expect(e.value("vipd_adverts_sent_total", labels("r1", .ipv4)) == 1000)
    }
}

@Suite("Exposition ordering")
struct ExpositionOrderingTests {
    @Test func renderIsSortedAndStable() throws {
        let m = VIPDMetrics(node: nil)
        for name in ["zeta", "alpha", "mid"] { m.transition(instance: name, family: .ipv4, to: .backup) }
        m.dropped(interface: "eth1", reason: "b")
        m.dropped(interface: "eth0", reason: "a")
        let text = m.render()
        #expect(text == m.render())
        let e = try Exposition(text)
        let familyOrder = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(familyOrder == familyOrder.sorted())
        #expect(e.samples("vipd_packets_dropped_total").map { $0.labels["interface"] } == ["eth0", "eth1"])
    }

    @Test func labelValuesAreEscaped() throws {
        let m = VIPDMetrics(node: "lb \"1\"")
        let tracker = "script a\"b\\c\nd"
        m.trackerState(instance: "web", tracker: tracker, up: true)
        let text = m.render()
        #expect(text.contains(#"tracker="script a\"b\\c\nd""#))
        let e = try Exposition(text)
        #expect(e.value("vipd_tracker_up", ["vrrp_instance": "web", "tracker": tracker]) == 1)
        #expect(e.value("vipd_build_info", ["version": vipdVersion, "node": "lb \"1\""]) == 1)
    }

    @Test func specialValuesAreSpelledAsTheFormatWants() {
        #expect(VIPDMetrics.formatted(.nan) == "NaN")
        #expect(VIPDMetrics.formatted(.infinity) == "+Inf")
        #expect(VIPDMetrics.formatted(-.infinity) == "-Inf")
        #expect(VIPDMetrics.formatted(150) == "150.0")
        #expect(VIPDMetrics.formatted(0.25) == "0.25")
    }

    @Test func removingAnInstanceKeepsOthersWhoseNameStartsTheSame() throws {
        let m = VIPDMetrics(node: nil)
        for name in ["we", "web", "web2"] {
            m.transition(instance: name, family: .ipv4, to: .master)
            m.trackerState(instance: name, tracker: "interface eth0", up: true)
        }
        m.removeInstance("web")
        let e = try Exposition(m.render())
        let left = Set(e.samples.compactMap { $0.labels["vrrp_instance"] })
        #expect(left == ["we", "web2"])
        #expect(e.value("vipd_tracker_up", ["vrrp_instance": "web2", "tracker": "interface eth0"]) == 1)
        #expect(e.value("vipd_transitions_total", ["vrrp_instance": "we", "family": "ipv4", "to": "master"]) == 1)
    }
}
