import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// A Backup that is stopped (SIGSTOP: the extreme of a node starved of CPU) while the Master
    /// keeps advertising: the advertisements wait in its socket. docs/design.md, "Overload: drain
    /// before expiry": queued advertisements are read before an expired Master_Down_Timer counts,
    /// and count as heard when they are read. r1 (200) Master, r2 (100) Backup, 500 ms adverts:
    /// r2's Master_Down_Interval is 1.5 s + 156/256 × 0.5 s = 1.805 s.
    @Suite
    struct OverloadTests {
        static let masterDown: TimeInterval = 1.805

        private func twoRouters() throws -> Lab {
            let lab = try Lab(routers: 2)
            try lab.start(1, config: config(instanceYAML(priority: 200, interval: "500ms")))
            try lab.start(2, config: config(instanceYAML(priority: 100, interval: "500ms")))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            return lab
        }

        /// r2 stays Backup for `seconds` (never Master, no transition).
        private func staysBackup(_ lab: Lab, for seconds: TimeInterval, transitions: Int?) {
            let left = waitUntil(seconds) { lab.state(2, "web") != "Backup" }
            #expect(!left, "r2 left Backup: \(lab.state(2, "web") ?? "?")\n\(lab.logs())")
            #expect(lab.transitions(2, "web") == transitions)
            #expect(lab.holders(Lab.vip4) == [1])
        }

        @Test(arguments: [0.8, 6.0])
        func backupStoppedWhileTheMasterAdvertisesStaysBackup(stopSeconds: TimeInterval) throws {
            // Shorter than Master_Down_Interval, and more than three times longer: either way the
            // newest queued advertisement is at most one interval old when r2 resumes.
            let lab = try twoRouters()
            defer { lab.teardown() }
            let before = lab.transitions(2, "web")
            lab.signal(2, SIGSTOP)
            Thread.sleep(forTimeInterval: stopSeconds)
            lab.signal(2, SIGCONT)
            staysBackup(lab, for: 2 * Self.masterDown, transitions: before)
            #expect(lab.routerStatus(2, "web")?.master == lab.routerAddress(1))
        }

        @Test func backupStoppedWhileTheMasterDiesTakesOverOneMasterDownIntervalAfterResuming() throws {
            // The queue holds the dead Master's last advertisements, sent ~4 s before r2 resumes:
            // read at the resume, they count as heard then. r2 waits one Master_Down_Interval more
            // (the price of never taking over from a stale queue), then takes over.
            let lab = try twoRouters()
            defer { lab.teardown() }
            let before = lab.transitions(2, "web")
            lab.signal(2, SIGSTOP)
            Thread.sleep(forTimeInterval: 1)
            lab.crash(1)
            Thread.sleep(forTimeInterval: 4)
            lab.signal(2, SIGCONT)
            let resumed = Date()
            // Not before the Master_Down_Interval that the queued advertisements started (margin
            // for status polling).
            let early = waitUntil(Self.masterDown - 0.4) { lab.state(2, "web") == "Master" }
            #expect(!early, "r2 took over \(Date().timeIntervalSince(resumed)) s after resuming\n\(lab.logs())")
            #expect(lab.transitions(2, "web") == before)
            #expect(waitUntil(5) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            #expect(Date().timeIntervalSince(resumed) >= Self.masterDown - 0.4)
        }

        @Test func backupStoppedAfterTheMasterDiedTakesOverAtOnceOnResuming() throws {
            // The Master died before r2 stopped and r2 had read its last advertisement: nothing is
            // queued, the expiry stands, and r2 takes over right after resuming.
            let lab = try twoRouters()
            defer { lab.teardown() }
            lab.crash(1)
            Thread.sleep(forTimeInterval: 0.3)
            lab.signal(2, SIGSTOP)
            Thread.sleep(forTimeInterval: 4)
            lab.signal(2, SIGCONT)
            let resumed = Date()
            #expect(waitUntil(5) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            #expect(Date().timeIntervalSince(resumed) < Self.masterDown - 0.4,
                    "r2 took over \(Date().timeIntervalSince(resumed)) s after resuming\n\(lab.logs())")
        }
    }
}
