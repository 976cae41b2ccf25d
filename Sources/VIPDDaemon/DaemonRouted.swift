// Routed VIPs and anycast, wired (docs/routed.md "vipd's side"). The decisions are VRRPNode's
// (`RoutedRelease`, `Anycast`); here:
// - `announce: route`: the addresses go on `route.device` (host addresses, scope global, so that
//   the routing daemon's `redistribute connected` sees them) instead of `interface`; no ARP or NA is
//   sent. Crash leftovers on the device are removed at start like any VIP's (startInstance), and
//   every exit path removes what is held (finish). VRRP still runs on `interface`.
// - Two-phase release (`RoutedRelease`): the core removes the addresses `release_delay` after the
//   new Master is heard (its route has reached the upstream routers by then). Just before, a local
//   route for each address is added (`holdLocalRoutes`): the address's removal withdraws our route,
//   and until that withdrawal has reached the upstream routers — which keep sending here — the
//   packets are still accepted. `release_delay` later the local routes go. A graceful stop waits
//   for that too (checkStopped); crash leftovers are removed at start, and exit and instance
//   removal drop them at once (`dropLocalRoutes`).
// - `election: none`: no VRRP socket; the core is fed through `Anycast.inputs`, so that it is
//   Master (holding) exactly while no fault — tracking included — is active.

import VIPDConfig
import VIPDLinux
import VRRP
import VRRPNode

extension Daemon {
    /// Where an instance's addresses go when it announces by route: its `route.device`.
    func routeDevice(for instance: InstanceConfig) throws -> LinkInfo? {
        guard let route = instance.route else { return nil }
        do { return try plane.interface(named: route.device) } catch {
            throw DaemonError.startup("route.device \(route.device) of instance \(instance.name): \(error)")
        }
    }

    /// The inputs the core gets for `input`: an anycast instance's are filtered (`Anycast.inputs`).
    func coreInputs(_ runtime: RouterRuntime, _ input: RouterInput) -> [RouterInput] {
        runtime.instance.runsVRRP ? [input] : Anycast.inputs(for: input)
    }

    /// How a state change is explained in logs, status and hooks.
    func describe(_ reason: TransitionReason, _ runtime: RouterRuntime) -> String {
        runtime.instance.runsVRRP ? reason.description : Anycast.describe(reason)
    }

    /// A route device that came back (or changed index): addresses follow it, and its
    /// interface-gone fault clears. The VRRP interface's own events are handled by `handle(_:)`.
    func routeDeviceChanged(_ link: LinkInfo) {
        for runtime in routers where runtime.instance.route?.device == link.name && runtime.interfaceName != link.name {
            runtime.addressInterfaceIndex = link.index
            setFault(runtime, .interfaceGone(interface: link.name), active: false)
        }
    }

    /// Operator requests that belong to an election: anycast routers are left out.
    func electing(_ selected: [RouterRuntime]) -> [RouterRuntime] {
        selected.filter { $0.instance.runsVRRP }
    }

    /// The second release phase: local routes for the addresses about to be removed, dropped
    /// `release_delay` later. Nothing for a VIP on the link or an anycast instance.
    func holdLocalRoutes(_ runtime: RouterRuntime) {
        guard let hold = RoutedRelease.localRouteHold(routeReleaseDelay: runtime.instance.route?.releaseDelay,
                                                      runsVRRP: runtime.instance.runsVRRP) else { return }
        dropLocalRoutes(runtime)
        let index = runtime.addressInterfaceIndex
        var held: [IPAddress] = []
        for prefix in runtime.addresses {
            do {
                try plane.addLocalRoute(prefix.address, interfaceIndex: index)
                held.append(prefix.address)
            } catch {
                logger.warning("adding a local route for \(prefix.address) on \(runtime.addressInterfaceName) failed (its packets are dropped from now on, not in \(hold)): \(error)",
                               metadata: ["router": "\(runtime.key)"])
            }
        }
        guard !held.isEmpty else { return }
        let timer = loop.schedule(after: hold) { [unowned self] in
            runtime.localRoutes?.timer = nil
            self.dropLocalRoutes(runtime)
            if self.stopping { self.checkStopped() }
        }
        runtime.localRoutes = (held, index, timer)
    }

    /// Removes the local routes of the second release phase now.
    func dropLocalRoutes(_ runtime: RouterRuntime) {
        guard let routes = runtime.localRoutes else { return }
        runtime.localRoutes = nil
        loop.cancel(routes.timer)
        for address in routes.addresses {
            do { try plane.removeLocalRoute(address, interfaceIndex: routes.interfaceIndex) } catch {
                logger.error("removing the local route for \(address) failed: \(error)", metadata: ["router": "\(runtime.key)"])
            }
        }
    }
}
