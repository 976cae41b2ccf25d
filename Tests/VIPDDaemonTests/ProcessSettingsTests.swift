import Foundation
import Testing
@testable import VIPDDaemon
import VIPDConfig

/// Records the scheduling, memory-lock and resource-limit calls ProcessSettings makes, answering
/// `errno` to them (`limitAnswer` to setrlimit).
private final class CallRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    let answer: Int32
    let limitAnswer: Int32
    init(answer: Int32 = 0, limitAnswer: Int32? = nil) { self.answer = answer; self.limitAnswer = limitAnswer ?? answer }

    var log: [String] { lock.withLock { recorded } }
    private func note(_ call: String) { lock.withLock { recorded.append(call) } }

    var calls: ProcessSettingsCalls {
        ProcessSettingsCalls(
            setScheduler: { policy, priority in
                self.note("sched_setscheduler(\(policy == SCHED_RR ? "RR" : policy == SCHED_OTHER ? "OTHER" : "\(policy)"), \(priority))")
                return self.answer
            },
            lockAll: { self.note("mlockall"); return self.answer },
            unlockAll: { self.note("munlockall") },
            limitRealtimeCPU: { soft, hard in
                self.note("setrlimit(RTTIME, \(soft), \(hard))")
                return self.limitAnswer
            })
    }
}

private func settings(node: String? = nil, realtimePriority: Int? = nil, lockMemory: Bool = false,
                      maxAutoPriority: Int? = nil, realtimeCPULimit: Duration? = nil) -> VIPDConfiguration {
    var config = VIPDConfiguration(node: node, realtimePriority: realtimePriority, lockMemory: lockMemory, instances: [])
    config.maxAutoPriority = maxAutoPriority
    config.realtimeCPULimit = realtimeCPULimit
    return config
}

/// RLIMIT_RTTIME for the default realtime_cpu_limit (1 s): soft 1 s, hard 2 s, in microseconds.
private let defaultLimit = "setrlimit(RTTIME, 1000000, 2000000)"

@Suite struct ProcessSettingsTests {
    // The shipped unit's SystemCallFilter=~@resources answers EPERM to sched_setscheduler: a daemon
    // with nothing configured must not make the call (it used to, and exited under systemd).
    @Test func nothingConfiguredMakesNoCallAtStart() throws {
        let recorder = CallRecorder(answer: EPERM)
        try ProcessSettings.apply(settings(), calls: recorder.calls)
        #expect(recorder.log == [])
    }

    @Test func nothingConfiguredBeforeOrAfterReloadMakesNoCall() throws {
        let recorder = CallRecorder(answer: EPERM)
        try ProcessSettings.apply(settings(node: "b"), previous: settings(node: "a"), calls: recorder.calls)
        #expect(recorder.log == [])
    }

    @Test func configuredSettingsAreApplied() throws {
        let recorder = CallRecorder()
        try ProcessSettings.apply(settings(realtimePriority: 10, lockMemory: true), calls: recorder.calls)
        #expect(recorder.log == [defaultLimit, "sched_setscheduler(RR, 10)", "mlockall"])
    }

    @Test func settingsRemovedOnReloadAreUndone() throws {
        let recorder = CallRecorder()
        try ProcessSettings.apply(settings(), previous: settings(realtimePriority: 10, lockMemory: true),
                                  calls: recorder.calls)
        #expect(recorder.log == ["sched_setscheduler(OTHER, 0)", "munlockall"])
    }

    @Test func onlyTheChangedSettingIsTouchedOnReload() throws {
        let recorder = CallRecorder()
        try ProcessSettings.apply(settings(lockMemory: true), previous: settings(), calls: recorder.calls)
        #expect(recorder.log == ["mlockall"])
    }

    // max_auto_priority raises the priority only when the host is already overloaded: whether it
    // can is tried at start (SCHED_RR 1, then back), so a missing capability is refused then.
    @Test func maxAutoPriorityTriesRealTimeOnceAtStart() throws {
        let recorder = CallRecorder()
        try ProcessSettings.apply(settings(maxAutoPriority: 20), calls: recorder.calls)
        #expect(recorder.log == ["sched_setscheduler(RR, 1)", "sched_setscheduler(OTHER, 0)"])
        // With realtime_priority set, setting it is the proof; no second try.
        let withBase = CallRecorder()
        try ProcessSettings.apply(settings(realtimePriority: 5, maxAutoPriority: 20), calls: withBase.calls)
        #expect(withBase.log == [defaultLimit, "sched_setscheduler(RR, 5)"])
        // On reload with max_auto_priority already on, no new try.
        let reload = CallRecorder()
        try ProcessSettings.apply(settings(node: "b", maxAutoPriority: 30), previous: settings(maxAutoPriority: 20),
                                  calls: reload.calls)
        #expect(reload.log == [])
    }

