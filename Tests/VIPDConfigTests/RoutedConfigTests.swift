import Testing
@testable import VIPDConfig
import VRRP

/// A routed VRRP instance (lines 1–6); `extra` lines are appended to it (indented 4).
func routed(_ extra: String = "") -> String {
    """
    instances:
      - name: api
        interface: eth0
        vrid: 60
        addresses: [203.0.113.10/32]
        announce: route

    """ + extra
}

/// An anycast instance (lines 1–6); `extra` lines are appended to it.
func anycast(_ extra: String = "") -> String {
    """
    instances:
      - name: dns
        interface: eth0
        election: none
        announce: route
        addresses: [203.0.113.53/32]

    """ + extra
}

let routedErrorCases: [ErrorCase] = [
    ErrorCase(name: "route without announce: route", yaml: minimal("    route: { device: lo }\n"), line: 6, column: 12,
              fragment: "route applies to announce: route only"),
    ErrorCase(name: "route with announce: arp", yaml: minimal("    announce: arp\n    route: { device: lo }\n"), line: 7, column: 12,
              fragment: "route applies to announce: route only"),
    ErrorCase(name: "announce: unknown", yaml: minimal("    announce: bgp\n"), line: 6, column: 15,
              fragment: "announce must be one of arp, route, got 'bgp'"),
    ErrorCase(name: "not a host prefix", yaml: routed().replacingOccurrences(of: "203.0.113.10/32", with: "203.0.113.10/24"),
              line: 5, column: 17, fragment: "203.0.113.10/24 is not a host address"),
    ErrorCase(name: "not a host prefix, second address IPv6",
              yaml: routed().replacingOccurrences(of: "[203.0.113.10/32]", with: "[203.0.113.10, \"2001:db8::10/64\"]"),
              line: 5, column: 31, fragment: "write it as 2001:db8::10/128"),
    ErrorCase(name: "virtual_mac", yaml: routed("    virtual_mac: true\n"), line: 7, column: 18,
              fragment: "virtual_mac does not apply to announce: route"),
    ErrorCase(name: "garp", yaml: routed("    garp: { count: 2 }\n"), line: 7, column: 11, fragment: "garp does not apply to announce: route"),
    ErrorCase(name: "address owner", yaml: routed("    priority: 255\n"), line: 7, column: 15,
              fragment: "priority 255 (address owner) does not go with announce: route"),
    ErrorCase(name: "unknown route key", yaml: routed("    route: { dev: lo }\n"), line: 7, column: 14,
              fragment: "unknown key 'dev' in route"),
    ErrorCase(name: "bad device", yaml: routed("    route: { device: \"a/b\" }\n"), line: 7, column: 22,
              fragment: "route.device 'a/b' is not a valid interface name"),
    ErrorCase(name: "release_delay too long", yaml: routed("    route: { release_delay: 2m }\n"), line: 7, column: 29,
              fragment: "route.release_delay 2m is out of range"),
    ErrorCase(name: "election unknown", yaml: minimal("    election: carp\n"), line: 6, column: 15,
              fragment: "election must be one of vrrp, none"),
    ErrorCase(name: "election none without announce: route",
              yaml: anycast().replacingOccurrences(of: "    announce: route\n", with: ""), line: 4, column: 15,
              fragment: "election: none needs announce: route"),
    ErrorCase(name: "election none with vrid", yaml: anycast("    vrid: 4\n"), line: 7, column: 11,
              fragment: "vrid has no meaning with election: none"),
    ErrorCase(name: "election none with unicast", yaml: anycast("    unicast: { source: 192.0.2.1, peers: [192.0.2.2] }\n"),
              line: 7, column: 14, fragment: "unicast has no meaning with election: none"),
    ErrorCase(name: "election none with priority", yaml: anycast("    priority: 10\n"), line: 7, column: 15,
              fragment: "priority has no meaning with election: none"),
    ErrorCase(name: "election none with preempt", yaml: anycast("    preempt: false\n"), line: 7, column: 14,
              fragment: "preempt has no meaning with election: none"),
    ErrorCase(name: "election none with auth_hmac",
              yaml: anycast("    auth_hmac: { keys: { 1: \"hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\" } }\n"),
              line: 7, column: 16, fragment: "auth_hmac has no meaning with election: none"),
    ErrorCase(name: "election none with release_delay", yaml: anycast("    route: { release_delay: 1s }\n"), line: 7, column: 29,
              fragment: "route.release_delay applies to a VRRP handover"),
    ErrorCase(name: "election none with a weight",
              yaml: anycast("    track: { interfaces: [ { name: eth1, weight: -10 } ] }\n"), line: 7, column: 50,
              fragment: "weight has no meaning with election: none"),
    ErrorCase(name: "election none in a sync group",
              yaml: anycast("sync_groups:\n  - { name: g, instances: [dns] }\n"), line: 8, column: 28,
              fragment: "instance 'dns' has election: none and cannot be in sync group 'g'"),
]

