// Support for KeepalivedMixedGroupTests: a corpus fixture (Tests/KeepalivedImportTests/keepalived/NAME)
// made into a three-router group in the namespace lab, each router running either keepalived with
// the fixture or vipd with what `vipd import-keepalived` makes of that same file.
//
// The fixture is read from the corpus at run time, never copied. What a router's file changes, and
// nothing else (MixedFixture.routerConfig):
// - Priorities: the fixture is router 1's file. Every vrrp_instance's priority p (keepalived's
//   default 100 written out where the fixture has none) becomes p on r1, p - 1 on r2 and p - 50 on r3
//   (at least 1): r1 is the Master, r2 takes over from it on any tracking weight, r3 is the last.
// - Unicast: the fixture's unicast_src_ip must be 192.0.2.11 with peers among 192.0.2.12 and .13 (the
//   lab's router addresses); router k's file has its own address as the source and the other two as
//   peers (the three addresses permuted; per-peer options such as min_ttl stay on their line).
// - Scripts: a vrrp_script's command checks something on the fixture's host (haproxy, a disk); in the
//   lab it becomes `/usr/bin/test -e WORKDIR/rK-NAME.ok`, which the test removes to make the script
//   fail on one router and puts back to make it pass. Intervals, weights, rise, fall, users are kept.
// - A fixture may list edits of its own (MixedFixture.edits), each the action a note of the import
//   asks for or a lab substitution explained where it is listed, applied to the keepalived file
//   everywhere, the reference run included.
// - The lab gives every router the interfaces the fixture names: eth0 (the lab's segment), a second
//   shared segment for an instance on eth1 (198.51.100.1K/24), and veth pairs for tracked links
//   whose far end (NAMEp) the test takes down to drop the carrier.
// `node:` of the import (from router_id) is left out: the lab sets node itself.

import Foundation
import Testing

/// One vrrp_instance of a fixture, as keepalived and as the import name it.
struct MixedInstance: Sendable {
    let keepalived: String
    let vipd: String
    /// vipd's status family of the instance's addresses.
    let family: String
    /// The address that tells who holds the instance's addresses.
    let vip: String
}

enum MixedAction: Sendable {
    case linkDown(Int, String)
    case linkUp(Int, String)
    case scriptFails(Int, String)
    case scriptPasses(Int, String)
    case stop(Int)
    case start(Int)
}

struct MixedStep: Sendable {
    let name: String
    let actions: [MixedAction]
    /// The longest the step can take to show: Master_Down_Interval of the slowest instance the step
    /// moves, plus the script intervals × fall/rise it waits for.
    let hold: TimeInterval
    /// The Master of each instance (fixture order) that keepalived alone must elect after the step.
    let masters: [Int?]
    /// false for a step that checks something does not happen: it waits `hold` out.
    var early = true
}

