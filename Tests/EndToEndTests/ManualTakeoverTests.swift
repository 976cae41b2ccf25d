import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// `takeover: manual`: a Backup that would take over waits for `vipd approve`.
    @Suite
    struct ManualTakeoverTests {
        @Test func backupWaitsForApprovalThenTakesOver() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            try lab.start(2, config: config(instanceYAML(priority: 100, extra: "takeover: manual")))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.state(2, "web") == "Backup" })
            #expect(lab.routerStatus(2, "web")?.takeoverPending == false)
            // Approving with nothing pending is refused.
            #expect(lab.vipdCommand(2, "approve web").status != 0)
            lab.cutLink(1)
            #expect(waitUntil(5) { lab.routerStatus(2, "web")?.takeoverPending == true }, "\(lab.logs())")
            // Proving a non-event: nobody takes the VIP while the approval is pending.
            usleep(1_500_000)
            #expect(lab.state(2, "web") == "Backup")
            #expect(lab.holders(Lab.vip4).isEmpty)
            #expect(!lab.ping(Lab.vip4))
            let approve = lab.vipdCommand(2, "approve web")
            #expect(approve.status == 0, "\(approve.output)")
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.routerStatus(2, "web")?.takeoverPending == false })
        }
    }
}
