// Kernel parameters under /proc/sys, and the ones a virtual-MAC interface needs.
import Glibc
import VRRP

public enum Sysctl {
    /// /proc/sys path for a dotted or slashed key (`net.ipv4.conf.eth0.arp_ignore`). Interface names
    /// may contain dots (`vrrp.51`), so callers pass path components instead of a dotted string.
    public static func path(_ components: [String]) -> String {
        "/proc/sys/" + components.joined(separator: "/")
    }

    public static func read(_ components: [String]) throws(SystemError) -> String {
        let p = path(components)
        let fd = try syscall("open(\(p))") { open(p, O_RDONLY | O_CLOEXEC) }
        defer { closeDescriptor(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = try syscall("read(\(p))") { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmingTrailingNewlines()
    }

    /// Writes a value. Writing under /proc/sys/net needs CAP_NET_ADMIN in the namespace's user ns
    /// (and /proc/sys mounted writable).
    public static func write(_ components: [String], _ value: String) throws(SystemError) {
        let p = path(components)
        let fd = try syscall("open(\(p))", needs: .netAdmin) { open(p, O_WRONLY | O_CLOEXEC) }
        defer { closeDescriptor(fd) }
        let bytes = Array((value + "\n").utf8)
        try syscall("write(\(p))", needs: .netAdmin) { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
    }
}

/// One sysctl setting: what to write, and why.
public struct SysctlSetting: Hashable, Sendable {
    public var components: [String]
    public var value: String
    public var reason: String

    public init(_ components: [String], _ value: String, reason: String) {
        self.components = components; self.value = value; self.reason = reason
    }
    public var key: String { components.joined(separator: ".") }
}

extension VirtualMAC {
    /// The settings keepalived 2.2.7 applies with `use_vmac` (observed in a namespace lab; see
    /// docs/linux-plane.md). An IPv6 VMAC needs none: it answers ND for its own addresses only.
    public static func sysctlSettings(parent: String, vmac: String, family: AddressFamily) -> [SysctlSetting] {
        // No automatic link-local: it would be derived from the virtual MAC and so be identical on
        // every router of the VRID, failing DAD (keepalived sets addrgenmode none too). Set while
        // the new link is still down, before any address is generated.
        let addrGenNone = SysctlSetting(["net", "ipv6", "conf", vmac, "addr_gen_mode"], "1",
                                        reason: "no link-local address derived from the shared virtual MAC")
        guard family == .ipv4 else { return [addrGenNone] }
        return [
            addrGenNone,
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_ignore"], "1",
                          reason: "the parent must not answer ARP for the VIP (configured on the VMAC) with its own MAC"),
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_announce"], "2",
                          reason: "ARP requests the parent sends (replies from the VIP leave through it) must not carry the VIP as sender, or neighbours learn the VIP at the parent's MAC"),
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_filter"], "1",
                          reason: "answer ARP only on the interface the kernel would route the reply out of"),
            SysctlSetting(["net", "ipv4", "conf", vmac, "arp_ignore"], "1",
                          reason: "the VMAC answers ARP only for its own addresses (the VIPs)"),
            SysctlSetting(["net", "ipv4", "conf", vmac, "accept_local"], "1",
                          reason: "packets from a local source address (the parent's) arriving on the VMAC are accepted"),
            SysctlSetting(["net", "ipv4", "conf", vmac, "rp_filter"], "0",
                          reason: "the VMAC has no route back to senders (the subnet route is on the parent); strict reverse-path filtering would drop their packets"),
            SysctlSetting(["net", "ipv6", "conf", vmac, "disable_ipv6"], "1",
                          reason: "an IPv4 VMAC carries no IPv6 (keepalived does the same)"),
        ]
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