struct MixedFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let instances: [MixedInstance]
    /// Interfaces on a second shared segment (besides the lab's eth0).
    var sharedLinks: [String] = []
    /// Local links to track: a veth pair NAME / NAMEp in the router's namespace.
    var trackedLinks: [String] = []
    /// (from, to) replacements in the keepalived file, each an action a note of the import asks for.
    var edits: [(String, String)] = []
    /// How long a state must stay the same to count as settled (more than an advert interval).
    var stable: TimeInterval = 1.5
    let steps: [MixedStep]

    var testDescription: String { name }

    var directory: String {
        LabEnvironment.packageRoot.appendingPathComponent("Tests/KeepalivedImportTests/keepalived/\(name)").path
    }

    func text() throws -> String {
        var text = try String(contentsOfFile: "\(directory)/keepalived.conf", encoding: .utf8)
        for (from, to) in edits {
            try #require(text.contains(from), "\(name): the edit \(from) -> \(to) finds nothing (did the fixture change?)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    static func priority(_ p: Int, router k: Int) -> Int {
        switch k {
        case 1: p
        case 2: p - 1
        default: max(1, p - 50)
        }
    }

    /// Router k's keepalived.conf (see the top of the file); also the vrrp_script names it tracks.
    func routerConfig(_ k: Int, workdir: String) throws -> (text: String, scripts: [String]) {
        let lines = try text().components(separatedBy: "\n")
        var out: [String] = []
        var scripts: [String] = []
        var depth = 0
        // The open block at depth 0: its keyword, and for vrrp_instance where to put a priority.
        var block: (kind: String, name: String, priorityAt: Int?, sawPriority: Bool)?
        var inPeers = false
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            var emitted = line
            if depth == 0, let first = words.first, first == "vrrp_instance" || first == "vrrp_script" {
                block = (first, words.count > 1 ? words[1] : "", nil, false)
            } else if depth == 1, let b = block {
                if b.kind == "vrrp_instance", words.first == "priority", words.count >= 2, let p = Int(words[1]) {
                    emitted = line.replacingOccurrences(of: "priority \(words[1])", with: "priority \(Self.priority(p, router: k))")
                    block?.sawPriority = true
                } else if b.kind == "vrrp_script", words.first == "script" {
                    emitted = "    script \"/usr/bin/test -e \(workdir)/r\(k)-\(b.name).ok\""
                    scripts.append(b.name)
                } else if b.kind == "vrrp_instance", words.first == "unicast_src_ip" {
                    try #require(words.count >= 2 && words[1] == "192.0.2.11",
                                 "\(name): unicast_src_ip must be 192.0.2.11 (router 1 of the lab) to be run in the lab")
                    emitted = Self.permuted(line, router: k)
                } else if b.kind == "vrrp_instance", words.first == "unicast_peer" {
                    inPeers = true
                }
            } else if inPeers, depth == 2, let address = words.first, !address.hasPrefix("}") {
                try #require(["192.0.2.12", "192.0.2.13"].contains(address),
                             "\(name): unicast peer \(address) is not a lab router (192.0.2.12, 192.0.2.13)")
                emitted = Self.permuted(line, router: k)
            }
            let opens = line.filter { $0 == "{" }.count, closes = line.filter { $0 == "}" }.count
            out.append(emitted)
            if depth == 0, opens > closes, block?.kind == "vrrp_instance" { block?.priorityAt = out.count }
            depth += opens - closes
            if depth < 2 { inPeers = false }
            if depth == 0, let b = block, opens + closes > 0, closes >= opens {
                if b.kind == "vrrp_instance", !b.sawPriority, let at = b.priorityAt {
                    // keepalived's default priority, written out so that the routers differ.
                    out.insert("    priority \(Self.priority(100, router: k))", at: at)
                }
                block = nil
            }
        }
        return (out.joined(separator: "\n"), scripts)
    }

    /// Router k's view of the three lab addresses: 192.0.2.11 (the fixture's own) is r_k's, the
    /// fixture's peers are the other two routers in order.
    static func permuted(_ line: String, router k: Int) -> String {
        let others = [1, 2, 3].filter { $0 != k }
        let map = ["192.0.2.11": "192.0.2.1\(k)", "192.0.2.12": "192.0.2.1\(others[0])", "192.0.2.13": "192.0.2.1\(others[1])"]
        var words = line.components(separatedBy: " ")
        for (i, w) in words.enumerated() { if let to = map[w] { words[i] = to } }
        return words.joined(separator: " ")
    }
}

/// What one step left: per instance, the Master (nil unless exactly one router is Master and it
/// alone holds the addresses) and the routers in Fault.
struct MixedOutcome: Equatable, CustomStringConvertible {
    var masters: [Int?]
    var faults: [[Int]]

