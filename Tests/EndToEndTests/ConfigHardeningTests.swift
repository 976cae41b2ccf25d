import Foundation
import Testing
import VIPDDaemon

/// Issue 11's configuration findings, as an operator meets them with the real binary.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct ConfigHardeningCommandTests {
    let vipd = LabEnvironment.vipdBinary

    @Test func checkConfigNeverPrintsTheAuthPass() throws {
        let path = "/tmp/vipd-cli-auth-\(getpid()).yaml"
        try """
            instances:
              - { name: db, interface: eth0, vrid: 52, version: 2, auth_pass: pw-Q7x9, addresses: [192.0.2.101/24] }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let result = shell("\(vipd) check-config \(path)")
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("pw-Q7x9"), "\(result.output)")
        #expect(result.output.contains("auth_pass: \"<set>\""), "\(result.output)")
    }

    @Test func checkConfigRefusesAWorldWritableHookWithItsPosition() throws {
        let dir = "/tmp/vipd-cli-sec-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o755)
        let hook = dir + "/notify.sh", path = dir + "/vipd.yaml"
        try "#!/bin/sh\n".write(toFile: hook, atomically: false, encoding: .utf8)
        chmod(hook, 0o777)
        try ("instances:\n" + instanceYAML(priority: 150, extra: "notify: \(hook)")).write(toFile: path, atomically: false, encoding: .utf8)
        let refused = shell("\(vipd) check-config \(path)")
        #expect(refused.status != 0)
        #expect(refused.output.contains("\(path):8:13: notify \(hook) is refused by script security"), "\(refused.output)")
        // vipd run reads the file through the same loader and refuses it the same way.
        let run = shell("\(vipd) run --config \(path)", timeout: 20)
        #expect(run.status != 0)
        #expect(run.output.contains("\(path):8:13: notify \(hook) is refused by script security"), "\(run.output)")
        chmod(hook, 0o755)
        #expect(shell("\(vipd) check-config --quiet \(path)").status == 0)
    }
}

extension LabScenarios {
    /// Track scripts are labelled by name, never by command line; `localhost` listens for metrics.
    @Suite
    struct TrackerLabelTests {
        @Test func metricsStatusAndLogsNameTrackersNeverTheirCommandLines() throws {
            let lab = try Lab(routers: 1)
            defer { lab.teardown() }
            let secret = "s3cr3t-\(getpid())"
            let check = "\(lab.workdir)/check-down.sh"
            try "#!/bin/sh\nexit 1\n".write(toFile: check, atomically: true, encoding: .utf8)
            #expect(chmod(check, 0o755) == 0)
            let port = 9700 + Int(getpid() % 100)
            // localhost: accepted by check-config, so `vipd run` must bind it too (127.0.0.1).
            try lab.start(1, config: "metrics: { listen: \"localhost:\(port)\" }\n" + config(instanceYAML(priority: 200, extra: """
                track:
                  scripts:
                    - { run: "\(check) --token \(secret)", interval: 200ms, weight: -10 }
                    - { name: web-health, run: "/bin/true --password \(secret)", interval: 200ms, weight: -10 }
                """)))
            #expect(waitUntil(10) { lab.status(1)?.instances.first?.trackers.contains { $0.name == "script 1" && !$0.up } == true })
            let text = try #require(lab.scrapeMetrics(1, port: port), "no metrics on localhost:\(port)")
            let trackers = try HookMetricsTests.parse(text).filter { $0.name == "vipd_tracker_up" }
            #expect(Set(trackers.compactMap { $0.labels["tracker"] }) == ["script 1", "script web-health"], "\(trackers)")
            #expect(trackers.first { $0.labels["tracker"] == "script 1" }?.value == 0)
            #expect(text.contains("vipd_notify_coalesced_total{vrrp_instance=\"web\"} 0"), "\(text)")
            #expect(!text.contains(secret) && !text.contains(check), "the metrics carry a command line")
            let status = try #require(lab.status(1))
            #expect(status.instances[0].trackers.map(\.name) == ["script 1", "script web-health"])
            let json = lab.vipdCommand(1, "status --json").output
            #expect(!json.contains(secret) && !json.contains(check), "\(json)")
            #expect(lab.log(1).contains("track script 1 is down"), "\(lab.log(1))")
            #expect(!lab.log(1).contains(secret), "the log carries a command line")
        }
    }
}