    @Test func maxAutoPriorityWithoutCapSysNiceIsRefused() {
        let recorder = CallRecorder(answer: EPERM)
        #expect {
            try ProcessSettings.apply(settings(maxAutoPriority: 20), calls: recorder.calls)
        } throws: { error in
            "\(error)".contains("max_auto_priority 20: sched_setscheduler") && "\(error)".contains("needs CAP_SYS_NICE")
        }
    }

    // A reload puts back the configured scheduling: a daemon max_auto_priority raised returns to
    // normal scheduling (or to realtime_priority) when the setting changes.
    @Test func reloadUndoesAnAutomaticRaise() throws {
        let recorder = CallRecorder()
        try ProcessSettings.apply(settings(), previous: settings(maxAutoPriority: 20), raisedTo: 3, calls: recorder.calls)
        #expect(recorder.log == ["sched_setscheduler(OTHER, 0)"])
        let toBase = CallRecorder()
        try ProcessSettings.apply(settings(realtimePriority: 2), previous: settings(realtimePriority: 2, maxAutoPriority: 20),
                                  raisedTo: 4, calls: toBase.calls)
        #expect(toBase.log == [defaultLimit, "sched_setscheduler(RR, 2)"])
    }

    // realtime_cpu_limit: RLIMIT_RTTIME is set just before the loop goes to SCHED_RR, and only then.
    @Test func theCPULimitIsSetBeforeRealTimeSchedulingAndOnlyThen() throws {
        let recorder = CallRecorder()
        let problems = try ProcessSettings.apply(settings(realtimePriority: 10, realtimeCPULimit: .milliseconds(200)), calls: recorder.calls)
        #expect(recorder.log == ["setrlimit(RTTIME, 200000, 1200000)", "sched_setscheduler(RR, 10)"])
        #expect(problems == [])
        // Not real-time: no limit, whatever else is configured. max_auto_priority's try at start
        // is over at once; the limit comes with its first raise (DaemonAutoPriority).
        for config in [settings(realtimeCPULimit: .seconds(2)), settings(lockMemory: true, realtimeCPULimit: .seconds(2)),
                       settings(maxAutoPriority: 20, realtimeCPULimit: .seconds(2))] {
            let none = CallRecorder()
            try ProcessSettings.apply(config, calls: none.calls)
            #expect(!none.log.contains { $0.hasPrefix("setrlimit") }, "\(none.log)")
        }
        // A reload that leaves real-time scheduling sets no limit; one that changes it sets the new one.
        let off = CallRecorder()
        try ProcessSettings.apply(settings(), previous: settings(realtimePriority: 10), calls: off.calls)
        #expect(off.log == ["sched_setscheduler(OTHER, 0)"])
        let changed = CallRecorder()
        try ProcessSettings.apply(settings(realtimePriority: 10, realtimeCPULimit: .seconds(3)),
                                  previous: settings(realtimePriority: 10), calls: changed.calls)
        #expect(changed.log == ["setrlimit(RTTIME, 3000000, 4000000)", "sched_setscheduler(RR, 10)"])
    }

    // Without the limit the loop runs real-time as it did before the key existed: an error to log,
    // not a refusal to start.
    @Test func aCPULimitThatCannotBeSetIsReportedNotFatal() throws {
        let recorder = CallRecorder(answer: 0, limitAnswer: EPERM)
        let problems = try ProcessSettings.apply(settings(realtimePriority: 10, realtimeCPULimit: .seconds(5)), calls: recorder.calls)
        #expect(recorder.log == ["setrlimit(RTTIME, 5000000, 6000000)", "sched_setscheduler(RR, 10)"])
        #expect(problems.count == 1, "\(problems)")
        let problem = problems.first ?? ""
        #expect(problem.hasPrefix("realtime_cpu_limit 5s: setrlimit(RLIMIT_RTTIME): Operation not permitted"), "\(problem)")
        #expect(problem.contains("CAP_SYS_RESOURCE") && problem.contains("SystemCallFilter="), "\(problem)")
        #expect(problem.contains("without this guard"), "\(problem)")
    }

    @Test func refusedPriorityNamesTheMissingCapability() {
        let recorder = CallRecorder(answer: EPERM)
        #expect {
            try ProcessSettings.apply(settings(realtimePriority: 10), calls: recorder.calls)
        } throws: { error in
            "\(error)".contains("realtime_priority 10: sched_setscheduler") && "\(error)".contains("needs CAP_SYS_NICE")
        }
    }
}
