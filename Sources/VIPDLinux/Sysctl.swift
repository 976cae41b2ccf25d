// Kernel parameters under /proc/sys, and the ones a virtual-MAC interface needs.
import Glibc
import VIPDSystem
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
        guard family == .ipv4 else { return [] }
        return [
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_ignore"], "1",
                          reason: "the parent must not answer ARP for the VIP (configured on the VMAC) with its own MAC"),
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_filter"], "1",
                          reason: "answer ARP only on the interface the kernel would route the reply out of"),
            // Not set by keepalived 2.2.7 (vipd's addition): replies from the VIP leave through the
            // parent (its subnet route comes first), and an ARP request the parent sends for them
            // would carry sender IP = VIP with the parent's MAC, teaching neighbours the wrong MAC
            // for the VIP. 2 = use the parent's own address in its ARP requests.
            SysctlSetting(["net", "ipv4", "conf", parent, "arp_announce"], "2",
                          reason: "ARP requests from the parent must not announce the VIP with the parent's MAC"),
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

extension VirtualMAC {
    /// What lets an IPv4 VMAC's `rp_filter=0` take effect on a host with `net.ipv4.conf.all.rp_filter`
    /// above 0. The kernel filters with the larger of `conf/all` and the interface's value, so with
    /// `all` strict (1) a VMAC drops clients' packets to the VIP (their reverse route is on the
    /// parent) and the VIP is unreachable. As keepalived 2.2.7 does (`clear_rp_filter`): raise
    /// `default` and every existing interface below `all` to `all`'s value, then set `all` to 0.
    /// Every interface keeps the filtering it had; only the VMAC, set to 0 afterwards, loses it.
    /// Empty when `all` is 0 (or unreadable, `nil`). `interfaces`: name → current `rp_filter`.
    public static func reversePathSettings(all: Int?, defaultValue: Int?, interfaces: [String: Int]) -> [SysctlSetting] {
        guard let all, all > 0 else { return [] }
        let reason = "net.ipv4.conf.all.rp_filter was \(all): set to 0 so that virtual-MAC interfaces can have rp_filter=0; \(all) set on default and on every interface below it instead"
        var settings: [SysctlSetting] = []
        if let defaultValue, defaultValue < all {
            settings.append(SysctlSetting(["net", "ipv4", "conf", "default", "rp_filter"], String(all), reason: reason))
        }
        for (name, value) in interfaces.sorted(by: { $0.key < $1.key }) where value < all && name != "all" && name != "default" {
            settings.append(SysctlSetting(["net", "ipv4", "conf", name, "rp_filter"], String(all), reason: reason))
        }
        settings.append(SysctlSetting(["net", "ipv4", "conf", "all", "rp_filter"], "0", reason: reason))
        return settings
    }
}

extension Sysctl {
    /// A sysctl read as a whole number, `nil` when it can't be read or isn't one.
    public static func integer(_ components: [String]) -> Int? {
        (try? read(components)).flatMap { Int($0) }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }
}

extension Sysctl {
    /// Writes each setting and returns the values they replaced, for restoring on exit
    /// (`apply(returned)`). Stops at the first failure, after restoring what it already changed.
    @discardableResult
    public static func apply(_ settings: [SysctlSetting]) throws(SystemError) -> [SysctlSetting] {
        var previous: [SysctlSetting] = []
        for setting in settings {
            do throws(SystemError) {
                let old = try read(setting.components)
                if old != setting.value { try write(setting.components, setting.value) }
                previous.append(SysctlSetting(setting.components, old, reason: "restore"))
            } catch {
                for p in previous.reversed() { try? write(p.components, p.value) }
                throw error
            }
        }
        return previous
    }
}