    /// Whether a mix shows what keepalived alone (`reference`) showed: the same Master of every
    /// instance, and every router keepalived had in Fault in Fault too. A mix may have more routers
    /// in Fault: vipd puts every member of a sync group in Fault with the one whose tracking failed,
    /// where keepalived 2.2.7 reports the others as Backup (neither is Master, both follow the group).
    func agrees(with reference: MixedOutcome) -> Bool {
        masters == reference.masters
            && zip(faults, reference.faults).allSatisfy { mine, theirs in Set(theirs).isSubset(of: Set(mine)) }
    }

    var description: String {
        zip(masters, faults).map { m, f in
            (m.map { "r\($0)" } ?? "no single Master") + (f.isEmpty ? "" : " (Fault: \(f.map { "r\($0)" }.joined(separator: ",")))")
        }.joined(separator: " | ")
    }
}

/// A fixture's group in a fresh lab, keepalived on `keepalivedOn`, vipd on the other routers.
final class MixedGroupRun {
    let fixture: MixedFixture
    let lab: Lab
    let keepalivedOn: Set<Int>
    private var peers: [Int: KeepalivedPeer] = [:]
    private var keepalivedConfigs: [Int: String] = [:]
    private var vipdConfigs: [Int: String] = [:]
    /// The longest two routers were Master of, or held, one instance at once.
    private(set) var longestOverlap: TimeInterval = 0
    private(set) var stepDurations: [TimeInterval] = []

    init(_ fixture: MixedFixture, keepalivedOn: Set<Int>) throws {
        self.fixture = fixture
        self.keepalivedOn = keepalivedOn
        lab = try Lab(routers: 3)
        do { try prepare() } catch { teardown(); throw error }
    }

    func teardown() {
        for peer in peers.values { peer.stop() }
        lab.teardown()
    }

