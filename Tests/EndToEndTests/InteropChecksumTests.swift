// The VRRPv3 IPv4 checksum forms against keepalived 2.2.7, and vipd's packets as Wireshark's VRRP
// dissector sees them.
//
// keepalived 2.2.7 facts (its vrrp.c and keepalived.conf(5); the binary's build flags include
// OLD_CHKSUM_COMPAT): it has no `v3_checksum_as_v2`. It always sends the v3 IPv4 checksum over a
// pseudo-header and, on receive, refuses anything else with "(VI) Invalid VRRPv3 checksum". Its only
// checksum option is `old_unicast_checksum [never]` (vrrp_instance): unicast adverts with the group
// 224.0.0.18 instead of the peer in the pseudo-header (keepalived < 1.3.6). Without the option it
// accepts that form too and switches to it; with it, it accepts only that form.

import Foundation
import Testing
import VIPDDaemon

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct InteropChecksumTests {
    /// vipd's `v3_checksum_as_v2` (message-only checksum, for Cisco/Juniper) does not interoperate
    /// with keepalived 2.2.7: keepalived drops every such advert. vipd still hears keepalived.
    @Test(arguments: [true, false])
    func v3ChecksumAsV2IsRefusedByKeepalived(vipdHigher: Bool) throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        let ka = KeepalivedPeer(lab: lab, router: 2)
        defer { ka.stop(); lab.teardown() }
        try ka.start(config: keepalivedConfig(router: 2, KeepalivedInstance(priority: vipdHigher ? 100 : 150, version: 3, advertInt: "0.1")))
        try lab.start(1, config: config(instanceYAML(priority: vipdHigher ? 200 : 100, interval: "100ms", extra: "v3_checksum_as_v2: true")))
        let context = { "\(lab.logs())\n--- keepalived:\n\(String(ka.log.suffix(2000)))" }

        if vipdHigher {
            #expect(waitUntil(10) { ka.log.contains("Invalid VRRPv3 checksum") },
                    "keepalived should refuse the message-only checksum\n\(context())")
            // keepalived never hears the Master, so it takes over too: both hold the VIP.
            #expect(waitUntil(10) { lab.holders(Lab.vip4) == [1, 2] && ka.state == "MASTER" && lab.state(1, "web") == "Master" },
                    "expected two Masters, holders \(lab.holders(Lab.vip4))\n\(context())")
        } else {
            // vipd accepts keepalived's pseudo-header form, and a Backup sends nothing: this works.
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { lab.state(1, "web") == "Backup" && ka.state == "MASTER" }, "\(context())")
            // Once vipd is Master, a returning keepalived cannot hear it: it refuses every advert
            // and takes over by timeout (Master_Down_Interval) instead of preempting.
            ka.stop(SIGTERM)
            lab.expectSoleHolder(Lab.vip4, 1)
            try ka.start(config: keepalivedConfig(router: 2, KeepalivedInstance(priority: 150, version: 3, advertInt: "0.1")))
            #expect(waitUntil(10) { ka.log.contains("Invalid VRRPv3 checksum") },
                    "keepalived should refuse the message-only checksum\n\(context())")
            #expect(!ka.log.contains("received advert from 192.0.2.11"), "keepalived heard vipd\n\(context())")
            lab.expectSoleHolder(Lab.vip4, 2)
        }
        #expect(allDrops(lab, 1).isEmpty, "vipd dropped keepalived's packets: \(allDrops(lab, 1))")
    }

    /// keepalived with `old_unicast_checksum` starting next to a running vipd Master: it refuses
    /// vipd's standard checksum and takes over, vipd hears its group-form checksum, answers in that
    /// form, and keepalived steps back.
    @Test func keepalivedWithOldUnicastChecksumJoiningARunningVipdMasterConverges() throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        let ka = KeepalivedPeer(lab: lab, router: 2)
        defer { ka.stop(); lab.teardown() }
        try lab.start(1, config: config(instanceYAML(priority: 200, interval: "100ms",
                                                     extra: "unicast: { source: 192.0.2.11, peers: [192.0.2.12] }")))
        lab.expectSoleHolder(Lab.vip4, 1)
        try ka.start(config: keepalivedConfig(router: 2, KeepalivedInstance(
            priority: 100, version: 3, advertInt: "0.1", unicastSource: "192.0.2.12", unicastPeers: ["192.0.2.11"],
            extra: ["old_unicast_checksum"])))
        let context = { "\(lab.logs())\n--- keepalived:\n\(String(ka.log.suffix(2000)))" }
        #expect(waitUntil(10) { lab.log(1).contains("uses the old (group address) VRRPv3 checksum") },
                "vipd should switch to keepalived's old unicast checksum\n\(context())")
        #expect(waitUntil(10) { ka.state == "BACKUP" && ka.log.contains("higher priority 200") },
                "keepalived should hear vipd and step back\n\(context())")
        lab.expectSoleHolder(Lab.vip4, 1)
        #expect(lab.state(1, "web") == "Master")
        #expect(allDrops(lab, 1).isEmpty, "vipd dropped keepalived's packets: \(allDrops(lab, 1))")
    }

    /// Every packet vipd sends dissects as VRRP in tshark, checksum good, no malformed or expert
    /// flags: v3 IPv4 multicast and unicast, v3 IPv6, v2 with a password; and v3_checksum_as_v2
    /// packets are good exactly under tshark's `vrrp.v3_checksum_as_in_v2` preference.
    @Test func everyPacketVipdSendsDissectsCleanlyInTshark() throws {
        try #require(InteropEnvironment.hasTshark, "tshark is not installed (scripts/deps)")
        let lab = try Lab(routers: 2)
        defer { lab.teardown() }
        func yaml(_ k: Int, _ priority: Int) -> String {
            config(
                instanceYAML(name: "web", vrid: 51, priority: priority, addresses: [Lab.vip4, Lab.vip6]),
                instanceYAML(name: "db", vrid: 52, priority: priority, interval: "1s", addresses: ["192.0.2.101"],
                             extra: "version: 2\nauth_pass: secret12"),
                instanceYAML(name: "uni", vrid: 53, priority: priority, addresses: ["192.0.2.102"],
                             extra: "unicast: { source: 192.0.2.1\(k), peers: [192.0.2.1\(3 - k)] }"),
                instanceYAML(name: "cisco", vrid: 54, priority: priority, addresses: ["192.0.2.103"],
                             extra: "v3_checksum_as_v2: true"))
        }
        try lab.start(1, config: yaml(1, 200))
        try lab.start(2, config: yaml(2, 100))
        lab.expectSoleHolder(Lab.vip4, 1)
        let r1LinkLocal = try #require(lab.linkLocal(lab.ns(1)))
        let file = "\(lab.workdir)/vrrp.pcapng"
        let capture = try #require(captureVRRP(lab, seconds: 4, file: file))
        let done = waitUntil(20) { !capture.isRunning }
        if !done { capture.terminate() }
        capture.waitUntilExit()
        try #require(done, "tshark did not stop after 4 s")

        let standard = dissectVRRP(file)
        let fromR1 = standard.filter { $0.source == lab.routerAddress(1) || $0.source == r1LinkLocal }
        // Good (1) under the default preferences: v3 with the pseudo-header, IPv6, v2.
        let kinds: [(String, (DissectedPacket) -> Bool)] = [
            ("v3 IPv4 multicast", { $0.vrid == 51 && $0.version == 3 && $0.source == lab.routerAddress(1) }),
            ("v3 IPv6", { $0.vrid == 51 && $0.version == 3 && $0.source == r1LinkLocal }),
            ("v2 password", { $0.vrid == 52 && $0.version == 2 }),
            ("v3 IPv4 unicast", { $0.vrid == 53 && $0.version == 3 }),
        ]
        for (kind, matches) in kinds {
            let packets = fromR1.filter(matches)
            #expect(!packets.isEmpty, "no \(kind) packets from r1 in the capture: \(standard.count) dissected")
            for p in packets {
                #expect(p.checksumStatus == "1" && !p.malformed && p.expertMessages.isEmpty,
                        "\(kind): checksum status \(p.checksumStatus), malformed \(p.malformed), expert '\(p.expertMessages)'")
            }
        }
        // v3_checksum_as_v2: bad under the default preference, good with vrrp.v3_checksum_as_in_v2.
        let cisco = fromR1.filter { $0.vrid == 54 }
        #expect(!cisco.isEmpty, "no v3_checksum_as_v2 packets from r1 in the capture")
        #expect(cisco.allSatisfy { $0.checksumStatus == "0" }, "message-only checksums should fail the pseudo-header check: \(cisco.map(\.checksumStatus))")
        let asV2 = dissectVRRP(file, preferences: ["vrrp.v3_checksum_as_in_v2:TRUE"]).filter {
            $0.vrid == 54 && $0.source == lab.routerAddress(1)
        }
        #expect(!asV2.isEmpty && asV2.allSatisfy { $0.checksumStatus == "1" && !$0.malformed && $0.expertMessages.isEmpty },
                "v3_checksum_as_v2 packets under vrrp.v3_checksum_as_in_v2:TRUE: \(asV2.map { ($0.checksumStatus, $0.expertMessages) })")
    }
}
