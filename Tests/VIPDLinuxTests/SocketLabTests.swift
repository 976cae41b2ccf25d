// Kernel tests of VRRPSocket and Announcer: packets and frames between namespaces.
import Foundation
import Testing

extension NamespaceLab {
@Suite(.serialized) struct SocketLabTests {
    /// a/eth0 192.0.2.1/24 ↔ b/eth0 192.0.2.2/24, IPv6 DAD finished.
    static func pair(_ lab: Lab) throws -> (a: String, b: String) {
        let a = try lab.namespace("a"), b = try lab.namespace("b")
        try lab.veth(a, "eth0", b, "eth0")
        try run(["ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "eth0"])
        try run(["ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "eth0"])
        try lab.waitForDAD(a); try lab.waitForDAD(b)
        return (a, b)
    }

    static func linkLocal(_ ns: String) throws -> String {
        let key = try #require(try ipAddresses(ns, "eth0").keys.first { $0.hasPrefix("fe80:") })
        return String(key.split(separator: "/")[0])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var family: String
        var unicastTo: String?
        var testDescription: String { "IPv\(family) " + (unicastTo.map { "unicast to \($0)" } ?? "multicast") }
    }

    @Test(arguments: [Case(family: "4", unicastTo: nil), Case(family: "6", unicastTo: nil),
                      Case(family: "4", unicastTo: "192.0.2.2")])
    func advertReachesTheOtherNamespace(_ c: Case) throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, b) = try Self.pair(lab)
        let payload = "3133c8010064aabbc0000264"
        let receiver = try lab.background(b, ["vrrp-recv", "--ifname", "eth0", "--family", c.family,
                                              "--count", "1", "--timeout-ms", "8000"])
        try #require(receiver.waitFor { $0["ready"] as? Bool == true }, "receiver did not start")
        var send = ["vrrp-send", "--ifname", "eth0", "--family", c.family, "--hex", payload]
        if let to = c.unicastTo { send += ["--to", to] }
        try lab.probe(a, send)
        try #require(receiver.waitFor { $0["payload"] != nil }, "nothing received")
        let packet = try #require(receiver.objects.first { $0["payload"] != nil })
        #expect(packet["payload"] as? String == payload)
        #expect(packet["hopLimit"] as? Int == 255)
        #expect(packet["fromSelf"] as? Bool == false)
        let expectedSource = c.family == "4" ? "192.0.2.1" : try Self.linkLocal(a)
        #expect(packet["source"] as? String == expectedSource)
        let expectedDestination = c.unicastTo ?? (c.family == "4" ? "224.0.0.18" : "ff02::12")
        #expect(packet["destination"] as? String == expectedDestination)
    }

    /// With a VMAC, adverts go out of the VMAC so their source MAC is the virtual one (RFC 9568 §7.3),
    /// still from the parent's primary IPv4 / the parent's link-local copied onto the VMAC (nodad),
    /// as keepalived does.
    @Test(arguments: ["4", "6"])
    func advertFromVirtualMAC(family: String) throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, b) = try Self.pair(lab)
        let vrid = family == "4" ? "51" : "52"
        try lab.probe(a, ["macvlan-create", "--parent", "eth0", "--vrid", vrid, "--family", family])
        let source: String
        if family == "4" {
            source = "192.0.2.1"
        } else {
            source = try Self.linkLocal(a)
            try lab.probe(a, ["addr-add", "--ifname", "vrrp.\(vrid)", "--prefix", source + "/64"])
        }
        let capture = try lab.backgroundCommand(b, ["tcpdump", "-i", "eth0", "-n", "-e", "-l", "-c", "1", "ip proto 112 or ip6 proto 112"])
        let listening = waitUntil(timeout: 5) { capture.errorOutput.contains("listening on") }
        try #require(listening, "tcpdump did not start")
        let receiver = try lab.background(b, ["vrrp-recv", "--ifname", "eth0", "--family", family, "--count", "1", "--timeout-ms", "8000"])
        try #require(receiver.waitFor { $0["ready"] as? Bool == true }, "receiver did not start")
        try lab.probe(a, ["vrrp-send", "--ifname", "vrrp.\(vrid)", "--family", family, "--source", source,
                          "--hex", "31\(String(UInt8(vrid)!, radix: 16))640100640000"])
        try #require(receiver.waitFor { $0["payload"] != nil }, "nothing received")
        #expect(receiver.objects.first { $0["payload"] != nil }?["source"] as? String == source)
        let mac = family == "4" ? "00:00:5e:00:01:33 > 01:00:5e:00:00:12" : "00:00:5e:00:02:34 > 33:33:00:00:00:12"
        let captured = waitUntil(timeout: 5) { capture.output.contains(mac) }
        #expect(captured, "captured: \(capture.output)")
    }

