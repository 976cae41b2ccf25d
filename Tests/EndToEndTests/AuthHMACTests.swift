// auth_hmac in the namespace lab: a vipd pair signing with a shared key (v3 IPv4 + IPv6 multicast,
// v2, v3 unicast) ignores forged and replayed adverts from the client namespace (inject.py, which
// signs with Python's hmac when given a key), counting each under its reason in `vipd status` and
// the metrics; a rollout receive-only → permissive → enforce by SIGHUP loses no probe; tshark still
// dissects the signed PDU.

import Foundation
import Testing
import VIPDDaemon

enum AuthLab {
    static let metricsPort = 9652
    /// The group's key (32 bytes) and one nobody configured.
    static let key = String(repeating: "5a", count: 32)
    static let wrongKey = String(repeating: "a5", count: 32)
    static let vipDB = "192.0.2.101"
    static let vipUni = "192.0.2.102"

    /// `mode` nil: no auth_hmac at all.
    static func yaml(priority: Int, router k: Int, mode: String? = "enforce") -> String {
        let auth = mode.map { "auth_hmac: { keys: { 1: \"hex:\(key)\" }, mode: \($0) }" } ?? ""
        return "metrics: { listen: \"127.0.0.1:\(metricsPort)\" }\n" + config(
            instanceYAML(name: "web", vrid: 51, priority: priority, addresses: [Lab.vip4, Lab.vip6], extra: auth),
            instanceYAML(name: "db", vrid: 52, priority: priority, interval: "1s", addresses: [vipDB],
                         extra: "version: 2\n" + auth),
            instanceYAML(name: "uni", vrid: 53, priority: priority, addresses: [vipUni],
                         extra: "unicast: { source: 192.0.2.1\(k), peers: [192.0.2.1\(3 - k)] }\n" + auth))
    }

    /// r1 Master and r2 Backup of every router (4 per node).
    static func settled(_ lab: Lab) -> Bool {
        let s = ElectionSnapshot(lab)
        return s.routers.count == 8 && s.routers.allSatisfy { $0.key.hasPrefix("r1") ? $0.value.hasPrefix("Master") : $0.value.hasPrefix("Backup") }
    }

    static func metric(_ lab: Lab, _ k: Int, _ reason: String) -> Double {
        metricValue(lab.scrapeMetrics(k, port: metricsPort) ?? "", "vipd_packets_dropped_total",
                    labels: ["interface": "eth0", "reason": reason]) ?? 0
    }
}

extension LabScenarios {
@Suite(.serialized) struct AuthHMACTests {
    /// Forged priority-255 adverts with a peer's source (multicast and unicast: unsigned, wrong key,
    /// unknown key id, stale) and a replayed capture of the Master's adverts: each dropped under its
    /// reason in status and metrics, nobody moves. Then the control: the same forgery signed with the
    /// group's key and a fresh sequence does move the Master (so the checks above can fail).
    @Test func enforceIgnoresForgedAndReplayedAdverts() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: AuthLab.yaml(priority: 200, router: 1))
        try lab.start(2, config: AuthLab.yaml(priority: 100, router: 2))
        try #require(waitUntil(15) { AuthLab.settled(lab) }, "pair did not settle: \(ElectionSnapshot(lab))\n\(lab.logs())")
        // Signed adverts were accepted all along: no HMAC drops on either side while settling.
        for k in [1, 2] {
            let drops = lab.status(k)?.instances.flatMap { $0.routers.flatMap { $0.counters.drops.keys } } ?? []
            #expect(!drops.contains { $0.hasPrefix("hmac_") }, "r\(k) dropped the peer's signed adverts: \(drops)")
        }

