import Testing
import VRRP
@testable import VRRPNode

@Suite("Sync groups")
struct SyncGroupTests {
    let group = SyncGroup(name: "edge", members: ["a", "b", "owner"])

    @Test("the worst member penalty applies to every non-owner member")
    func worstPenalty() {
        let results = SyncGroupRules.apply([group], to: [
            TrackedInstance(name: "a", configuredPriority: 150, tracking: .priority(100)),  // -50
            TrackedInstance(name: "b", configuredPriority: 120, tracking: .priority(130)),  // +10
            TrackedInstance(name: "owner", configuredPriority: 255, tracking: .priority(255)),
            TrackedInstance(name: "alone", configuredPriority: 100, tracking: .priority(90)),
        ])
        #expect(results["a"] == .priority(100))
        #expect(results["b"] == .priority(70))
        #expect(results["owner"] == .priority(255))
        #expect(results["alone"] == .priority(90))
    }

    @Test("penalties clamp to 1...254; a member in Fault stays in Fault and adds no penalty")
    func clampAndFault() {
        let results = SyncGroupRules.apply([group], to: [
            TrackedInstance(name: "a", configuredPriority: 20, tracking: .priority(1)),
            TrackedInstance(name: "b", configuredPriority: 10, tracking: .fault),
        ])
        #expect(results["a"] == .priority(1))
        #expect(results["b"] == .fault)
        let raised = SyncGroupRules.apply([group], to: [
            TrackedInstance(name: "a", configuredPriority: 250, tracking: .priority(254)),
            TrackedInstance(name: "b", configuredPriority: 253, tracking: .priority(254)),
        ])
        #expect(raised["a"] == .priority(251))
        #expect(raised["b"] == .priority(254))
    }

    @Test("a member's own fault puts the others in the group fault, never itself")
    func faultPropagation() {
        let groupReason = FaultReason.syncGroup("edge").description
        let linkDown = FaultReason.linkDown(interface: "eth0").description
        #expect(SyncGroupRules.groupFault(group, faults: [(member: 1, faults: [linkDown]), (member: 2, faults: []), (member: 3, faults: [groupReason])])
                == [1: false, 2: true, 3: true])
        // Only the group's own fault left: it clears everywhere (no member faults by itself).
        #expect(SyncGroupRules.groupFault(group, faults: [(member: 1, faults: [groupReason]), (member: 2, faults: [groupReason])])
                == [1: false, 2: false])
    }
}

@Suite("Fault reasons")
struct FaultReasonTests {
    @Test("texts are the ones logs, status and notify hooks have always shown")
    func texts() {
        #expect(FaultReason.linkDown(interface: "eth0").description == "link eth0 down")
        #expect(FaultReason.interfaceGone(interface: "vrrp.7").description == "interface vrrp.7 gone")
        #expect(FaultReason.noAddress(.ipv4, interface: "eth0").description == "no IPv4 address on eth0")
        #expect(FaultReason.noAddress(.ipv6, interface: "eth0").description == "no IPv6 link-local address on eth0")
        #expect(FaultReason.trackedItemDown.description == "a tracked item with weight 0 is down")
        #expect(FaultReason.syncGroup("edge").description == "sync group edge: a member is in fault")
    }

    @Test("only faults of the link itself skip the farewell advertisement")
    func linkCannotCarry() {
        #expect(FaultReason.linkDown(interface: "eth0").input(active: true) == .fault(active: true, reason: "link eth0 down", linkDown: true))
        #expect(FaultReason.interfaceGone(interface: "eth0").linkCannotCarryPackets)
        #expect(!FaultReason.trackedItemDown.linkCannotCarryPackets)
        #expect(!FaultReason.syncGroup("g").linkCannotCarryPackets)
    }

    @Test("the core holds the fault set: change(in:) gives an input only when it differs")
    func changeInRouter() {
        var router = Router(config: routerConfig())
        let reason = FaultReason.noAddress(.ipv4, interface: "eth0")
        #expect(reason.change(in: router, active: false) == nil)
        let raise = reason.change(in: router, active: true)
        #expect(raise == reason.input(active: true))
        // Before start the core only records it; start then goes to Fault.
        #expect(router.handle(raise!, now: t0) == [])
        #expect(reason.isActive(in: router))
        #expect(reason.change(in: router, active: true) == nil)
        #expect(router.handle(.start, now: t0).last == .stateChanged(from: .initialize, to: .fault, reason: .fault("no IPv4 address on eth0")))
        _ = router.handle(reason.change(in: router, active: false)!, now: t0)
        #expect(router.state == .backup)
        #expect(!reason.isActive(in: router))
    }
}