    /// Packets whose source the owner declared its own are flagged, others not.
    @Test func flagsPacketsFromOwnAddresses() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, b) = try Self.pair(lab)
        let receiver = try lab.background(b, ["vrrp-recv", "--ifname", "eth0", "--family", "4", "--count", "1",
                                              "--timeout-ms", "8000", "--self", "192.0.2.1"])
        try #require(receiver.waitFor { $0["ready"] as? Bool == true }, "receiver did not start")
        try lab.probe(a, ["vrrp-send", "--ifname", "eth0", "--family", "4", "--hex", "3101640100640000c0000264"])
        try #require(receiver.waitFor { $0["payload"] != nil }, "nothing received")
        #expect(receiver.objects.first { $0["payload"] != nil }?["fromSelf"] as? Bool == true)
    }

    /// A packet sent with a TTL/hop limit below 255 (by python3, not by us) is reported with its
    /// real value, so the daemon can drop it (RFC 9568 §7.1).
    @Test(arguments: ["4", "6"])
    func reportsTheRealHopLimit(family: String) throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, b) = try Self.pair(lab)
        let receiver = try lab.background(b, ["vrrp-recv", "--ifname", "eth0", "--family", family,
                                              "--count", "1", "--timeout-ms", "8000"])
        try #require(receiver.waitFor { $0["ready"] as? Bool == true }, "receiver did not start")
        let script = family == "4" ? """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 7)
            s.sendto(bytes.fromhex("3101640100640000c0000264"), ("224.0.0.18", 0))
            """ : """
            import socket
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 9)
            s.sendto(bytes.fromhex("3101640100640000"), ("ff02::12", 0, 0, socket.if_nametoindex("eth0")))
            """
        try lab.exec(a, ["python3", "-c", script])
        try #require(receiver.waitFor { $0["payload"] != nil }, "nothing received")
        let packet = try #require(receiver.objects.first { $0["payload"] != nil })
        #expect(packet["hopLimit"] as? Int == (family == "4" ? 7 : 9))
    }

    /// Packets the kernel drops because the socket's queue is full are reported with the next
    /// packet queued (SO_RXQ_OVFL, `ReceivedPacket.droppedBefore`): a receiver with a small queue
    /// (SO_RCVBUF 16 KiB) that reads nothing while 5,000 adverts arrive, then a last one after it
    /// has read the queue empty, accounts for every packet sent, read or dropped.
    @Test func reportsPacketsTheKernelDropped() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, b) = try Self.pair(lab)
        let flood = 5_000
        let receiver = try lab.background(b, ["vrrp-recv", "--ifname", "eth0", "--family", "4", "--summary",
                                              "--rcvbuf", "16384", "--hold-ms", "3000", "--timeout-ms", "15000"])
        try #require(receiver.waitFor { $0["ready"] as? Bool == true }, "receiver did not start")
        let backlogBefore = try Self.backlogDrops()
        try lab.exec(a, ["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            for _ in range(\(flood)):
                s.sendto(bytes.fromhex("3101640100640000c0000264"), ("224.0.0.18", 0))
            """])
        try #require(receiver.waitFor(timeout: 30) { $0["drained"] != nil }, "receiver did not drain")
        try lab.probe(a, ["vrrp-send", "--ifname", "eth0", "--family", "4", "--hex", "3101640100640000c0000264"])
        try #require(receiver.waitFor(timeout: 40) { $0["received"] != nil }, "no summary")
        let summary = try #require(receiver.objects.first { $0["received"] != nil })
        let received = try #require(summary["received"] as? Int), dropped = try #require(summary["dropped"] as? Int)
        // Frames the kernel dropped before the socket (its input backlog, machine-wide) are not
        // the socket's to report.
        let elsewhere = try Self.backlogDrops() - backlogBefore
        #expect(dropped > 0, "received \(received), dropped \(dropped)")
        #expect(received + dropped <= flood + 1)
        #expect(received + dropped >= flood + 1 - elsewhere, "received \(received), dropped \(dropped), backlog drops \(elsewhere)")
    }

    /// /proc/net/softnet_stat's drop column, summed over the CPUs.
    static func backlogDrops() throws -> Int {
        try String(contentsOfFile: "/proc/net/softnet_stat", encoding: .utf8).split(separator: "\n")
            .compactMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0, radix: 16) } }.reduce(0, +)
    }

    /// Topology for announcements: switch namespace with a bridge, the announcer r1 and a client c
    /// whose neighbour table holds a stale entry for the VIP with another MAC.
    static func switched(_ lab: Lab) throws -> (r1: String, c: String, r1MAC: String) {
        let sw = try lab.namespace("sw"), r1 = try lab.namespace("r1"), c = try lab.namespace("c")
        try run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        try run(["ip", "-n", sw, "link", "set", "br0", "up"])
        try lab.veth(sw, "p1", r1, "eth0")
        try lab.veth(sw, "p2", c, "eth0")
        for p in ["p1", "p2"] { try run(["ip", "-n", sw, "link", "set", p, "master", "br0"]) }
        try run(["ip", "-n", r1, "addr", "add", "192.0.2.1/24", "dev", "eth0"])
        try run(["ip", "-n", c, "addr", "add", "192.0.2.3/24", "dev", "eth0"])
        try run(["ip", "-n", c, "addr", "add", "2001:db8::3/64", "dev", "eth0", "nodad"])
        try run(["ip", "-n", r1, "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad"])
        // Neighbour entries are locked against override for `locktime` (1 s) after an update; the
        // test sets the stale entry just before announcing, so lift the lock in the client.
        try lab.exec(c, ["sysctl", "-q", "-w", "net.ipv4.neigh.eth0.locktime=0"])
        try lab.exec(c, ["sysctl", "-q", "-w", "net.ipv6.neigh.eth0.locktime=0"])
        let link = try #require(try lab.probe(r1, ["link", "--ifname", "eth0"]).objects.first?["link"] as? [String: Any])
        return (r1, c, try #require(link["mac"] as? String))
    }

    static func neighbour(_ ns: String, _ address: String) throws -> String? {
        let out = try run(["ip", "-n", ns, "-j", "neigh", "show", "dev", "eth0", "to", address]).stdout
        let entries = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        return entries.first?["lladdr"] as? String
    }

    @Test(arguments: [("garp", "192.0.2.100"), ("na", "2001:db8::100")])
    func announcementUpdatesNeighbourCache(kind: String, vip: String) throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (r1, c, r1MAC) = try Self.switched(lab)
        try lab.waitForDAD(r1); try lab.waitForDAD(c)
        let stale = "02:00:00:00:99:99"
        try run(["ip", "-n", c, "neigh", "replace", vip, "lladdr", stale, "dev", "eth0", "nud", "stale"])
        #expect(try Self.neighbour(c, vip) == stale)
        try run(["ip", "-n", r1, "addr", "add", vip + (kind == "garp" ? "/24" : "/64"), "dev", "eth0", "nodad"])
        let sent = try lab.probe(r1, [kind, "--ifname", "eth0", "--address", vip, "--count", "3"])
        #expect(sent.objects.first?["sent"] as? Int == 3)
        let updated = try waitUntil(timeout: 5) { try Self.neighbour(c, vip) == r1MAC }
        let now = try Self.neighbour(c, vip)
        #expect(updated, "the client's neighbour entry for \(vip) still says \(now ?? "nothing")")
    }

    /// With a virtual MAC the announcement carries it, so clients point the VIP at the VMAC.
    @Test func garpWithVirtualMAC() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (r1, c, _) = try Self.switched(lab)
        let vip = "192.0.2.100"
        try run(["ip", "-n", c, "neigh", "replace", vip, "lladdr", "02:00:00:00:99:99", "dev", "eth0", "nud", "stale"])
        try lab.probe(r1, ["macvlan-create", "--parent", "eth0", "--vrid", "51", "--family", "4", "--sysctls", "yes"])
        try lab.probe(r1, ["addr-add", "--ifname", "vrrp.51", "--prefix", "192.0.2.100/24"])
        try lab.probe(r1, ["garp", "--ifname", "vrrp.51", "--address", vip])
        #expect(try waitUntil(timeout: 5) { try Self.neighbour(c, vip) == "00:00:5e:00:01:33" })
    }
}
}
