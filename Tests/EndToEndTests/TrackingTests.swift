import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// Tracked interfaces and scripts lower the Master's priority below the Backup's: failover, and
    /// back (preempt) when the tracked item recovers.
    @Suite
    struct TrackingTests {
        /// r1 (200, tracking with weight -60 → 140) and r2 (150).
        private func pair(track: String, setup: (Lab) throws -> Void = { _ in }) throws -> Lab {
            let lab = try Lab(routers: 2)
            try setup(lab)
            try lab.start(1, config: config(instanceYAML(priority: 200, extra: track)))
            try lab.start(2, config: config(instanceYAML(priority: 150)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            return lab
        }

        private func expectFailoverAndBack(_ lab: Lab, fail: () -> Void, recover: () -> Void) {
            fail()
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(1, "web") == "Backup" })
            #expect(lab.routerStatus(1, "web")?.effectivePriority == 140)
            recover()
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.routerStatus(1, "web")?.effectivePriority == 200)
        }

        @Test func trackedInterfaceDownFailsOverAndUpPreemptsBack() throws {
            let lab = try pair(track: "track: { interfaces: [ { name: eth1, weight: -60 } ] }") { $0.addTrackedLink(1) }
            defer { lab.teardown() }
            #expect(lab.status(1)?.instances.first?.trackers.first?.up == true)
            expectFailoverAndBack(lab, fail: { shell("ip -n \(lab.ns(1)) link set eth1 down") },
                                  recover: { shell("ip -n \(lab.ns(1)) link set eth1 up") })
        }

        /// A check script that fails (exit 1) or hangs (past its timeout) while a flag file exists.
        private func script(_ lab: Lab, hang: Bool) throws -> (path: String, flag: String) {
            let path = "\(lab.workdir)/check-\(hang ? "hang" : "fail").sh"
            let flag = "\(lab.workdir)/\(hang ? "hang" : "fail").flag"
            let body = hang ? "[ -e \(flag) ] && exec sleep 30\nexit 0\n" : "[ -e \(flag) ] && exit 1\nexit 0\n"
            try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
            #expect(chmod(path, 0o755) == 0)
            return (path, flag)
        }

        @Test(arguments: [false, true])
        func failingOrHangingScriptFailsOverAndRecoveryPreemptsBack(hang: Bool) throws {
            var check: (path: String, flag: String) = ("", "")
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            check = try script(lab, hang: hang)
            // Every 200 ms; a run still going after 150 ms is killed and counts as a failure.
            try lab.start(1, config: config(instanceYAML(priority: 200, extra: """
                track: { scripts: [ { run: "\(check.path)", interval: 200ms, timeout: 150ms, weight: -60 } ] }
                """)))
            try lab.start(2, config: config(instanceYAML(priority: 150)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            #expect(lab.status(1)?.instances.first?.trackers.first?.up == true)
            expectFailoverAndBack(lab, fail: { _ = FileManager.default.createFile(atPath: check.flag, contents: nil) },
                                  recover: { try? FileManager.default.removeItem(atPath: check.flag) })
            #expect(lab.isRunning(1))
        }
    }
}
