// Link and address events: interfaces going down or away, VIPs removed by someone else, primary
// addresses appearing; faults set and cleared.

import VIPDLinux
import VRRP
import VRRPNode

extension Daemon {
    func readLinkEvents(_ result: Result<[LinkEvent], any Error>) {
        let events: [LinkEvent]
        do { events = try result.get() } catch {
            logger.error("link monitor: \(error)")
            return
        }
        for event in events { handle(event) }
    }

    func handle(_ event: LinkEvent) {
        switch event {
        case .linkChanged(let link), .linkAppeared(let link):
            for runtime in routers where runtime.interfaceName == link.name {
                if runtime.interfaceIndex != link.index {
                    // The interface came back with a new index: follow it.
                    runtime.interfaceIndex = link.index
                    if !runtime.instance.virtualMAC && runtime.instance.route == nil { runtime.addressInterfaceIndex = link.index }
                    reopenSocket(runtime, link: link)
                }
                setFault(runtime, .linkDown(interface: link.name), active: !link.isOperational)
                setFault(runtime, .interfaceGone(interface: link.name), active: false)
            }
            routeDeviceChanged(link)
            trackedInterfaceChanged(name: link.name, up: link.isOperational)
        case .linkRemoved(let index, let name):
            for runtime in routers where runtime.interfaceIndex == index || runtime.addressInterfaceIndex == index {
                setFault(runtime, .interfaceGone(interface: name), active: true)
            }
            trackedInterfaceChanged(name: name, up: false)
        case .addressRemoved(let address):
            for runtime in routers where runtime.addressInterfaceIndex == address.interfaceIndex
                && runtime.router.holdsAddresses && runtime.addresses.contains(where: { $0.address == address.prefix.address }) {
                // Someone removed a VIP we hold: put it back and count it.
                logger.warning("\(runtime.key): \(address.prefix) was removed from \(runtime.addressInterfaceName) by someone else; restoring it")
                if let prefix = runtime.addresses.first(where: { $0.address == address.prefix.address }) {
                    do {
                        try plane.addAddress(prefix, interfaceIndex: runtime.addressInterfaceIndex)
                        runtime.counters.addressesRestored += 1
                        metrics.addressRestored(instance: runtime.key.instance)
                        sendAnnouncement(runtime, runtime.announcementFrames())
                    } catch {
                        logger.error("restoring \(prefix) failed: \(error)")
                    }
                }
            }
            addressesChanged()
        case .addressAdded, .addressUpdated:
            addressesChanged()
        case .resynchronized:
            logger.warning("link monitor overran; state re-read from the kernel")
        }
    }

    private func reopenSocket(_ runtime: RouterRuntime, link: LinkInfo) {
        if let old = runtime.socketKey, !routers.contains(where: { $0 !== runtime && $0.socketKey == old }), let socket = sockets.removeValue(forKey: old) {
            socket.close()
        }
        runtime.socketKey = nil
        reindexRouters()
        if case let source = runtime.router.config.primaryAddress, source != placeholderAddress(runtime.key.family) {
            do { try openSocket(for: runtime, source: source) } catch {
                logger.error("\(runtime.key): \(error)")
            }
        }
    }

    /// A router started without a usable address gets one when it appears; unicast TTL checks
    /// left to the daemon follow the connected subnets.
    private func addressesChanged() {
        for runtime in routers { refreshUnicastTTLCheck(runtime) }
        for runtime in routers {
            let noAddress = FaultReason.noAddress(runtime.key.family, interface: runtime.interfaceName)
            guard noAddress.isActive(in: runtime.router) else { continue }
            guard let link = try? plane.interface(index: runtime.interfaceIndex),
                  let primary = try? primaryAddress(for: runtime.instance, family: runtime.key.family, link: link) else { continue }
            var routerConfig = runtime.router.config
            routerConfig.primaryAddress = primary
            apply(runtime, runtime.router.reconfigure(routerConfig, now: loop.now()))
            do { try openSocket(for: runtime, source: primary) } catch {
                logger.error("\(runtime.key): \(error)")
                continue
            }
            setFault(runtime, noAddress, active: false)
        }
    }

    /// Raises or clears one fault in the core, which holds the set (also before `.start`: it then
    /// starts in Fault).
    func setFault(_ runtime: RouterRuntime, _ reason: FaultReason, active: Bool) {
        guard let input = reason.change(in: runtime.router, active: active) else { return }
        feed(runtime, input)
    }
}
