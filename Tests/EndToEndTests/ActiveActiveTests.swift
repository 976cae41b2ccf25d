import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// examples/active-active in the lab: two instances with crossed priorities, one VIP each.
    @Suite
    struct ActiveActiveTests {
        /// The example file for node a/b, without its `node:` line (the lab names nodes r1, r2).
        /// Its metrics listener on 127.0.0.1 is per namespace, so both can keep it.
        private func example(_ node: String) throws -> String {
            let path = LabEnvironment.packageRoot.appendingPathComponent("examples/active-active/node-\(node).yaml").path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("node:") }.joined(separator: "\n")
        }

        @Test func eachRouterHoldsItsVIPAndTheSurvivorHoldsBoth() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let left = "192.0.2.61", right = "192.0.2.62", left6 = "2001:db8::61", right6 = "2001:db8::62"
            // The example tracks eth1 (the uplink): give both routers one.
            lab.addTrackedLink(1)
            lab.addTrackedLink(2)
            try lab.start(1, config: try example("a"))
            try lab.start(2, config: try example("b"))
            func expectHome() {
                lab.expectSoleHolder(left, 1)
                lab.expectSoleHolder(right, 2)
                lab.expectSoleHolder(left6, 1)
                lab.expectSoleHolder(right6, 2)
                #expect(waitUntil(5) { lab.masters("left") == [1] && lab.masters("right") == [2] })
            }
            expectHome()
            lab.cutLink(1)
            lab.expectSoleHolder(left, 2)
            lab.expectSoleHolder(right, 2)
            lab.expectSoleHolder(left6, 2)
            #expect(waitUntil(5) { lab.masters("left") == [2] && lab.masters("right") == [2] })
            lab.restoreLink(1)
            expectHome()
            // The example's tracking: r2's uplink down lowers its "right" (150 − 60 = 90 < 100).
            shell("ip -n \(lab.ns(2)) link set eth1 down")
            lab.expectSoleHolder(right, 1)
            lab.expectSoleHolder(left, 1)
            shell("ip -n \(lab.ns(2)) link set eth1 up")
            expectHome()
        }
    }
}
