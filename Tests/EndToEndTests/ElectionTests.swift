import Foundation
import Testing
import VIPDDaemon

/// YAML for one instance (the lab adds control_socket and node).
func instanceYAML(name: String = "web", vrid: Int = 51, priority: Int, interval: String = "100ms",
                  addresses: [String] = [Lab.vip4], extra: String = "") -> String {
    var yaml = """
      - name: \(name)
        interface: eth0
        vrid: \(vrid)
        priority: \(priority)
        advert_interval: \(interval)
        addresses: [\(addresses.map { "\"\($0)\"" }.joined(separator: ", "))]

    """
    for line in extra.split(separator: "\n", omittingEmptySubsequences: true) {
        yaml += "    \(line)\n"
    }
    return yaml
}

func config(_ instances: String...) -> String {
    "instances:\n" + instances.joined()
}

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct ElectionTests {
    @Test func highestPriorityOfThreeWinsAndTheClientReachesIt() throws {
        let lab = try Lab(routers: 3)
        defer { lab.teardown() }
        for (k, p) in [(1, 100), (2, 200), (3, 150)] {
            try lab.start(k, config: config(instanceYAML(priority: p)))
        }
        lab.expectSoleHolder(Lab.vip4, 2)
        #expect(waitUntil(5) { lab.masters("web") == [2] })
        #expect(lab.status(1)?.instances.first?.routers.first?.master == lab.routerAddress(2))
    }

    @Test func equalPriorityMastersMeetingKeepTheHigherPrimaryAddress() throws {
        // RFC 9568 §6.4.3: a Master hearing an equal-priority Master with a greater primary address
        // becomes Backup. (A Backup accepts an equal priority, so the tie-break needs two Masters:
        // partition them first, then heal.)
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        shell("ip netns exec \(lab.switchNS) bridge link set dev p1 state 0")
        try lab.start(1, config: config(instanceYAML(priority: 150)))
        try lab.start(2, config: config(instanceYAML(priority: 150)))
        #expect(waitUntil(10) { lab.masters("web") == [1, 2] }, "both should be Master while partitioned\n\(lab.logs())")
        shell("ip netns exec \(lab.switchNS) bridge link set dev p1 state 3")
        lab.expectSoleHolder(Lab.vip4, 2)
        #expect(waitUntil(5) { lab.masters("web") == [2] && lab.state(1, "web") == "Backup" })
    }

    @Test func linkLossOnTheMasterFailsOverAndTheMasterRejoinsAsBackupWithoutPreempt() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: config(instanceYAML(priority: 200, extra: "preempt: false")))
        try lab.start(2, config: config(instanceYAML(priority: 100)))
        lab.expectSoleHolder(Lab.vip4, 1)
        shell("ip -n \(lab.switchNS) link set p1 down")
        lab.expectSoleHolder(Lab.vip4, 2)
        #expect(waitUntil(5) { lab.state(1, "web") == "Fault" })
        shell("ip -n \(lab.switchNS) link set p1 up")
        #expect(waitUntil(10) { lab.state(1, "web") == "Backup" })
        // preempt: false keeps the current Master.
        usleep(1_000_000)
        lab.expectSoleHolder(Lab.vip4, 2)
    }
}
