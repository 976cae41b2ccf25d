import Foundation
import Testing
@testable import VIPDConfig
import VRRP

@Suite struct ExampleTests {
    @Test func fullExampleParsesToExpectedValues() throws {
        let path = packageRoot.appendingPathComponent("examples/vipd.yaml").path
        let config = try VIPDConfiguration.load(path: path)
        var web = InstanceConfig(name: "web", interface: "eth0", vrid: 51, addresses: [])
        web.priority = 150
        web.advertInterval = AdvertInterval(centiseconds: 10)
        web.version = .v3
        web.preempt = true
        web.preemptDelay = .zero
        web.accept = false
        web.addresses = [prefix("192.0.2.100/24"), prefix("2001:db8::100/64")]
        web.virtualMAC = false
        web.garp = GARPConfig(count: 5, interval: .zero, repeatAfter: .seconds(5), refresh: .zero)
        web.track = TrackConfig(
            interfaces: [TrackedInterface(name: "eth1", weight: -50)],
            scripts: [TrackedScript(name: "check-web", run: "/usr/local/bin/check-web", interval: .seconds(1), timeout: .milliseconds(500),
                                    weight: -60, rise: 2, fall: 2)])
        web.notify = "/etc/vipd/notify.sh"
        web.takeover = .auto
        web.v3ChecksumAsV2 = false
        var db = InstanceConfig(name: "db", interface: "eth0", vrid: 52, addresses: [prefix("192.0.2.101/24")])
        db.priority = 100
        db.advertInterval = AdvertInterval(seconds: 1)
        db.version = .v2
        db.authPass = "secret"
        db.unicast = UnicastConfig(source: ip("192.0.2.11"), peers: [ip("192.0.2.12")], ttlCheck: true)
        let expected = VIPDConfiguration(
            node: "r1", controlSocket: "/run/vipd/vipd.sock", metrics: MetricsConfig(address: ip("127.0.0.1"), port: 9650),
            shutdownTimeout: .seconds(10), logLevel: .info, instances: [web, db],
            syncGroups: [SyncGroupConfig(name: "g1", instances: ["web", "db"])])
        #expect(config == expected)
        #expect(config.instances[0].families == [.ipv4, .ipv6])
        #expect(config.instances[1].families == [.ipv4])
    }

    @Test(arguments: exampleFiles())
    func everyExampleLoadsAndRoundTrips(_ relative: String) throws {
        let config = try VIPDConfiguration.load(path: packageRoot.appendingPathComponent(relative).path)
        #expect(!config.instances.isEmpty)
        let again = try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "rendered")
        #expect(again == config)
    }

    @Test func examplesDirectoryIsFound() {
        #expect(exampleFiles().count >= 3)
    }

    @Test func activeActivePairCrossesPriorities() throws {
        let a = try VIPDConfiguration.load(path: packageRoot.appendingPathComponent("examples/active-active/node-a.yaml").path)
        let b = try VIPDConfiguration.load(path: packageRoot.appendingPathComponent("examples/active-active/node-b.yaml").path)
        #expect(a.instances.map(\.vrid) == b.instances.map(\.vrid))
        for (x, y) in zip(a.instances, b.instances) {
            #expect(x.name == y.name && x.advertInterval == y.advertInterval && x.addresses == y.addresses)
            #expect(x.priority != y.priority)
        }
        #expect(a.instances.map(\.priority) == b.instances.map(\.priority).reversed())
    }
}

