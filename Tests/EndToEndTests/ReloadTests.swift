import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Configuration reload (SIGHUP, `vipd reload`): no churn when nothing changed, a bad file keeps
    /// the running configuration, a changed priority takes effect without a restart.
    @Suite
    struct ReloadTests {
        private func pair() throws -> Lab {
            let lab = try Lab(routers: 2)
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            return lab
        }

        @Test func sighupWithAnUnchangedConfigChangesNothing() throws {
            let lab = try pair()
            defer { lab.teardown() }
            let before = try #require(lab.routerStatus(1, "web"))
            let monitorPath = "\(lab.workdir)/monitor.out"
            _ = try lab.background(lab.ns(1), ["ip", "monitor", "address"], output: monitorPath)
            // The monitor is listening once it reports a marker address added on lo.
            let marker = "198.51.100.7"
            let monitorOutput = { (try? String(contentsOfFile: monitorPath, encoding: .utf8)) ?? "" }
            #expect(waitUntil(5) {
                shell("ip -n \(lab.ns(1)) addr replace \(marker)/32 dev lo")
                return monitorOutput().contains(marker)
            }, "ip monitor shows nothing")
            let reloads = lab.log(1).components(separatedBy: "reloaded:").count
            lab.signal(1, SIGHUP)
            #expect(waitUntil(5) { lab.log(1).components(separatedBy: "reloaded:").count > reloads })
            #expect(lab.log(1).contains("reloaded: nothing changed"), "\(lab.log(1))")
            // Proving a non-event: give a late address change a few advert intervals to show up.
            usleep(500_000)
            let after = try #require(lab.routerStatus(1, "web"))
            #expect(after.state == "Master")
            #expect(after.counters.transitions == before.counters.transitions)
            #expect(after.lastTransition?.from == before.lastTransition?.from && after.lastTransition?.to == before.lastTransition?.to
                    && after.lastTransition?.reason == before.lastTransition?.reason)
            #expect((after.lastTransition?.secondsAgo ?? 0) > (before.lastTransition?.secondsAgo ?? 0))
            #expect(!monitorOutput().contains(Lab.vip4), "address churn during reload:\n\(monitorOutput())")
            #expect(lab.transitions(2, "web") == 1)
            lab.expectSoleHolder(Lab.vip4, 1)
        }

        @Test func badConfigIsRefusedWithItsLocationAndTheOldOneKeepsRunning() throws {
            let lab = try pair()
            defer { lab.teardown() }
            let before = try #require(lab.routerStatus(1, "web"))
            // A YAML syntax error on line 5 of the file (after control_socket and node).
            try lab.rewriteConfig(1, config: "instances:\n  - name: web\n    interface: [eth0\n")
            let reload = lab.vipdCommand(1, "reload")
            #expect(reload.status != 0)
            #expect(reload.output.contains("\(lab.configPath(1)):"), "no file:line in: \(reload.output)")
            let located = reload.output.range(of: #"\.yaml:\d+"#, options: .regularExpression) != nil
            #expect(located, "no line number in: \(reload.output)")
            #expect(lab.isRunning(1))
            let after = try #require(lab.routerStatus(1, "web"))
            #expect(after.state == "Master" && after.configuredPriority == 200)
            #expect(after.counters.transitions == before.counters.transitions)
            lab.expectSoleHolder(Lab.vip4, 1)
        }

        @Test func changedPriorityTakesEffectWithoutRestart() throws {
            let lab = try pair()
            defer { lab.teardown() }
            let pid = lab.status(2)?.pid
            try lab.rewriteConfig(2, config: config(instanceYAML(priority: 250)))
            let reload = lab.vipdCommand(2, "reload")
            #expect(reload.status == 0, "\(reload.output)")
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(1, "web") == "Backup" })
            #expect(lab.routerStatus(2, "web")?.configuredPriority == 250)
            #expect(lab.status(2)?.pid == pid, "vipd restarted")
            // And back down by SIGHUP.
            try lab.rewriteConfig(2, config: config(instanceYAML(priority: 100)))
            lab.signal(2, SIGHUP)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.routerStatus(2, "web")?.configuredPriority == 100 })
        }
    }
}
