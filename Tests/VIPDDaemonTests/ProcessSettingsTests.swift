import Foundation
import Testing
@testable import VIPDDaemon
import VIPDConfig

/// Records the scheduling and memory-lock calls ProcessSettings makes, answering `errno` to them.
private final class CallRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    let answer: Int32
    init(answer: Int32 = 0) { self.answer = answer }

    var log: [String] { lock.withLock { recorded } }
    private func note(_ call: String) { lock.withLock { recorded.append(call) } }

    var calls: ProcessSettingsCalls {
        ProcessSettingsCalls(
            setScheduler: { policy, priority in
                self.note("sched_setscheduler(\(policy == SCHED_RR ? "RR" : policy == SCHED_OTHER ? "OTHER" : "\(policy)"), \(priority))")
                return self.answer
            },
            lockAll: { self.note("mlockall"); return self.answer },
            unlockAll: { self.note("munlockall") })
    }
}

private func settings(node: String? = nil, realtimePriority: Int? = nil, lockMemory: Bool = false,
                      maxAutoPriority: Int? = nil) -> VIPDConfiguration {
    var config = VIPDConfiguration(node: node, realtimePriority: realtimePriority, lockMemory: lockMemory, instances: [])
    config.maxAutoPriority = maxAutoPriority
    return config
}

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
        #expect(recorder.log == ["sched_setscheduler(RR, 10)", "mlockall"])
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
        #expect(withBase.log == ["sched_setscheduler(RR, 5)"])
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
        #expect(toBase.log == ["sched_setscheduler(RR, 2)"])
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
