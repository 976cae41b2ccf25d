// Routed VIPs and anycast, wired (docs/routed.md "vipd's side"). The decisions are VRRPNode's
// (`RoutedRelease`, `Anycast`); here:
// - `announce: route`: the addresses go on `route.device` (host addresses, scope global, so that
//   the routing daemon's `redistribute connected` sees them) instead of `interface`; no ARP or NA is
//   sent. Crash leftovers on the device are removed at start like any VIP's (startInstance), and
//   every exit path removes what is held (finish). VRRP still runs on `interface`.
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
}