    private func prepare() throws {
        for link in fixture.sharedLinks {
            shell("ip -n \(lab.switchNS) link add br-\(link) type bridge mcast_snooping 0 && ip -n \(lab.switchNS) link set br-\(link) up")
            for k in 1...3 {
                let port = "\(link)-p\(k)"
                let r = shell("""
                    ip -n \(lab.switchNS) link add \(port) type veth peer name \(link) netns \(lab.ns(k)) && \
                    ip -n \(lab.switchNS) link set \(port) master br-\(link) up && \
                    ip -n \(lab.ns(k)) addr add 198.51.100.1\(k)/24 dev \(link) && ip -n \(lab.ns(k)) link set \(link) up
                    """)
                try #require(r.status == 0, "shared link \(link) on r\(k): \(r.output)")
            }
        }
        for k in 1...3 {
            for link in fixture.trackedLinks {
                let r = shell("ip -n \(lab.ns(k)) link add \(link) type veth peer name \(link)p && ip -n \(lab.ns(k)) link set \(link) up && ip -n \(lab.ns(k)) link set \(link)p up")
                try #require(r.status == 0, "tracked link \(link) on r\(k): \(r.output)")
            }
            let (text, scripts) = try fixture.routerConfig(k, workdir: lab.workdir)
            for script in scripts { try scriptPasses(k, script) }
            // The fixture's directory as a whole (includes are relative to it), with router k's file.
            let dir = "\(lab.workdir)/fixture-r\(k)"
            shell("mkdir -p \(dir) && cp -R \(shellQuote(fixture.directory))/. \(dir)/ && rm -f \(dir)/expected.*")
            try text.write(toFile: "\(dir)/keepalived.conf", atomically: true, encoding: .utf8)
            keepalivedConfigs[k] = text
            if keepalivedOn.contains(k) {
                let peer = KeepalivedPeer(lab: lab, router: k)
                shell("cp -R \(dir)/. \(peer.dir)/")
                peers[k] = peer
            } else {
                vipdConfigs[k] = try lab.importKeepalived("\(dir)/keepalived.conf", configID: "r\(k)")
                    .split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("node:") }.joined(separator: "\n")
            }
        }
    }

    var description: String { "keepalived on \(keepalivedOn.sorted().map { "r\($0)" }), vipd on \(Set(1...3).subtracting(keepalivedOn).sorted().map { "r\($0)" })" }

    func start(_ k: Int) throws {
        if let peer = peers[k] {
            try peer.start(config: keepalivedConfigs[k] ?? "", checkFirst: false)
        } else {
            try lab.start(k, config: vipdConfigs[k] ?? "")
        }
    }

    func stop(_ k: Int) {
        if let peer = peers[k] {
            peer.stop(SIGTERM)
        } else {
            lab.signal(k, SIGTERM)
            #expect(lab.waitForExit(k, timeout: 20) == 0, "vipd r\(k) did not stop cleanly\n\(lab.log(k))")
        }
    }

    private func okFile(_ k: Int, _ script: String) -> String { "\(lab.workdir)/r\(k)-\(script).ok" }
    private func scriptPasses(_ k: Int, _ script: String) throws {
        try "".write(toFile: okFile(k, script), atomically: true, encoding: .utf8)
    }

    func perform(_ action: MixedAction) throws {
        switch action {
        case .linkDown(let k, let link): shell("ip -n \(lab.ns(k)) link set \(link)p down")
        case .linkUp(let k, let link): shell("ip -n \(lab.ns(k)) link set \(link)p up")
        case .scriptFails(let k, let script): try FileManager.default.removeItem(atPath: okFile(k, script))
        case .scriptPasses(let k, let script): try scriptPasses(k, script)
        case .stop(let k): stop(k)
        case .start(let k): try start(k)
        }
    }

    // MARK: Observation

    /// Each instance's state on router k, lower case ("master", "backup", "fault"), "stopped" when
    /// nothing runs there.
    func states(_ k: Int) -> [String] {
        if let peer = peers[k] {
            guard peer.isRunning else { return fixture.instances.map { _ in "stopped" } }
            let lines = peer.log.split(separator: "\n")
            return fixture.instances.map { instance in
                let marker = "(\(instance.keepalived)) Entering "
                guard let line = lines.last(where: { $0.contains(marker) }), let r = line.range(of: marker) else { return "none" }
                return line[r.upperBound...].split(separator: " ").first.map { $0.lowercased() } ?? "none"
            }
        }
        guard lab.isRunning(k) else { lastVipdStates[k] = nil; return fixture.instances.map { _ in "stopped" } }
        // A status request that times out on the loaded machine says nothing new: the last answer stands.
        guard let status = lab.status(k) else { return lastVipdStates[k] ?? fixture.instances.map { _ in "none" } }
        let states = fixture.instances.map { instance in
            status.instances.first { $0.name == instance.vipd }?.routers.first { $0.family == instance.family }?.state.lowercased() ?? "none"
        }
        lastVipdStates[k] = states
        return states
    }
    private var lastVipdStates: [Int: [String]] = [:]

    /// Per instance, the routers whose interfaces carry its address (router k's own lab address on
    /// eth0 is not a holding: a fixture's virtual address may be a lab router's address).
    func holders() -> [[Int]] {
        let outputs = (1...3).map { k in (k, shell("ip -n \(lab.ns(k)) -o addr show").output.split(separator: "\n")) }
        return fixture.instances.map { instance in
            outputs.filter { k, lines in
                lines.contains { line in
                    line.contains(" \(instance.vip)/") && !(instance.vip == lab.routerAddress(k) && line.contains(" eth0 "))
                }
            }.map(\.0)
        }
    }

    struct Sample: Equatable {
        var states: [[String]]   // [router][instance]
        var holders: [[Int]]     // [instance]

        func masters(_ i: Int) -> [Int] { (0..<3).filter { states[$0][i] == "master" }.map { $0 + 1 } }
        func faults(_ i: Int) -> [Int] { (0..<3).filter { states[$0][i] == "fault" }.map { $0 + 1 } }
        var settled: Bool {
            holders.indices.allSatisfy { i in masters(i).count == 1 && holders[i] == masters(i) }
        }
    }

    func sample() -> Sample { Sample(states: (1...3).map(states), holders: holders()) }

    /// Samples the group every 100 ms until it has settled: at least `hold` after the step, the
    /// same state for `fixture.stable`, one Master per instance and the only holder of its address.
    /// Two Masters (or holders) of one instance for longer than a handover's overlap (the new
    /// Master adds the address before the old one has heard it) fails the test.
    ///
    /// `expected` (the outcome the step should have: the fixture's for keepalived alone, keepalived
    /// alone's for a mix) ends the wait early once the group shows it for `fixture.stable`; a step
    /// that checks that something does NOT happen (nopreempt) has `early` false and waits `hold` out.
    func settle(_ step: String, hold: TimeInterval, expected: MixedOutcome?, timeout: TimeInterval = 20) -> MixedOutcome {
        let begin = Date()
        var last = sample()
        var lastChange = begin
        var overlapSince: [Date?] = fixture.instances.map { _ in nil }
        var reported = fixture.instances.map { _ in false }
        while true {
            let now = Date()
            let s = sample()
            if s != last { last = s; lastChange = now }
            for i in fixture.instances.indices {
                if s.masters(i).count > 1 || s.holders[i].count > 1 {
                    let since = overlapSince[i] ?? now
                    overlapSince[i] = since
                    longestOverlap = max(longestOverlap, now.timeIntervalSince(since))
                    if now.timeIntervalSince(since) >= 0.5 && !reported[i] {
                        reported[i] = true
                        Issue.record("\(fixture.name), \(description), \(step): \(fixture.instances[i].keepalived) has Masters \(s.masters(i)) and holders \(s.holders[i]) for \(now.timeIntervalSince(since)) s\n\(context)")
                    }
                } else {
                    overlapSince[i] = nil
                }
            }
            let elapsed = now.timeIntervalSince(begin)
            let outcome = MixedOutcome(masters: fixture.instances.indices.map { s.masters($0).count == 1 && s.holders[$0] == s.masters($0) ? s.masters($0)[0] : nil },
                                       faults: fixture.instances.indices.map { s.faults($0) })
            let stable = now.timeIntervalSince(lastChange) >= fixture.stable && s.settled
            let shown = expected.map { e in e.faults.isEmpty ? e.masters == outcome.masters : outcome.agrees(with: e) } ?? false
            if (stable && (elapsed >= hold || shown)) || elapsed > hold + timeout {
                stepDurations.append(elapsed)
                if elapsed > hold + timeout {
                    print("\(fixture.name), \(description), \(step): not settled after \(Int(elapsed)) s (last change \(String(format: "%.1f", now.timeIntervalSince(lastChange))) s ago): states \(s.states), holders \(s.holders)")
                }
                return outcome
            }
            usleep(100_000)
        }
    }

    var context: String {
        let s = sample()
        return "states \(s.states), holders \(s.holders)\n\(lab.logs())\n"
            + peers.values.sorted { $0.router < $1.router }.map { "--- keepalived r\($0.router):\n\(String($0.log.suffix(2500)))" }.joined(separator: "\n")
    }

    /// Starts the routers (r1 first) and runs the fixture's steps; the outcome after each.
    /// `reference`: keepalived alone's outcomes, which a mix must show (nil for keepalived alone,
    /// which must show the Masters the fixture's steps name).
    func run(reference: [MixedOutcome]?) throws -> [MixedOutcome] {
        for k in 1...3 { try start(k) }
        var outcomes: [MixedOutcome] = []
        for (i, step) in fixture.steps.enumerated() {
            for action in step.actions { try perform(action) }
            let expected = reference.map { $0[i] } ?? MixedOutcome(masters: step.masters, faults: [])
            outcomes.append(settle(step.name, hold: step.hold, expected: step.early ? expected : nil))
        }
        return outcomes
    }
}
