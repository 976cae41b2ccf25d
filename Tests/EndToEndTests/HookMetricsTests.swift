import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// The notify hook and the Prometheus endpoint, as an operator uses them.
    @Suite
    struct HookMetricsTests {
        @Test func notifyHookGetsEveryTransitionInOrderWithItsArgumentsAndEnvironment() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let hook = "\(lab.workdir)/notify.sh", record = "\(lab.workdir)/notify.log"
            try """
                #!/bin/sh
                echo "$1 $2 inst=$VIPD_INSTANCE state=$VIPD_STATE prev=$VIPD_PREVIOUS_STATE family=$VIPD_FAMILY vrid=$VIPD_VRID node=$VIPD_NODE addrs=$VIPD_ADDRESSES" >> \(record)

                """.write(toFile: hook, atomically: true, encoding: .utf8)
            #expect(chmod(hook, 0o755) == 0)
            // r2 alone: Backup, then Master; r1 (higher) joins: r2 back to Backup.
            try lab.start(2, config: config(instanceYAML(priority: 100, extra: "notify: \(hook)")))
            lab.expectSoleHolder(Lab.vip4, 2)
            try lab.start(1, config: config(instanceYAML(priority: 200)))
            lab.expectSoleHolder(Lab.vip4, 1)
            let lines = { ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
            #expect(waitUntil(5) { lines().count >= 3 })
            let common = "family=ipv4 vrid=51 node=r2 addrs=\(Lab.vip4)/32"
            #expect(lines() == [
                "web BACKUP inst=web state=BACKUP prev=STOP \(common)",
                "web MASTER inst=web state=MASTER prev=BACKUP \(common)",
                "web BACKUP inst=web state=BACKUP prev=MASTER \(common)",
            ], "\(lines())")
        }

        @Test func metricsEndpointServesStateAndCounters() throws {
            let lab = try Lab(routers: 2)
            defer { lab.teardown() }
            let port = 9600 + Int(getpid() % 100)
            try lab.start(1, config: "metrics: { listen: \"127.0.0.1:\(port)\" }\n" + config(instanceYAML(priority: 200)))
            try lab.start(2, config: "metrics: { listen: \"127.0.0.1:\(port)\" }\n" + config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.masters("web") == [1] && lab.state(2, "web") == "Backup" })
            for (k, state) in [(1, "master"), (2, "backup")] {
                let text = try #require(lab.scrapeMetrics(k, port: port), "no metrics from r\(k)")
                let samples = try Self.parse(text)
                let stateSeries = samples.filter { $0.name == "vipd_instance_state" && $0.labels["vrrp_instance"] == "web" }
                #expect(stateSeries.count == 4, "\(stateSeries)")
                #expect(stateSeries.filter { $0.value == 1 }.map { $0.labels["state"] } == [state], "\(stateSeries)")
                let transitions = samples.filter { $0.name == "vipd_transitions_total" && $0.labels["vrrp_instance"] == "web" }
                    .reduce(0) { $0 + $1.value }
                #expect(transitions == Double(lab.transitions(k, "web") ?? -1))
                let sent = samples.first { $0.name == "vipd_adverts_sent_total" && $0.labels["vrrp_instance"] == "web" }?.value ?? 0
                let received = samples.first { $0.name == "vipd_adverts_received_total" && $0.labels["vrrp_instance"] == "web" }?.value ?? 0
                #expect(k == 1 ? sent > 0 : received > 0, "sent \(sent) received \(received)")
            }
        }

        struct Sample { var name: String; var labels: [String: String]; var value: Double }

        /// Prometheus text format: every non-comment line is `name{labels} value`.
        static func parse(_ text: String) throws -> [Sample] {
            var samples: [Sample] = []
            for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
                let (series, valueText) = try #require(line.lastIndex(of: " ").map { (line[..<$0], line[line.index(after: $0)...]) }, "bad line \(line)")
                let value = try #require(Double(valueText), "bad value in \(line)")
                var name = String(series), labels: [String: String] = [:]
                if let open = series.firstIndex(of: "{") {
                    name = String(series[..<open])
                    let inner = series[series.index(after: open)..<(series.lastIndex(of: "}") ?? series.endIndex)]
                    for pair in inner.split(separator: ",") {
                        let kv = pair.split(separator: "=", maxSplits: 1)
                        try #require(kv.count == 2, "bad label in \(line)")
                        labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    }
                }
                samples.append(Sample(name: name, labels: labels, value: value))
            }
            return samples
        }
    }
}
