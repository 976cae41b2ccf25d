// Virtual MACs (RFC 9568 §7.3): a macvlan per family carrying the virtual MAC, and the sysctls
// that make it work.

import VIPDLinux
import VRRP

extension Daemon {
    func ensureMacvlan(name: String, parent: LinkInfo, mac: [UInt8]) throws -> Int32 {
        if let existing = try? netlink.interface(named: name) {
            guard existing.mac == mac else {
                throw DaemonError.startup("interface \(name) exists with another MAC; remove it or disable virtual_mac")
            }
            createdMacvlans[name] = existing.index
            return existing.index
        }
        do {
            let family: AddressFamily = mac == VirtualMAC.address(vrid: mac[5], family: .ipv4) ? .ipv4 : .ipv6
            let index = try netlink.createMacvlan(name: name, parentIndex: parent.index, mac: mac, mode: .private)
            createdMacvlans[name] = index
            if family == .ipv4 { try keepReversePathFilteringPerInterface() }
            // Previous values come back on exit (the parent's matter; the macvlan's go with it).
            restoreSysctls += try Sysctl.apply(VirtualMAC.sysctlSettings(parent: parent.name, vmac: name, family: family))
            if family == .ipv6, let linkLocal = try netlink.linkLocalIPv6(interfaceIndex: parent.index) {
                // Adverts and NAs leave through the macvlan with the parent's link-local as source
                // (keepalived does the same); the kernel generates none for it (addrgenmode none).
                try netlink.addAddress(AddressPrefix(address: .v6(linkLocal), prefixLength: 64), interfaceIndex: index)
            }
            try netlink.setLink(index: index, up: true)
            return index
        } catch {
            throw DaemonError.startup("virtual_mac \(name) on \(parent.name): \(error)")
        }
    }

    /// With `net.ipv4.conf.all.rp_filter` above 0 a VMAC's `rp_filter=0` has no effect and clients
    /// can't reach the VIP: move `all`'s value onto `default` and every interface, then clear `all`
    /// (keepalived does the same). Once per run, before the first IPv4 VMAC; undone on exit.
    private func keepReversePathFilteringPerInterface() throws {
        guard !reversePathFilterMoved else { return }
        reversePathFilterMoved = true
        let conf = ["net", "ipv4", "conf"]
        var interfaces: [String: Int] = [:]
        for link in try netlink.links() {
            if let value = Sysctl.integer(conf + [link.name, "rp_filter"]) { interfaces[link.name] = value }
        }
        let settings = VirtualMAC.reversePathSettings(all: Sysctl.integer(conf + ["all", "rp_filter"]),
                                                      defaultValue: Sysctl.integer(conf + ["default", "rp_filter"]),
                                                      interfaces: interfaces)
        guard let last = settings.last else { return }
        restoreSysctls += try Sysctl.apply(settings)
        logger.notice("\(last.reason) (all restored on exit)", metadata: [
            "raised": "\(settings.dropLast().map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
        ])
    }
}