@Suite("Routed VIPs and anycast: configuration")
struct RoutedConfigTests {
    @Test("defaults: announce arp, election vrrp, no route settings")
    func defaults() throws {
        let c = try VIPDConfiguration.parse(yaml: minimal(), file: "t.yaml")
        #expect(c.instances[0].announce == .arp)
        #expect(c.instances[0].route == nil)
        #expect(c.instances[0].election == .vrrp)
        #expect(c.instances[0].routerConfig(family: .ipv4, primaryAddress: ip("192.0.2.1")).handoverReleaseDelay
                == RouterConfig.defaultHandoverReleaseDelay)
    }

    @Test("announce: route alone gets device lo and release_delay 1s, which the core's release uses")
    func routedDefaults() throws {
        let i = try VIPDConfiguration.parse(yaml: routed(), file: "t.yaml").instances[0]
        #expect(i.announce == .route)
        #expect(i.route == RouteConfig(device: "lo", releaseDelay: .seconds(1)))
        #expect(i.routerConfig(family: .ipv4, primaryAddress: ip("192.0.2.1")).handoverReleaseDelay == .seconds(1))
    }

    @Test("route settings as written; a bare address is a host address")
    func routedSettings() throws {
        let yaml = routed("    route: { device: vips0, release_delay: 250ms }\n")
            .replacingOccurrences(of: "[203.0.113.10/32]", with: "[203.0.113.10, \"2001:db8::10/128\"]")
        let i = try VIPDConfiguration.parse(yaml: yaml, file: "t.yaml").instances[0]
        #expect(i.route == RouteConfig(device: "vips0", releaseDelay: .milliseconds(250)))
        #expect(i.addresses == [prefix("203.0.113.10/32"), prefix("2001:db8::10/128")])
    }

    @Test("election: none needs no vrid and gives the core an address owner's settings")
    func anycastSettings() throws {
        let i = try VIPDConfiguration.parse(yaml: anycast(), file: "t.yaml").instances[0]
        #expect(i.election == .none)
        #expect(!i.runsVRRP)
        #expect(i.route == RouteConfig())
        let core = i.routerConfig(family: .ipv4, primaryAddress: .v4(IPv4Address(0)))
        #expect(core.isAddressOwner)
        #expect(core.addresses == [prefix("203.0.113.53/32")])
    }

    @Test("two anycast instances on one interface need no distinct VRIDs")
    func anycastNoVRIDClash() throws {
        let yaml = anycast() + """
              - name: ntp
                interface: eth0
                election: none
                announce: route
                addresses: [203.0.113.123/32]

            """
        #expect(try VIPDConfiguration.parse(yaml: yaml, file: "t.yaml").instances.count == 2)
    }

    @Test("refused", arguments: routedErrorCases)
    func refused(_ c: ErrorCase) {
        switch parseResult(c.yaml) {
        case .success:
            Issue.record("accepted:\n\(c.yaml)")
        case .failure(let e):
            #expect(e.message.contains(c.fragment), "message: \(e.message)")
            #expect(e.line == c.line && e.column == c.column, "at \(e.line):\(e.column), expected \(c.line):\(c.column): \(e.message)")
        }
    }

    @Test("routed unicast without authentication: warned at unicast, the file loads")
    func warnNoAuth() throws {
        let yaml = routed("    unicast: { source: 198.51.100.2, peers: [198.51.100.6] }\n")
        let (config, warnings) = try VIPDConfiguration.parseWithWarnings(yaml: yaml, file: "t.yaml")
        #expect(config.instances[0].unicast != nil)
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("without authentication") == true)
        #expect(warnings.first?.line == 7 && warnings.first?.column == 14)
        #expect(warnings.first?.description.hasPrefix("t.yaml:7:14: warning: ") == true)
    }

    @Test("routed unicast with ttl_check: true: warned at ttl_check")
    func warnTTL() throws {
        let yaml = routed("""
                unicast: { source: 198.51.100.2, peers: [198.51.100.6], ttl_check: true }
                auth_hmac: { keys: { 1: "hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" } }

            """)
        let warnings = try VIPDConfiguration.parseWithWarnings(yaml: yaml, file: "t.yaml").warnings
        #expect(warnings.map(\.line) == [7])
        #expect(warnings.first?.column == 72)
        #expect(warnings.first?.message.contains("ttl_check: false") == true)
    }

    @Test("no warning: authenticated routed unicast with the TTL check left to the daemon, arp unicast, multicast")
    func noWarnings() throws {
        let authenticated = routed("""
                unicast: { source: 198.51.100.2, peers: [198.51.100.6], ttl_check: false }
                auth_hmac: { keys: { 1: "hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" } }

            """)
        for yaml in [authenticated, routed(), minimal("    unicast: { source: 192.0.2.1, peers: [192.0.2.2] }\n"), anycast()] {
            #expect(try VIPDConfiguration.parseWithWarnings(yaml: yaml, file: "t.yaml").warnings.isEmpty, "\(yaml)")
        }
    }

    @Test("release_delay not shorter than shutdown_timeout: warned at the instance's name")
    func warnReleaseDelay() throws {
        let yaml = "shutdown_timeout: 2s\n" + routed("    route: { release_delay: 2s }\n")
        let warnings = try VIPDConfiguration.parseWithWarnings(yaml: yaml, file: "t.yaml").warnings
        #expect(warnings.map(\.line) == [3])
        #expect(warnings.first?.message.contains("not shorter than shutdown_timeout") == true)
        // Both phases count: 1s with the address, 1s with a local route, against 2s.
        let half = "shutdown_timeout: 2s\n" + routed("    route: { release_delay: 1s }\n")
        #expect(try VIPDConfiguration.parseWithWarnings(yaml: half, file: "t.yaml").warnings.map(\.line) == [3])
        let fits = "shutdown_timeout: 2s\n" + routed("    route: { release_delay: 900ms }\n")
        #expect(try VIPDConfiguration.parseWithWarnings(yaml: fits, file: "t.yaml").warnings.isEmpty)
    }

    @Test("the effective configuration shows the new keys and loads back equal", arguments: [
        routed("    route: { device: vips0, release_delay: 300ms }\n    unicast: { source: 198.51.100.2, peers: [198.51.100.6] }\n"),
        anycast("    track: { scripts: [ { run: /bin/true, rise: 3, fall: 2 } ] }\n"),
        minimal(),
    ])
    func renderRoundTrip(_ yaml: String) throws {
        let config = try VIPDConfiguration.parse(yaml: yaml, file: "t.yaml")
        let rendered = config.renderYAML()
        #expect(try VIPDConfiguration.parse(yaml: rendered, file: "rendered.yaml") == config, "\(rendered)")
        let i = config.instances[0]
        #expect(rendered.contains("    announce: \(i.announce.rawValue)\n"))
        #expect(rendered.contains("    election: \(i.election.rawValue)\n"))
        if let route = i.route {
            #expect(rendered.contains("    route:\n      device: \(route.device)\n"))
            #expect(rendered.contains("garp:") == false)
        }
        if i.runsVRRP {
            #expect(rendered.contains("    vrid: \(i.vrid)\n"))
        } else {
            #expect(!rendered.contains("vrid:") && !rendered.contains("release_delay"))
        }
    }
}
