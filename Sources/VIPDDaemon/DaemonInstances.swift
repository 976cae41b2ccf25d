// Instances → routers: resolving interfaces, crash leftovers, primary addresses, VRRP sockets.

import VIPDConfig
import VIPDLinux
import VRRP
import VRRPNode

extension Daemon {
    private func resolveInterface(_ name: String) throws -> LinkInfo {
        do { return try plane.interface(named: name) } catch {
            throw DaemonError.startup("interface \(name): \(error)")
        }
    }

    /// Creates the routers of one instance (not yet started).
    func startInstance(_ instance: InstanceConfig) throws {
        let link = try resolveInterface(instance.interface)
        if hookQueues[instance.name] == nil {
            let queue = HookQueue(children: children) { [unowned self] invocation, outcome in
                self.logger.warning("notify hook \(invocation.arguments.first ?? "") \(outcome)",
                                     metadata: ["instance": "\(instance.name)"])
                self.metrics.hookFailure(instance: instance.name)
            }
            queue.onIdle = { [unowned self] in self.checkStopped() }
            hookQueues[instance.name] = queue
        }
        for family in instance.families {
            var addressIndex = link.index
            var addressName = link.name
            var mac = link.mac
            if instance.virtualMAC {
                let vmac = VirtualMAC.address(vrid: instance.vrid, family: family)
                // One macvlan per family: the IPv4 and IPv6 virtual MACs differ (RFC 9568 §7.3).
                let name = family == .ipv4 ? VirtualMAC.defaultInterfaceName(vrid: instance.vrid) : "vrrp6.\(instance.vrid)"
                addressIndex = try ensureMacvlan(name: name, parent: link, mac: vmac)
                addressName = name
                mac = vmac
            }
            if let device = try routeDevice(for: instance) {
                addressIndex = device.index
                addressName = device.name
            }
            let owner = RouterConfig.isAddressOwner(priority: instance.priority)
            // Crash leftovers: a previous run may have died holding the addresses. The address
            // owner's addresses are its own and stay.
            if !owner {
                for prefix in instance.addresses(of: family) {
                    try? plane.removeAddress(prefix, interfaceIndex: addressIndex)
                    if instance.route != nil { try? plane.removeLocalRoute(prefix.address, interfaceIndex: addressIndex) }
                }
            }
            if family == .ipv4 && !owner && instance.runsVRRP {
                // A VIP may be an address owner's real address (RFC 9568 §1). While we hold it, the
                // kernel drops the owner's advertisements as coming from a local source (a martian),
                // so we would never hear the owner return. accept_local lets them through.
                do { try sysctls.apply([Self.acceptLocal(link.name)]) } catch {
                    logger.warning("could not set accept_local on \(link.name) (an address owner's return could go unheard): \(error)")
                }
            }
            // An anycast instance sends and hears nothing: no primary address, no socket.
            let primary = instance.runsVRRP ? try primaryAddress(for: instance, family: family, link: link) : nil
            let key = RouterKey(instance: instance.name, family: family)
            let runtime = RouterRuntime(
                key: key, instance: instance,
                router: Router(config: instance.routerConfig(family: family, primaryAddress: primary ?? placeholderAddress(family))),
                interfaceIndex: link.index, interfaceName: link.name,
                addressInterfaceIndex: addressIndex, addressInterfaceName: addressName, announceMAC: mac)
            // Not started yet: the core only records these, and starts in Fault while any is set.
            if primary == nil && instance.runsVRRP { setFault(runtime, .noAddress(family, interface: link.name), active: true) }
            if !link.isOperational { setFault(runtime, .linkDown(interface: link.name), active: true) }
            refreshUnicastTTLCheck(runtime, announce: true)
            if let primary { try openSocket(for: runtime, source: primary) }
            if instance.runsVRRP {
                metrics.setPriority(instance: instance.name, family: family, configured: instance.priority, effective: instance.priority)
            }
            metrics.setState(instance: instance.name, family: family, state: .initialize)
            runtime.metricHandles = metrics.routerHandles(instance: instance.name, family: family)
            routers.append(runtime)
        }
        startTrackers(instance)
    }

    /// RFC 9568 §1: a VIP may be an address owner's real address; see startInstance.
    static func acceptLocal(_ interface: String) -> SysctlSetting {
        SysctlSetting(["net", "ipv4", "conf", interface, "accept_local"], "1",
                      reason: "the address owner's advertisements come from an address we hold while Master")
    }

    /// An address that can never be a peer's, used while the interface has no usable address
    /// (the router is held in Fault until one appears).
    func placeholderAddress(_ family: AddressFamily) -> IPAddress {
        family == .ipv4 ? .v4(IPv4Address(0)) : .v6(IPv6Address(high: 0, low: 0))
    }

    func primaryAddress(for instance: InstanceConfig, family: AddressFamily, link: LinkInfo) throws -> IPAddress? {
        if let unicast = instance.unicast, unicast.source.family == family { return unicast.source }
        // A VIP that may be released is no primary address. The address owner's own virtual
        // addresses are real interface addresses (RFC 9568 §1, "IPvX Address Owner"), so they are.
        let owned = RouterConfig.isAddressOwner(priority: instance.priority) ? Set(instance.addresses.map(\.address)) : []
        let configured = configuredAddresses
        func ours(_ address: IPAddress) -> Bool { configured.contains(address) && !owned.contains(address) }
        do {
            switch family {
            case .ipv4:
                let candidates = try plane.addresses(interfaceIndex: link.index)
                    .filter { $0.prefix.family == .ipv4 && !$0.isSecondary && !ours($0.prefix.address) }
                return candidates.first.map(\.prefix.address)
            case .ipv6:
                return try plane.linkLocalIPv6(interfaceIndex: link.index).map { .v6($0) }
            }
        } catch {
            throw DaemonError.startup("\(link.name): \(error)")
        }
    }

    /// The router's VRRP socket: on its interface, or on its macvlan with a virtual MAC, so that
    /// advertisements carry the virtual MAC as source (RFC 9568 §7.3) and switches keep learning it;
    /// a unicast router's stays on its interface, where its peers' adverts arrive
    /// (`RouterRuntime.socketInterfaceIndex`).
    func openSocket(for runtime: RouterRuntime, source: IPAddress) throws {
        let key = SocketKey(interfaceIndex: runtime.socketInterfaceIndex, family: runtime.key.family, source: source)
        runtime.socketKey = key
        defer { reindexRouters() }
        guard sockets[key] == nil else { return }
        do {
            sockets[key] = try plane.openVRRPSocket(
                family: key.family, interfaceName: runtime.socketInterfaceName, interfaceIndex: key.interfaceIndex,
                source: source) { [unowned self] packets in self.readPackets(packets, on: key) }
        } catch {
            throw DaemonError.startup("VRRP socket on \(runtime.interfaceName) (\(key.family)): \(error)")
        }
    }

    func startRouter(_ runtime: RouterRuntime) {
        guard !runtime.started else { return }
        runtime.started = true
        feed(runtime, .start)
    }
}