        let multicast = "--spoof --src 192.0.2.12 --priority 255 --addr \(Lab.vip4)"
        let unicast = "--spoof --src 192.0.2.12 --dst 192.0.2.11 --vrid 53 --priority 255 --addr \(AuthLab.vipUni)"
        // IPv6: the client's own link-local source (no spoofing needed to show the check).
        let src6 = try #require(lab.linkLocal(lab.client))
        let ipv6 = "--src \(src6) --priority 255 --addr \(Lab.vip6)"
        let cases: [(String, String, String, String, String)] = [
            ("multicast unsigned", multicast, "web", "hmac_missing", "ipv4"),
            ("IPv6 multicast unsigned", ipv6, "web", "hmac_missing", "ipv6"),
            ("multicast wrong key", "\(multicast) --hmac-key \(AuthLab.wrongKey)", "web", "hmac_bad", "ipv4"),
            ("multicast unknown key id", "\(multicast) --hmac-key \(AuthLab.key) --key-id 9", "web", "hmac_unknown_key", "ipv4"),
            ("multicast stale", "\(multicast) --hmac-key \(AuthLab.key) --seq-offset -60", "web", "hmac_stale", "ipv4"),
            ("unicast unsigned", unicast, "uni", "hmac_missing", "ipv4"),
            ("unicast wrong key", "\(unicast) --hmac-key \(AuthLab.wrongKey)", "uni", "hmac_bad", "ipv4"),
        ]
        for (name, arguments, instance, reason, family) in cases {
            let before = ElectionSnapshot(lab)
            let counted = lab.routerDrops(1, instance, reason, family: family)
            let metric = AuthLab.metric(lab, 1, reason)
            lab.inject(from: lab.client, "\(arguments) --repeat 3")
            #expect(waitUntil(5) { lab.routerDrops(1, instance, reason, family: family) >= counted + 3 } && lab.routerDrops(1, instance, reason, family: family) == counted + 3,
                    "\(name): r1 counted \(lab.routerDrops(1, instance, reason, family: family) - counted) of 3 as \(reason): \(String(describing: lab.routerStatus(1, instance, family: family)?.counters.drops))")
            #expect(AuthLab.metric(lab, 1, reason) - metric == 3, "\(name): metric \(reason) went \(metric) → \(AuthLab.metric(lab, 1, reason))")
            usleep(300_000)   // a forgery that got through would make r1 step down at once
            #expect(ElectionSnapshot(lab) == before, "\(name) changed the election: \(before) → \(ElectionSnapshot(lab))")
            #expect(lab.holders(Lab.vip4) == [1] && lab.holders(AuthLab.vipUni) == [1])
        }

        // Replay: capture three of r1's own web adverts on the group, then send them again with r1's
        // source. r2 accepted those sequences already: hmac_replayed, three times.
        // (r1 sends db's v2 adverts to the group too: keep the v3 VRID 51 ones, "3133…".)
        let captured = shell("ip netns exec \(lab.client) python3 \(InteropEnvironment.injectScript) --src 192.0.2.11 --capture 8 --timeout 5", timeout: 20)
        let payloads = Array(captured.output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("3133") && $0.allSatisfy(\.isHexDigit) }.prefix(3))
        try #require(captured.status == 0 && payloads.count == 3, "capture failed: \(captured.output)")
        #expect(payloads.allSatisfy { $0.count == 2 * (8 + 4 + 28) }, "each captured advert carries a 28-byte trailer: \(payloads)")
        usleep(300_000)
        let replayedBefore = lab.routerDrops(2, "web", "hmac_replayed")
        let before = ElectionSnapshot(lab)
        for payload in payloads {
            lab.inject(from: lab.client, "--spoof --src 192.0.2.11 --payload \(payload)")
        }
        #expect(waitUntil(5) { lab.routerDrops(2, "web", "hmac_replayed") >= replayedBefore + 3 },
                "r2 counted \(lab.routerDrops(2, "web", "hmac_replayed") - replayedBefore) of 3 replays: \(String(describing: lab.routerStatus(2, "web")?.counters.drops))")
        #expect(ElectionSnapshot(lab) == before, "the replay changed the election: \(before) → \(ElectionSnapshot(lab))")

        // Control: signed with the group's key, fresh: r1 steps down for the "peer" at 255.
        let webBefore = lab.transitions(1, "web") ?? 0
        lab.inject(from: lab.client, "\(multicast) --hmac-key \(AuthLab.key)")
        #expect(waitUntil(5) { (lab.transitions(1, "web") ?? 0) > webBefore },
                "a correctly signed priority-255 advert should make r1 step down\n\(lab.logs())")
    }

    /// receive-only → permissive → enforce on a running pair, one SIGHUP per node and step (Backup
    /// first): no probe lost, no transition; then an unsigned forgery is refused as hmac_missing.
    @Test func rollingRolloutBySIGHUPLosesNoProbe() throws {
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: AuthLab.yaml(priority: 200, router: 1, mode: nil))
        try lab.start(2, config: AuthLab.yaml(priority: 100, router: 2, mode: nil))
        try #require(waitUntil(15) { AuthLab.settled(lab) }, "pair did not settle: \(ElectionSnapshot(lab))\n\(lab.logs())")
        let before = ElectionSnapshot(lab)
        let probe = try lab.startPing(Lab.vip4, count: 800, interval: "0.01")
        usleep(500_000)
        for mode in ["receive-only", "permissive", "enforce"] {
            for k in [2, 1] {
                try lab.rewriteConfig(k, config: AuthLab.yaml(priority: k == 1 ? 200 : 100, router: k, mode: mode))
                let reloads = lab.log(k).components(separatedBy: "reloaded:").count
                lab.signal(k, SIGHUP)
                #expect(waitUntil(5) { lab.log(k).components(separatedBy: "reloaded:").count > reloads }, "r\(k) did not reload to \(mode)\n\(lab.log(k))")
                usleep(400_000)
            }
            #expect(ElectionSnapshot(lab) == before, "\(mode): the election moved: \(before) → \(ElectionSnapshot(lab))")
        }
        let result = try #require(probe.finish(timeout: 30), "ping did not finish")
        #expect(result.received == result.transmitted, "probes lost during the rollout: \(result)")
        #expect(ElectionSnapshot(lab) == before, "after the rollout: \(before) → \(ElectionSnapshot(lab))")
        for k in [1, 2] {
            let drops = lab.status(k)?.instances.flatMap { $0.routers.flatMap { $0.counters.drops.keys } } ?? []
            #expect(!drops.contains { $0.hasPrefix("hmac_") }, "r\(k) refused its peer's adverts during the rollout: \(drops)")
        }
        let missing = lab.routerDrops(1, "web", "hmac_missing")
        lab.inject(from: lab.client, "--spoof --src 192.0.2.12 --priority 255 --addr \(Lab.vip4)")
        #expect(waitUntil(5) { lab.routerDrops(1, "web", "hmac_missing") == missing + 1 }, "enforce is not in force on r1")
        #expect(lab.holders(Lab.vip4) == [1])
    }

    /// tshark still dissects signed adverts as VRRP (v3 IPv4 multicast and unicast, v3 IPv6, v2):
    /// version, VRID and no malformed flag; the trailer is after the PDU, outside what it parses.
    @Test func tsharkDissectsSignedAdverts() throws {
        try #require(InteropEnvironment.hasTshark, "tshark is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        try lab.start(1, config: AuthLab.yaml(priority: 200, router: 1))
        try lab.start(2, config: AuthLab.yaml(priority: 100, router: 2))
        try #require(waitUntil(15) { AuthLab.settled(lab) }, "pair did not settle: \(ElectionSnapshot(lab))\n\(lab.logs())")
        let r1LinkLocal = try #require(lab.linkLocal(lab.ns(1)))
        let file = "\(lab.workdir)/auth.pcapng"
        let capture = try #require(captureVRRP(lab, seconds: 3, file: file))
        let done = waitUntil(20) { !capture.isRunning }
        if !done { capture.terminate() }
        capture.waitUntilExit()
        let fromR1 = dissectVRRP(file).filter { $0.source == lab.routerAddress(1) || $0.source == r1LinkLocal }
        let kinds: [(String, (DissectedPacket) -> Bool)] = [
            ("v3 IPv4 multicast", { $0.vrid == 51 && $0.version == 3 && $0.source == lab.routerAddress(1) }),
            ("v3 IPv6", { $0.vrid == 51 && $0.version == 3 && $0.source == r1LinkLocal }),
            ("v2", { $0.vrid == 52 && $0.version == 2 }),
            ("v3 IPv4 unicast", { $0.vrid == 53 && $0.version == 3 }),
        ]
        for (kind, matches) in kinds {
            let packets = fromR1.filter(matches)
            #expect(!packets.isEmpty, "no signed \(kind) packets from r1 dissected as VRRP")
            #expect(packets.allSatisfy { !$0.malformed }, "\(kind): tshark marks them malformed: \(packets.map(\.expertMessages))")
        }
        // tshark sums the whole IP payload, trailer included. That is right for IPv6 (keepalived
        // leaves the checksum to the kernel, which sums everything) and wrong for IPv4, where
        // keepalived sums the message alone (docs/design.md): tshark flags "Bad checksum" there.
        let v6 = fromR1.filter(kinds[1].1)
        #expect(v6.allSatisfy { $0.checksumStatus == "1" && $0.expertMessages.isEmpty }, "IPv6: \(v6.map(\.expertMessages))")
        print("auth_hmac under tshark: " + kinds.map { kind, matches in
            "\(kind): checksum status \(Set(fromR1.filter(matches).map(\.checksumStatus)).sorted()), expert \(Set(fromR1.filter(matches).map(\.expertMessages)).sorted())"
        }.joined(separator: "; "))
    }
}
}

