// Kernel tests of RouteNetlink through vipd-netprobe in namespaces this test creates.
import Foundation
import Testing

/// `ip -j addr show dev IF` in `ns` as (local/prefixlen, the JSON object) pairs.
func ipAddresses(_ ns: String, _ ifname: String) throws -> [String: [String: Any]] {
    let out = try run(["ip", "-n", ns, "-j", "addr", "show", "dev", ifname]).stdout
    let links = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
    var result: [String: [String: Any]] = [:]
    for link in links {
        for info in link["addr_info"] as? [[String: Any]] ?? [] {
            if let local = info["local"] as? String, let length = info["prefixlen"] as? Int {
                result["\(local)/\(length)"] = info
            }
        }
    }
    return result
}

extension NamespaceLab {
@Suite(.serialized) struct NetlinkLabTests {
    /// Two namespaces joined by a veth: a/eth0 192.0.2.1/24, b/eth0 192.0.2.2/24.
    static func pair(_ lab: Lab) throws -> (a: String, b: String) {
        let a = try lab.namespace("a"), b = try lab.namespace("b")
        try lab.veth(a, "eth0", b, "eth0")
        try run(["ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "eth0"])
        try run(["ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "eth0"])
        return (a, b)
    }

    @Test func addAndRemoveAddressesIdempotently() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, _) = try Self.pair(lab)
        for _ in 0..<2 {  // the second round proves idempotence: EEXIST is success
            try lab.probe(a, ["addr-add", "--ifname", "eth0", "--prefix", "192.0.2.100/24", "--label", "eth0:vip"])
            try lab.probe(a, ["addr-add", "--ifname", "eth0", "--prefix", "2001:db8::100/64"])
        }
        let added = try ipAddresses(a, "eth0")
        let v4 = try #require(added["192.0.2.100/24"])
        #expect(v4["label"] as? String == "eth0:vip")
        #expect(v4["secondary"] as? Bool == true)
        let v6 = try #require(added["2001:db8::100/64"])
        #expect(v6["nodad"] as? Bool == true)
        #expect(v6["tentative"] == nil)
        for _ in 0..<2 {  // removing what is gone is success too
            try lab.probe(a, ["addr-del", "--ifname", "eth0", "--prefix", "192.0.2.100/24"])
            try lab.probe(a, ["addr-del", "--ifname", "eth0", "--prefix", "2001:db8::100/64"])
        }
        let removed = try ipAddresses(a, "eth0")
        #expect(removed["192.0.2.100/24"] == nil)
        #expect(removed["2001:db8::100/64"] == nil)
        #expect(removed["192.0.2.1/24"] != nil, "removing the VIP must leave the primary address")
    }

    @Test func discoversPrimaryAndLinkLocal() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, _) = try Self.pair(lab)
        // A second address in the same subnet becomes secondary; the primary stays .1.
        try run(["ip", "-n", a, "addr", "add", "192.0.2.50/24", "dev", "eth0"])
        try lab.waitForDAD(a)
        let linkLocal = try #require(try ipAddresses(a, "eth0").keys.first { $0.hasPrefix("fe80:") })
        let result = try #require(try lab.probe(a, ["primary", "--ifname", "eth0"]).objects.first)
        #expect(result["primaryIPv4"] as? String == "192.0.2.1")
        #expect(result["linkLocalIPv6"] as? String == String(linkLocal.split(separator: "/")[0]))

        let link = try #require(try lab.probe(a, ["link", "--ifname", "eth0"]).objects.first?["link"] as? [String: Any])
        #expect(link["kind"] as? String == "veth")
        #expect(link["up"] as? Bool == true)
        #expect(link["carrier"] as? Bool == true)
        let index = try #require(link["index"] as? Int)
        let byIndex = try lab.probe(a, ["link", "--index", String(index)]).objects.first?["link"] as? [String: Any]
        #expect(byIndex?["name"] as? String == "eth0")
        let all = try lab.probe(a, ["links"]).objects.compactMap { ($0["link"] as? [String: Any])?["name"] as? String }
        #expect(Set(all) == ["lo", "eth0"])
    }

