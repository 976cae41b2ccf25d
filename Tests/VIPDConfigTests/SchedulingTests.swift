import Testing
@testable import VIPDConfig

@Suite struct SchedulingTests {
    private let instance = """
        instances:
          - name: web
            interface: eth0
            vrid: 51
            addresses: [192.0.2.100/24]

        """

    @Test func offByDefault() throws {
        let config = try parseResult(instance).get()
        #expect(config.realtimePriority == nil)
        #expect(config.lockMemory == false)
        #expect(config.renderYAML().contains("realtime_priority: 0\nmax_auto_priority: 0\nlock_memory: false\n"))
    }

    @Test func realtimePriorityAndLockMemoryParseAndRender() throws {
        let config = try parseResult("realtime_priority: 50\nlock_memory: true\n" + instance).get()
        #expect(config.realtimePriority == 50)
        #expect(config.lockMemory)
        #expect(try parseResult(config.renderYAML()).get() == config)
        // 0 is "off", as in keepalived.
        #expect(try parseResult("realtime_priority: 0\n" + instance).get().realtimePriority == nil)
    }

    @Test func maxAutoPriorityIsOffByDefaultAndParses() throws {
        let off = try parseResult(instance).get()
        #expect(off.maxAutoPriority == nil && off.minAutoPriorityDelay == nil)
        #expect(off.renderYAML().contains("realtime_priority: 0\nmax_auto_priority: 0\nlock_memory: false\n"))
        let on = try parseResult("max_auto_priority: 20\nmin_auto_priority_delay: 3ms\n" + instance).get()
        #expect(on.maxAutoPriority == 20)
        #expect(on.minAutoPriorityDelay == .milliseconds(3))
        #expect(on.effectiveMinAutoPriorityDelay == .milliseconds(3))
        #expect(try parseResult(on.renderYAML()).get() == on)
        #expect(try parseResult("max_auto_priority: 0\n" + instance).get().maxAutoPriority == nil)
    }

    /// Half the shortest advert interval, at most 1 s (keepalived's fixed default), at least 2 ms.
    @Test(arguments: [("10ms", 5), ("100ms", 50), ("1s", 500), ("3s", 1000)])
    func minAutoPriorityDelayDefaultFollowsTheShortestInterval(_ interval: String, _ expectedMilliseconds: Int) throws {
        let text = """
            instances:
              - name: slow
                interface: eth0
                vrid: 1
                advert_interval: 5s
                addresses: [192.0.2.1/24]
              - name: other
                interface: eth0
                vrid: 2
                advert_interval: \(interval)
                addresses: [192.0.2.2/24]

            """
        let config = try parseResult(text).get()
        #expect(config.effectiveMinAutoPriorityDelay == .milliseconds(Int64(expectedMilliseconds)))
    }

    @Test(arguments: ["max_auto_priority: 100", "max_auto_priority: -1", "min_auto_priority_delay: 1ms",
                      "min_auto_priority_delay: 11s", "min_auto_priority_delay: 5"])
    func autoPriorityRefusedWithPosition(_ line: String) {
        guard case .failure(let error) = parseResult(line + "\n" + instance) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.line == 1, "\(error)")
        #expect("\(error)".contains(String(line.prefix(while: { $0 != ":" }))), "\(error)")
    }

    @Test func autoPrioritySettingsThatDoNothingWarn() throws {
        let lonely = try warningsOf("min_auto_priority_delay: 5ms\n" + instance)
        #expect(lonely.count == 1 && lonely[0].line == 1, "\(lonely)")
        #expect(lonely.first?.message.contains("without max_auto_priority") == true, "\(lonely)")
        let below = try warningsOf("realtime_priority: 20\nmax_auto_priority: 10\n" + instance)
        #expect(below.count == 1 && below[0].line == 2, "\(below)")
        #expect(below.first?.message.contains("not above realtime_priority 20") == true, "\(below)")
        #expect(try warningsOf("realtime_priority: 5\nmax_auto_priority: 10\n" + instance).isEmpty)
    }

    @Test func realtimeCPULimitDefaultsToOneSecondAndParses() throws {
        let unset = try parseResult("realtime_priority: 10\n" + instance).get()
        #expect(unset.realtimeCPULimit == nil)
        #expect(unset.effectiveRealtimeCPULimit == .seconds(1))
        #expect(!unset.renderYAML().contains("realtime_cpu_limit"), "rendered only when set")
        for (text, value, rendered) in [("10ms", Duration.milliseconds(10), "10ms"), ("200ms", .milliseconds(200), "200ms"),
                                        ("1.5s", .milliseconds(1500), "1500ms"), ("60s", .seconds(60), "1m")] {
            let config = try parseResult("realtime_priority: 10\nrealtime_cpu_limit: \(text)\n" + instance).get()
            #expect(config.realtimeCPULimit == value, "\(text)")
            #expect(config.effectiveRealtimeCPULimit == value, "\(text)")
            #expect(config.renderYAML().contains("min_auto_priority_delay") == false)
            #expect(config.renderYAML().contains("max_auto_priority: 0\nrealtime_cpu_limit: \(rendered)\nlock_memory:"), "\(config.renderYAML())")
            #expect(try parseResult(config.renderYAML()).get() == config, "\(text) round-trips")
        }
        let auto = try parseResult("max_auto_priority: 5\nrealtime_cpu_limit: 300ms\n" + instance).get()
        #expect(auto.realtimeCPULimit == .milliseconds(300))
        #expect(try warningsOf("max_auto_priority: 5\nrealtime_cpu_limit: 300ms\n" + instance).isEmpty)
        #expect(try warningsOf("realtime_priority: 5\nrealtime_cpu_limit: 300ms\n" + instance).isEmpty)
    }

    @Test(arguments: ["realtime_cpu_limit: 9ms", "realtime_cpu_limit: 61s", "realtime_cpu_limit: 0ms",
                      "realtime_cpu_limit: 10000", "realtime_cpu_limit: soon", "realtime_cpu_limit: -1s"])
    func realtimeCPULimitRefusedWithPosition(_ line: String) {
        guard case .failure(let error) = parseResult("realtime_priority: 10\n" + line + "\n" + instance) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.line == 2, "\(error)")
        #expect(error.column == 21, "\(error)")
        #expect("\(error)".hasPrefix("test.yaml:2:21:"), "\(error)")
        #expect("\(error)".contains("realtime_cpu_limit"), "\(error)")
    }

    @Test func realtimeCPULimitWithoutRealtimeSchedulingWarns() throws {
        let lonely = try warningsOf("node: a\nrealtime_cpu_limit: 2s\n" + instance)
        #expect(lonely.count == 1 && lonely[0].line == 2, "\(lonely)")
        #expect(lonely.first?.message.contains("realtime_cpu_limit does nothing without realtime_priority or max_auto_priority") == true, "\(lonely)")
        // realtime_priority: 0 is off: still nothing to limit.
        #expect(try warningsOf("realtime_priority: 0\nrealtime_cpu_limit: 2s\n" + instance).count == 1)
    }

    @Test(arguments: ["realtime_priority: 100", "realtime_priority: -1", "realtime_priority: high", "lock_memory: yes"])
    func refusedWithPosition(_ line: String) {
        guard case .failure(let error) = parseResult(line + "\n" + instance) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.line == 1)
        #expect(error.column == 20 || error.column == 14, "\(error)")
    }
}

private func warningsOf(_ yaml: String) throws -> [ConfigWarning] {
    try VIPDConfiguration.parseWithWarnings(yaml: yaml, file: "t.yaml").warnings
}
