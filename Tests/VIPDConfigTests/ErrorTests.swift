import Testing
@testable import VIPDConfig

/// One refused configuration: where the error must point and words its message must contain.
struct ErrorCase: CustomTestStringConvertible, Sendable {
    let name: String
    let yaml: String
    let line: Int
    let column: Int
    let fragment: String
    var testDescription: String { name }
}

/// A second instance appended to `minimal()` (starts on line 6).
let second = """
      - name: db
        interface: eth0
        vrid: 51
        addresses: [192.0.2.101/24]

    """

let errorCases: [ErrorCase] = [
    // YAML itself
    ErrorCase(name: "syntax error", yaml: "instances: [\n  - a\n", line: 2, column: 3, fragment: "YAML syntax error"),
    ErrorCase(name: "empty file", yaml: "", line: 1, column: 1, fragment: "empty"),
    ErrorCase(name: "top level not a mapping", yaml: "- 1\n", line: 1, column: 1, fragment: "must be a mapping"),
    ErrorCase(name: "duplicate key", yaml: minimal("    vrid: 52\n"), line: 4, column: 5, fragment: "duplicate key 'vrid'"),
    ErrorCase(name: "undefined alias", yaml: minimal("    garp: *nothing\n"), line: 6, column: 11, fragment: "undefined alias"),
    // unknown keys
    ErrorCase(name: "unknown key with suggestion", yaml: minimal("    prioirty: 5\n"), line: 6, column: 5,
              fragment: "unknown key 'prioirty' in an instance; did you mean 'priority'?"),
    ErrorCase(name: "unknown key listing allowed keys", yaml: minimal("    garp: { colour: 5 }\n"), line: 6, column: 13,
              fragment: "allowed keys: count, interval, repeat_after, refresh"),
    ErrorCase(name: "unknown top-level key with suggestion", yaml: "log_levle: info\n" + minimal(), line: 1, column: 1,
              fragment: "did you mean 'log_level'?"),
    ErrorCase(name: "instance key at top level", yaml: "priority: 5\n" + minimal(), line: 1, column: 1,
              fragment: "'priority' belongs in an entry of 'instances'"),
    ErrorCase(name: "merge key", yaml: minimal("    <<: {}\n"), line: 6, column: 5, fragment: "merge keys are not supported"),
    // types
    ErrorCase(name: "vrid not an integer", yaml: "instances:\n  - name: a\n    interface: eth0\n    vrid: abc\n    addresses: [192.0.2.1]\n",
              line: 4, column: 11, fragment: "vrid must be an integer from 1 to 255, got 'abc'"),
    ErrorCase(name: "huge number", yaml: minimal("    priority: 99999999999999999999999999\n"), line: 6, column: 15,
              fragment: "out of range: allowed is an integer from 1 to 255"),
    ErrorCase(name: "bool expected", yaml: minimal("    preempt: yes\n"), line: 6, column: 14, fragment: "must be true or false"),
    ErrorCase(name: "list where scalar expected", yaml: minimal().replacingOccurrences(of: "interface: eth0", with: "interface: [eth0]"),
              line: 3, column: 16, fragment: "interface must be a single value, not a list"),
    ErrorCase(name: "instances not a list", yaml: "instances: {a: 1}\n", line: 1, column: 12, fragment: "instances must be a list"),
    ErrorCase(name: "instance not a mapping", yaml: "instances: [web]\n", line: 1, column: 13, fragment: "an instance must be a mapping"),
    ErrorCase(name: "version not 2 or 3", yaml: minimal("    version: 4\n"), line: 6, column: 14, fragment: "version must be one of 3, 2"),
    ErrorCase(name: "log_level unknown", yaml: "log_level: verbose\n" + minimal(), line: 1, column: 12,
              fragment: "log_level must be one of trace, debug, info, notice, warning, error"),
    ErrorCase(name: "takeover unknown", yaml: minimal("    takeover: never\n"), line: 6, column: 15, fragment: "one of auto, manual"),
    // durations
    ErrorCase(name: "bare number duration", yaml: minimal("    preempt_delay: 5\n"), line: 6, column: 20,
              fragment: "has no unit: write a number with a unit: ms, s or m"),
    ErrorCase(name: "unknown unit", yaml: minimal("    preempt_delay: 5h\n"), line: 6, column: 20, fragment: "is not a duration"),
    ErrorCase(name: "preempt_delay too long", yaml: minimal("    preempt_delay: 20m\n"), line: 6, column: 20,
              fragment: "allowed is from 0s to 1000s"),
    ErrorCase(name: "shutdown_timeout bare number", yaml: "shutdown_timeout: 10\n" + minimal(), line: 1, column: 19, fragment: "has no unit"),
    // required keys
    ErrorCase(name: "missing name", yaml: "instances:\n  - interface: eth0\n    vrid: 1\n    addresses: [192.0.2.1]\n", line: 2, column: 5,
              fragment: "missing the required key 'name'"),
    ErrorCase(name: "missing interface", yaml: "instances:\n  - name: a\n    vrid: 1\n    addresses: [192.0.2.1]\n", line: 2, column: 5,
              fragment: "instance 'a' is missing the required key 'interface'"),
    ErrorCase(name: "missing vrid", yaml: "instances:\n  - name: a\n    interface: eth0\n    addresses: [192.0.2.1]\n", line: 2, column: 5,
              fragment: "missing the required key 'vrid'"),
    ErrorCase(name: "missing addresses", yaml: "instances:\n  - name: a\n    interface: eth0\n    vrid: 1\n", line: 2, column: 5,
              fragment: "missing the required key 'addresses'"),
    ErrorCase(name: "missing instances", yaml: "node: r1\n", line: 1, column: 1, fragment: "missing the required key 'instances'"),
    ErrorCase(name: "empty instances", yaml: "instances: []\n", line: 1, column: 12, fragment: "instances is empty"),
    ErrorCase(name: "empty addresses", yaml: minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "[]"), line: 5, column: 16,
              fragment: "addresses is empty"),
    // ranges
    ErrorCase(name: "vrid 0", yaml: minimal().replacingOccurrences(of: "vrid: 51", with: "vrid: 0"), line: 4, column: 11,
              fragment: "vrid 0 is out of range: allowed is an integer from 1 to 255"),
    ErrorCase(name: "priority 256", yaml: minimal("    priority: 256\n"), line: 6, column: 15, fragment: "from 1 to 255"),
    ErrorCase(name: "priority 0", yaml: minimal("    priority: 0\n"), line: 6, column: 15, fragment: "from 1 to 255"),
    ErrorCase(name: "garp count 0", yaml: minimal("    garp: { count: 0 }\n"), line: 6, column: 20, fragment: "from 1 to 100"),
    ErrorCase(name: "garp count 101", yaml: minimal("    garp:\n      count: 101\n"), line: 7, column: 14, fragment: "from 1 to 100"),
    ErrorCase(name: "track interface weight out of range", yaml: minimal("    track: { interfaces: [ { name: eth1, weight: -255 } ] }\n"),
              line: 6, column: 50, fragment: "from -254 to 254"),
    ErrorCase(name: "script weight out of range", yaml: minimal("    track: { scripts: [ { run: /bin/true, weight: 300 } ] }\n"),
              line: 6, column: 51, fragment: "from -254 to 254"),
    ErrorCase(name: "script rise 0", yaml: minimal("    track: { scripts: [ { run: /bin/true, rise: 0 } ] }\n"),
              line: 6, column: 49, fragment: "rise 0 is out of range: allowed is an integer from 1 to 1000"),
    ErrorCase(name: "script fall 0", yaml: minimal("    track: { scripts: [ { run: /bin/true, fall: 0 } ] }\n"),
              line: 6, column: 49, fragment: "fall 0 is out of range"),
    ErrorCase(name: "script timeout longer than interval", yaml: minimal("    track:\n      scripts:\n        - run: /bin/true\n          interval: 1s\n          timeout: 2s\n"),
              line: 10, column: 20, fragment: "timeout 2s is longer than interval 1s"),
    ErrorCase(name: "script run relative", yaml: minimal("    track: { scripts: [ { run: check-web } ] }\n"),
              line: 6, column: 32, fragment: "must start with the absolute path"),
    ErrorCase(name: "metrics port out of range", yaml: "metrics: { listen: \"127.0.0.1:70000\" }\n" + minimal(), line: 1, column: 20,
              fragment: "port '70000' must be an integer from 1 to 65535"),
    ErrorCase(name: "metrics host name", yaml: "metrics: { listen: \"example:80\" }\n" + minimal(), line: 1, column: 20,
              fragment: "not an IPv4 address or localhost"),
    ErrorCase(name: "control socket relative", yaml: "control_socket: vipd.sock\n" + minimal(), line: 1, column: 17,
              fragment: "must be an absolute path"),
    // advertisement intervals
    ErrorCase(name: "v3 interval not multiple of 10ms", yaml: minimal("    advert_interval: 15ms\n"), line: 6, column: 22,
              fragment: "must be a multiple of 10ms from 10ms to 40950ms"),
    ErrorCase(name: "v3 interval too long", yaml: minimal("    advert_interval: 41s\n"), line: 6, column: 22,
              fragment: "not allowed for version 3"),
    ErrorCase(name: "v3 interval zero", yaml: minimal("    advert_interval: 0ms\n"), line: 6, column: 22, fragment: "not allowed for version 3"),
    ErrorCase(name: "v2 interval not whole seconds", yaml: minimal("    version: 2\n    advert_interval: 1500ms\n"), line: 7, column: 22,
              fragment: "must be whole seconds from 1s to 255s"),
    ErrorCase(name: "v2 interval over 255s", yaml: minimal("    version: 2\n    advert_interval: 256s\n"), line: 7, column: 22,
              fragment: "not allowed for version 2"),
    // versions, families, authentication
    ErrorCase(name: "v2 with IPv6 address", yaml: minimal("    version: 2\n").replacingOccurrences(of: "[192.0.2.100/24]", with: "[\"2001:db8::1/64\"]"),
              line: 5, column: 17, fragment: "version 2 instances are IPv4-only"),
    ErrorCase(name: "v2 mixed families", yaml: minimal("    version: 2\n").replacingOccurrences(of: "[192.0.2.100/24]", with: "[192.0.2.100/24, \"2001:db8::1\"]"),
              line: 5, column: 33, fragment: "is IPv6, but version 2 instances are IPv4-only"),
    ErrorCase(name: "auth_pass with version 3", yaml: minimal("    auth_pass: secret\n"), line: 6, column: 16,
              fragment: "auth_pass is only for version 2"),
    ErrorCase(name: "auth_pass longer than 8 bytes", yaml: minimal("    version: 2\n    auth_pass: 123456789\n"), line: 7, column: 16,
              fragment: "at most 8"),
    ErrorCase(name: "accept with version 2", yaml: minimal("    version: 2\n    accept: true\n"), line: 7, column: 13,
              fragment: "accept is a VRRPv3 setting"),
    ErrorCase(name: "checksum option with version 2", yaml: minimal("    version: 2\n    v3_checksum_as_v2: true\n"), line: 7, column: 24,
              fragment: "applies to version 3 only"),
    ErrorCase(name: "checksum option without IPv4", yaml: minimal("    v3_checksum_as_v2: true\n").replacingOccurrences(of: "[192.0.2.100/24]", with: "[\"2001:db8::1\"]"),
              line: 6, column: 24, fragment: "applies to IPv4 only"),
    ErrorCase(name: "address not an address", yaml: minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "[192.0.2.300/24]"),
              line: 5, column: 17, fragment: "is not an address: write ADDRESS/PREFIXLEN or ADDRESS"),
    ErrorCase(name: "prefix length too long", yaml: minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "[192.0.2.100/33]"),
              line: 5, column: 17, fragment: "is not an address"),
    ErrorCase(name: "multicast address", yaml: minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "[224.0.0.18]"),
              line: 5, column: 17, fragment: "cannot be a virtual address"),
    ErrorCase(name: "duplicate address", yaml: minimal().replacingOccurrences(of: "[192.0.2.100/24]", with: "[192.0.2.100/24, 192.0.2.100/32]"),
              line: 5, column: 33, fragment: "listed twice"),
    // unicast
    ErrorCase(name: "unicast source family mismatch", yaml: minimal("    unicast: { source: \"2001:db8::1\", peers: [192.0.2.12] }\n"),
              line: 6, column: 24, fragment: "unicast.source 2001:db8::1 is ipv6, but the instance's addresses are ipv4"),
    ErrorCase(name: "unicast peer family mismatch", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12, \"2001:db8::2\"] }\n"),
              line: 6, column: 56, fragment: "unicast peer 2001:db8::2 is ipv6"),
    ErrorCase(name: "unicast on dual-stack instance", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12] }\n")
                .replacingOccurrences(of: "[192.0.2.100/24]", with: "[192.0.2.100/24, \"2001:db8::1\"]"),
              line: 6, column: 14, fragment: "unicast instances must be single-family"),
    ErrorCase(name: "unicast without peers", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [] }\n"), line: 6, column: 43,
              fragment: "unicast.peers is empty"),
    ErrorCase(name: "unicast ttl_check not a bool", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12], ttl_check: 255 }\n"),
              line: 6, column: 68, fragment: "unicast.ttl_check must be true or false, got '255'"),
    ErrorCase(name: "unicast ttl_check misspelled", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12], ttl: true }\n"),
              line: 6, column: 57, fragment: "ttl"),
    ErrorCase(name: "unicast peer is source", yaml: minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.11] }\n"), line: 6, column: 44,
              fragment: "is the unicast source itself"),
    // owner
    ErrorCase(name: "priority 255 with preempt false", yaml: minimal("    priority: 255\n    preempt: false\n"), line: 7, column: 14,
              fragment: "the address owner always preempts"),
    ErrorCase(name: "priority 255 with tracking weight", yaml: minimal("    priority: 255\n    track: { interfaces: [ { name: eth1, weight: -10 } ] }\n"),
              line: 7, column: 50, fragment: "on an address owner (priority 255)"),
    // notify, names
    ErrorCase(name: "notify relative", yaml: minimal("    notify: notify.sh\n"), line: 6, column: 13,
              fragment: "notify must be an absolute path"),
    ErrorCase(name: "instance name with space", yaml: minimal().replacingOccurrences(of: "name: web", with: "name: \"my web\""),
              line: 2, column: 11, fragment: "may contain only letters, digits"),
    ErrorCase(name: "interface name too long", yaml: minimal().replacingOccurrences(of: "interface: eth0", with: "interface: abcdefghijklmnop"),
              line: 3, column: 16, fragment: "is not a valid interface name"),
    ErrorCase(name: "control character in string", yaml: minimal("    notify: \"/bin/x\\u0007\"\n"), line: 6, column: 13,
              fragment: "notify must not contain control"),
    ErrorCase(name: "invisible character in name", yaml: minimal().replacingOccurrences(of: "name: web", with: "name: \"we\\u200Bb\""),
              line: 2, column: 11, fragment: "invisible formatting characters"),
    ErrorCase(name: "metrics without listen", yaml: "metrics: {}\n" + minimal(), line: 1, column: 10,
              fragment: "metrics is missing the required key 'listen'"),
    ErrorCase(name: "interface tracked twice", yaml: minimal("    track: { interfaces: [ { name: eth1 }, { name: eth1 } ] }\n"),
              line: 6, column: 52, fragment: "interface eth1 is tracked twice"),
    ErrorCase(name: "two YAML documents", yaml: minimal() + "---\n" + minimal(), line: 6, column: 1, fragment: "YAML syntax error"),
    ErrorCase(name: "instance listed twice in a group", yaml: minimal("sync_groups: [ { name: g, instances: [web, web] } ]\n"),
              line: 6, column: 44, fragment: "listed twice in sync group 'g'"),
    // across instances
    ErrorCase(name: "duplicate instance name", yaml: minimal(second.replacingOccurrences(of: "name: db", with: "name: web")
                .replacingOccurrences(of: "vrid: 51", with: "vrid: 52")), line: 6, column: 11,
              fragment: "duplicate instance name 'web' (first used at line 2)"),
    ErrorCase(name: "duplicate vrid on interface and family", yaml: minimal(second), line: 8, column: 11,
              fragment: "vrid 51 on eth0 for ipv4 is already used by instance 'web' (line 4)"),
    // sync groups
    ErrorCase(name: "sync group with unknown instance", yaml: minimal("sync_groups: [ { name: g, instances: [web, wbe2] } ]\n"),
              line: 6, column: 44, fragment: "names unknown instance 'wbe2'"),
    ErrorCase(name: "sync group suggests instance", yaml: minimal("sync_groups: [ { name: g, instances: [wbe] } ]\n"),
              line: 6, column: 39, fragment: "did you mean 'web'?"),
    ErrorCase(name: "instance in two sync groups", yaml: minimal("sync_groups:\n  - { name: g1, instances: [web] }\n  - { name: g2, instances: [web] }\n"),
              line: 8, column: 29, fragment: "already in sync group 'g1'"),
    ErrorCase(name: "sync group without instances", yaml: minimal("sync_groups: [ { name: g, instances: [] } ]\n"), line: 6, column: 38,
              fragment: "has no instances"),
    ErrorCase(name: "duplicate sync group name", yaml: minimal(second.replacingOccurrences(of: "vrid: 51", with: "vrid: 52")
                + "sync_groups:\n  - { name: g1, instances: [web] }\n  - { name: g1, instances: [db] }\n"),
              line: 12, column: 13, fragment: "duplicate sync group name 'g1'"),
]