/// `auth_hmac` keys as an operator meets them with the real binary: check-config and run share the
/// loader, so a key file open to others is refused by both with its position, and check-config's
/// output never shows a key.
@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct AuthHMACCommandTests {
    let vipd = LabEnvironment.vipdBinary

    @Test func checkConfigRedactsKeysAndRunRefusesAnOpenKeyFile() throws {
        var template = Array("/tmp/vipd-cli-hmac-XXXXXX".utf8CString)
        let dir = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inline = String(repeating: "Q", count: 40), fileKey = String(repeating: "F", count: 36)
        try (fileKey + "\n").write(toFile: dir + "/web.key", atomically: false, encoding: .utf8)
        chmod(dir + "/web.key", 0o600)
        let path = dir + "/vipd.yaml"
        try ("instances:\n" + instanceYAML(priority: 150, extra: "auth_hmac: { keys: { 1: \"\(inline)\", 2: \"file:web.key\" }, active_key: 2 }"))
            .write(toFile: path, atomically: false, encoding: .utf8)
        let shown = shell("\(vipd) check-config \(path)")
        #expect(shown.status == 0, "\(shown.output)")
        #expect(shown.output.contains("keys: { 1: \"<set>\", 2: \"file:web.key\" }"), "\(shown.output)")
        #expect(!shown.output.contains(inline) && !shown.output.contains(fileKey), "\(shown.output)")

        chmod(dir + "/web.key", 0o640)
        for command in ["check-config \(path)", "run --config \(path)"] {
            let refused = shell("\(vipd) \(command)", timeout: 20)
            #expect(refused.status != 0)
            #expect(refused.output.contains("\(path):8:"), "\(refused.output)")
            #expect(refused.output.contains("key 2: key file \(dir)/web.key is readable or writable by others than its owner (mode 0640)"), "\(refused.output)")
            #expect(!refused.output.contains(fileKey))
        }
    }
}
