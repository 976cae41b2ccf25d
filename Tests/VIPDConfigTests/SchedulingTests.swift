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
        #expect(config.renderYAML().contains("realtime_priority: 0\nlock_memory: false\n"))
    }

    @Test func realtimePriorityAndLockMemoryParseAndRender() throws {
        let config = try parseResult("realtime_priority: 50\nlock_memory: true\n" + instance).get()
        #expect(config.realtimePriority == 50)
        #expect(config.lockMemory)
        #expect(try parseResult(config.renderYAML()).get() == config)
        // 0 is "off", as in keepalived.
        #expect(try parseResult("realtime_priority: 0\n" + instance).get().realtimePriority == nil)
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
