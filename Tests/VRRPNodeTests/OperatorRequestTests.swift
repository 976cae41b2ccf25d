import Testing
import VRRP
@testable import VRRPNode

@Suite("Operator requests: handover, cancel, approve")
struct OperatorRequestTests {
    @Test("handover on a Master: it steps aside with priority 0 and keeps its addresses")
    func handoverOnMaster() {
        var (router, at) = masterRouter()
        let (actions, result) = OperatorRequests.handover(&router, holdUntil: nil, holdSeconds: nil, now: at)
        #expect(result == .steppingAside(holdSeconds: nil))
        #expect(result.acted)
        #expect(actions == [.sendAdvertisement(priority: 0)])
        #expect(router.isReleasing && router.holdsAddresses)
        #expect(result.description == "stepping aside for the best Backup; not taking back until `vipd handover --cancel`")
        // A second request while releasing acts no more.
        let again = OperatorRequests.handover(&router, holdUntil: nil, holdSeconds: nil, now: at)
        #expect(again.result == .notMaster(.master) && again.actions.isEmpty)
    }

    @Test("handover elsewhere acts not; the message says why")
    func handoverOnBackup() {
        var router = Router(config: routerConfig())
        _ = router.handle(.start, now: t0)
        let (actions, result) = OperatorRequests.handover(&router, holdUntil: t0 + .seconds(5), holdSeconds: 5, now: t0)
        #expect(actions.isEmpty && !result.acted)
        #expect(result.description == "not Master here (Backup); nothing to hand over")
        #expect(!router.handoverHold)
        #expect(HandoverResult.steppingAside(holdSeconds: 5).description == "stepping aside for the best Backup; not taking back for 5.0 s")
    }

    @Test("cancel: only a hold or a handover in progress is cancelled")
    func cancel() {
        var (router, at) = masterRouter()
        let nothing = OperatorRequests.cancelHandover(&router, now: at)
        #expect(nothing.result == .nothingToCancel && nothing.actions.isEmpty)
        _ = OperatorRequests.handover(&router, holdUntil: nil, holdSeconds: nil, now: at)
        let (actions, result) = OperatorRequests.cancelHandover(&router, now: at + .milliseconds(10))
        #expect(result == .cancelled && result.acted)
        #expect(actions.first == .sendAdvertisement(priority: 100))
        #expect(!router.isReleasing && router.state == .master)
    }

    @Test("approve: a pending manual takeover happens; otherwise nothing")
    func approve() {
        var router = Router(config: routerConfig(takeover: .manual))
        _ = router.handle(.start, now: t0)
        let early = OperatorRequests.approve(&router, now: t0)
        #expect(early.result == .notPending(.backup) && early.actions.isEmpty && !early.result.acted)
        let due = router.nextDeadline!
        #expect(router.handle(.timeout, now: due) == [.takeoverPending(true)])
        let (actions, result) = OperatorRequests.approve(&router, now: due)
        #expect(result == .approved(now: .master) && result.acted)
        #expect(actions.contains(.addAddresses))
        #expect(result.description == "takeover approved (now Master)")
    }

    @Test("a request over several routers succeeds when any acted")
    func succeeded() {
        #expect(OperatorRequests.succeeded([HandoverResult.notMaster(.backup), .cancelled]))
        #expect(!OperatorRequests.succeeded([HandoverResult.notMaster(.backup), .nothingToCancel]))
        #expect(!OperatorRequests.succeeded([ApprovalResult]()))
    }
}