    @Test func missingInterfaceIsNamed() throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, _) = try Self.pair(lab)
        let result = try lab.probe(a, ["link", "--ifname", "nosuch0"], check: false)
        #expect(result.status == 1)
        #expect(result.objects.first?["kind"] as? String == "noSuchInterface")
        #expect((result.objects.first?["error"] as? String)?.contains("nosuch0") == true)
        let byIndex = try lab.probe(a, ["link", "--index", "9999"], check: false)
        #expect(byIndex.objects.first?["kind"] as? String == "noSuchInterfaceIndex")
    }

    /// Without CAP_NET_ADMIN (capsh from libcap2-bin drops it) an address change is refused, and the
    /// error says which capability is missing; without CAP_NET_RAW the VRRP socket says so.
    @Test func permissionErrorsNameTheCapability() throws {
        try LabGate.requireRoot(); try requireProbe()
        let capsh = ["/usr/sbin/capsh", "/sbin/capsh"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let capshPath = try #require(capsh, "capsh (libcap2-bin) is needed to drop capabilities")
        let lab = Lab(); defer { lab.cleanup() }
        let (a, _) = try Self.pair(lab)
        // Enter the namespace first (needs CAP_SYS_ADMIN), then drop the capability for the probe.
        let noAdmin = try lab.exec(a, [capshPath, "--drop=cap_net_admin", "--", "-c",
                                       "\(probePath) addr-add --ifname eth0 --prefix 192.0.2.101/24"], check: false)
        #expect(noAdmin.status == 1)
        #expect(noAdmin.objects.first?["kind"] as? String == "permissionDenied")
        #expect((noAdmin.objects.first?["error"] as? String)?.contains("needs CAP_NET_ADMIN") == true)
        #expect(try ipAddresses(a, "eth0")["192.0.2.101/24"] == nil)

        let noRaw = try lab.exec(a, [capshPath, "--drop=cap_net_raw", "--", "-c",
                                     "\(probePath) vrrp-recv --ifname eth0 --family 4 --timeout-ms 10"], check: false)
        #expect(noRaw.status == 1)
        #expect((noRaw.objects.first?["error"] as? String)?.contains("needs CAP_NET_RAW") == true)
    }

    @Test(arguments: [("4", "00:00:5e:00:01:33"), ("6", "00:00:5e:00:02:33")])
    func macvlanCreatedAndRemoved(family: String, mac: String) throws {
        try LabGate.requireRoot(); try requireProbe()
        let lab = Lab(); defer { lab.cleanup() }
        let (a, _) = try Self.pair(lab)
        if family == "4" {
            // Settings are applied and then restored to what they were (0 in a fresh namespace).
            let restored = try lab.probe(a, ["macvlan-create", "--parent", "eth0", "--vrid", "52", "--family", "4",
                                             "--sysctls", "yes", "--restore", "yes"])
            let lines = restored.objects.first?["sysctls"] as? [String] ?? []
            #expect(lines.contains("net.ipv4.conf.eth0.arp_ignore=1"))
            #expect(lines.contains("restored net.ipv4.conf.eth0.arp_ignore=0"))
            #expect(try lab.exec(a, ["cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore"]).stdout == "0\n")
            try lab.probe(a, ["link-delete", "--ifname", "vrrp.52"])
        }
        let created = try lab.probe(a, ["macvlan-create", "--parent", "eth0", "--vrid", "51", "--family", family,
                                        "--mode", "private", "--sysctls", "yes"])
        let link = try #require(created.objects.first?["link"] as? [String: Any])
        #expect(link["name"] as? String == "vrrp.51")
        #expect(link["mac"] as? String == mac)
        #expect(link["kind"] as? String == "macvlan")
        #expect(link["up"] as? Bool == true)

        let detail = try run(["ip", "-n", a, "-d", "-j", "link", "show", "dev", "vrrp.51"]).stdout
        let info = try #require((try JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [[String: Any]])?.first)
        #expect(info["address"] as? String == mac)
        let linkinfo = info["linkinfo"] as? [String: Any]
        #expect((linkinfo?["info_data"] as? [String: Any])?["mode"] as? String == "private")
        #expect(info["inet6_addr_gen_mode"] as? String == "none")
        #expect(info["link"] as? String == "eth0")
        if family == "4" {
            let sysctls = created.objects.first?["sysctls"] as? [String] ?? []
            #expect(sysctls.contains("net.ipv4.conf.eth0.arp_ignore=1"))
            #expect(try lab.exec(a, ["cat", "/proc/sys/net/ipv4/conf/vrrp.51/rp_filter"]).stdout == "0\n")
            #expect(try lab.exec(a, ["cat", "/proc/sys/net/ipv4/conf/vrrp.51/accept_local"]).stdout == "1\n")
            #expect(try lab.exec(a, ["cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore"]).stdout == "1\n")
        }
        // A second create with the same name is reported, not silently reused.
        let again = try lab.probe(a, ["macvlan-create", "--parent", "eth0", "--vrid", "51", "--family", family], check: false)
        #expect(again.objects.first?["kind"] as? String == "interfaceExists")

        try lab.probe(a, ["link-delete", "--ifname", "vrrp.51"])
        let gone = try run(["ip", "-n", a, "link", "show", "dev", "vrrp.51"], check: false)
        #expect(gone.status != 0)
    }
}
}