@Suite struct DefaultTests {
    @Test func instanceDefaults() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal(), file: "t")
        #expect(config.node == nil)
        #expect(config.controlSocket == "/run/vipd/vipd.sock")
        #expect(config.metrics == nil)
        #expect(config.shutdownTimeout == .seconds(10))
        #expect(config.logLevel == .info)
        #expect(config.syncGroups.isEmpty)
        let i = try #require(config.instances.first)
        #expect(i.version == .v3)
        #expect(i.priority == 100)
        #expect(i.advertInterval.centiseconds == 100)
        #expect(i.authPass == nil)
        #expect(i.preempt == true)
        #expect(i.preemptDelay == .zero)
        #expect(i.accept == false)
        #expect(i.unicast == nil)
        #expect(i.virtualMAC == false)
        #expect(i.garp.count == 5)
        #expect(i.garp.interval == .zero)
        #expect(i.garp.repeatAfter == .seconds(5))
        #expect(i.garp.refresh == .zero)
        #expect(i.track.interfaces.isEmpty && i.track.scripts.isEmpty)
        #expect(i.notify == nil)
        #expect(i.takeover == .auto)
        #expect(i.v3ChecksumAsV2 == false)
    }

    @Test func scriptDefaults() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
                track:
                  scripts: [ { run: /bin/true }, { run: /bin/true, interval: 5s } ]
            """), file: "t")
        let scripts = config.instances[0].track.scripts
        #expect(scripts.count == 2)
        #expect(scripts[0].interval == .seconds(1) && scripts[0].timeout == .seconds(1))
        #expect(scripts[0].weight == 0 && scripts[0].rise == 1 && scripts[0].fall == 1)
        // timeout defaults to the script's own interval.
        #expect(scripts[1].interval == .seconds(5) && scripts[1].timeout == .seconds(5))
    }

    /// `unicast.ttl_check`: absent means "decided by the daemon" (nil), and both values render back.
    @Test(arguments: [("", nil), (", ttl_check: true", true), (", ttl_check: false", false)] as [(String, Bool?)])
    func unicastTTLCheck(_ fragment: String, _ expected: Bool?) throws {
        let yaml = minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12]\(fragment) }\n")
        let config = try VIPDConfiguration.parse(yaml: yaml, file: "t.yaml")
        #expect(config.instances[0].unicast == UnicastConfig(source: ip("192.0.2.11"), peers: [ip("192.0.2.12")], ttlCheck: expected))
        let rendered = config.renderYAML()
        #expect(rendered.contains("ttl_check") == (expected != nil))
        #expect(try VIPDConfiguration.parse(yaml: rendered, file: "rendered") == config)
    }

    /// Every ```yaml block of docs/config.md loads (the reference's examples stay true).
    @Test func configReferenceExamplesLoad() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/config.md"), encoding: .utf8)
        var blocks: [String] = [], current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```yaml" { current = [] } else if let lines = current, line == "```" {
                blocks.append(lines.joined(separator: "\n")); current = nil
            } else { current?.append(line) }
        }
        #expect(blocks.count >= 2)
        for (index, yaml) in blocks.enumerated() {
            if case .failure(let error) = parseResult(yaml, file: "docs/config.md block \(index + 1)") { Issue.record("\(error)") }
        }
    }

    @Test func trackedInterfaceWeightDefaultsToZero() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("    track: { interfaces: [ { name: eth1 } ] }\n"), file: "t")
        #expect(config.instances[0].track.interfaces == [TrackedInterface(name: "eth1", weight: 0)])
    }

    @Test func explicitNullMeansDefault() throws {
        let config = try VIPDConfiguration.parse(yaml: "node: ~\nlog_level:\n" + minimal("    priority: null\n"), file: "t")
        #expect(config.node == nil && config.logLevel == .info && config.instances[0].priority == 100)
    }

    @Test func daemonKeys() throws {
        let config = try VIPDConfiguration.parse(yaml: """
            node: r2
            control_socket: /tmp/v.sock
            metrics: { listen: "[::1]:9100" }
            shutdown_timeout: 1.5s
            log_level: trace
            """ + "\n" + minimal(), file: "t")
        #expect(config.node == "r2")
        #expect(config.controlSocket == "/tmp/v.sock")
        #expect(config.metrics == MetricsConfig(address: ip("::1"), port: 9100))
        #expect(config.metrics?.listen == "[::1]:9100")
        #expect(config.shutdownTimeout == .milliseconds(1500))
        #expect(config.logLevel == .trace)
    }

    /// The loader resolves the host: `localhost` is 127.0.0.1, so the daemon binds an address and
    /// never parses or resolves text again (check-config and run agree by construction).
    @Test(arguments: [("127.0.0.1:9650", "127.0.0.1", 9650), ("localhost:1", "127.0.0.1", 1),
                      ("localhost:9650", "127.0.0.1", 9650), ("[2001:db8::1]:65535", "2001:db8::1", 65535)])
    func metricsListen(_ text: String, _ address: String, _ port: Int) throws {
        let config = try VIPDConfiguration.parse(yaml: "metrics: { listen: \"\(text)\" }\n" + minimal(), file: "t")
        #expect(config.metrics == MetricsConfig(address: ip(address), port: UInt16(port)))
        #expect(config.renderYAML().contains("listen: \"\(config.metrics?.listen ?? "")\""))
    }
}

@Suite struct ModelTests {
    @Test func dualStackInstanceMapsToOneRouterPerFamily() throws {
        let config = try VIPDConfiguration.parse(yaml: """
            instances:
              - name: ds
                interface: eth0
                vrid: 7
                priority: 200
                advert_interval: 50ms
                preempt_delay: 2s
                accept: true
                takeover: manual
                addresses: ["2001:db8::7/64", 192.0.2.7/24, 192.0.2.8]
            """, file: "t")
        let i = config.instances[0]
        #expect(i.families == [.ipv4, .ipv6])
        #expect(i.addresses(of: .ipv4) == [prefix("192.0.2.7/24"), prefix("192.0.2.8/32")])
        #expect(i.addresses(of: .ipv6) == [prefix("2001:db8::7/64")])
        let r4 = i.routerConfig(family: .ipv4, primaryAddress: ip("192.0.2.1"))
        #expect(r4 == RouterConfig(version: .v3, vrid: 7, priority: 200, advertInterval: AdvertInterval(centiseconds: 5),
                                   primaryAddress: ip("192.0.2.1"), addresses: [prefix("192.0.2.7/24"), prefix("192.0.2.8/32")],
                                   preempt: true, preemptDelay: .seconds(2), acceptMode: true, authentication: .none,
                                   takeover: .manual))
        let r6 = i.routerConfig(family: .ipv6, primaryAddress: ip("fe80::1"))
        #expect(r6.vrid == 7 && r6.family == .ipv6 && r6.addresses == [prefix("2001:db8::7/64")])
    }

    @Test func authPassBecomesSimplePassword() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("    version: 2\n    auth_pass: abc\n"), file: "t")
        let r = config.instances[0].routerConfig(family: .ipv4, primaryAddress: ip("192.0.2.1"))
        #expect(r.authentication == .simplePassword([97, 98, 99, 0, 0, 0, 0, 0]))
        #expect(r.version == .v2 && r.advertInterval == AdvertInterval(seconds: 1))
    }

    @Test func errorDescriptionIsFileLineColumnMessage() {
        let e = ConfigError(file: "/etc/vipd/vipd.yaml", line: 3, column: 7, message: "bad")
        #expect(e.description == "/etc/vipd/vipd.yaml:3:7: bad")
    }

    @Test func anchorsAndAliasesWork() throws {
        let config = try VIPDConfiguration.parse(yaml: """
            instances:
              - name: a
                interface: eth0
                vrid: 1
                addresses: &vips [192.0.2.1/24]
                garp: &g { count: 3 }
              - name: b
                interface: eth1
                vrid: 1
                addresses: *vips
                garp: *g
            """, file: "t")
        #expect(config.instances[1].addresses == [prefix("192.0.2.1/24")])
        #expect(config.instances[1].garp.count == 3)
    }
}

@Suite struct DurationTests {
    @Test(arguments: [("100ms", Duration.milliseconds(100)), ("1.5s", .milliseconds(1500)), ("2m", .seconds(120)),
                      ("0s", .zero), ("0ms", .zero), ("0.25ms", .microseconds(250)), ("1.000s", .seconds(1)),
                      ("0.1m", .seconds(6)), ("40950ms", .milliseconds(40950)),
                      ("0.12345678905m", .nanoseconds(7_407_407_343)), ("0.00000000005m", .nanoseconds(3))])
    func parses(_ text: String, _ expected: Duration) {
        guard case .success(let d) = DurationText.parse(text) else { Issue.record("\(text) refused"); return }
        #expect(d == expected)
        guard case .success(let back) = DurationText.parse(DurationText.render(d)) else { Issue.record("render refused"); return }
        #expect(back == d)
    }

    @Test(arguments: ["1", "1.5", "", "ms", "1h", "-1s", "1.s", ".5s", "1e3ms", "1 s", "1,5s", "99999999999999999999s",
                      "153722867281m", "0.0000000001s", "1.2.3s", "١s"])
    func refuses(_ text: String) {
        if case .success(let d) = DurationText.parse(text) { Issue.record("\(text) accepted as \(d)") }
    }

    @Test(arguments: [(Duration.milliseconds(1500), "1500ms"), (.seconds(120), "2m"), (.seconds(90), "90s"),
                      (.zero, "0s"), (.microseconds(1500), "1.5ms"), (.nanoseconds(1), "0.000001ms"),
                      (.milliseconds(-1500), "-1500ms"), (.nanoseconds(Int64.min), "-9223372036854.775808ms")])
    func renders(_ d: Duration, _ text: String) {
        #expect(DurationText.render(d) == text)
    }
}