@Suite struct ErrorTests {
    @Test(arguments: errorCases)
    func refusedWithPosition(_ c: ErrorCase) {
        switch parseResult(c.yaml, file: "cfg.yaml") {
        case .success:
            Issue.record("accepted:\n\(c.yaml)")
        case .failure(let e):
            #expect(e.file == "cfg.yaml")
            #expect("\(e.line):\(e.column)" == "\(c.line):\(c.column)", "\(e.description)")
            #expect(e.message.contains(c.fragment), "\(e.description)")
            #expect(e.description.hasPrefix("cfg.yaml:\(e.line):\(e.column): "))
        }
    }

    /// Variants of the refused cases that are fine, so each rule is shown to be a boundary, not a blanket refusal.
    @Test(arguments: [
        minimal("    priority: 255\n"),
        minimal("    priority: 255\n    track: { interfaces: [ { name: eth1, weight: 0 } ] }\n"),
        minimal("    advert_interval: 10ms\n"), minimal("    advert_interval: 40950ms\n"), minimal("    advert_interval: 40.95s\n"),
        minimal("    version: 2\n    advert_interval: 255s\n    auth_pass: \"12345678\"\n"),
        minimal("    garp: { count: 100 }\n"), minimal("    garp: { count: 1 }\n"),
        minimal("    track: { scripts: [ { run: /bin/true, interval: 2s, timeout: 2s, weight: 254, rise: 1000, fall: 1000 } ] }\n"),
        minimal("    track: { interfaces: [ { name: eth1, weight: -254 } ] }\n"),
        minimal(second.replacingOccurrences(of: "interface: eth0", with: "interface: eth1")),
        minimal(second.replacingOccurrences(of: "[192.0.2.101/24]", with: "[\"2001:db8::1/64\"]")),
        minimal("    unicast: { source: 192.0.2.11, peers: [192.0.2.12, 192.0.2.13] }\n"),
        "metrics: { listen: \"localhost:9650\" }\n" + minimal(),
    ])
    func acceptedBoundaries(_ yaml: String) {
        if case .failure(let e) = parseResult(yaml) { Issue.record("refused: \(e)\n\(yaml)") }
    }
}
