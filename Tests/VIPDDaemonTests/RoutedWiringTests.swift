import Testing
@testable import VIPDDaemon
import VIPDConfig
import VRRP

/// Routed VIPs and anycast in the daemon's wiring: what a reload restarts, what status shows.
@Suite struct RoutedWiringTests {
    func routed(device: String = "lo", delay: Duration = .seconds(1)) -> InstanceConfig {
        var instance = InstanceConfig(name: "api", interface: "eth0", vrid: 60, addresses: [AddressPrefix("203.0.113.10/32")!])
        instance.route = RouteConfig(device: device, releaseDelay: delay)
        return instance
    }

    @Test("announce mode, route.device and election restart the instance; release_delay changes in place")
    func identity() {
        var arp = routed()
        arp.route = nil
        #expect(Daemon.identityChanged(routed(), arp))
        #expect(Daemon.identityChanged(routed(), routed(device: "vips0")))
        var anycast = routed()
        anycast.election = .none
        #expect(Daemon.identityChanged(routed(), anycast))
        #expect(!Daemon.identityChanged(routed(), routed(delay: .milliseconds(200))))
    }

    @Test("status text: routed instances name their device, anycast ones show no election details")
    func statusText() {
        let router = RouterStatus(family: "ipv4", state: "Master", configuredPriority: 0, effectivePriority: 0, master: nil,
                                  masterPriority: nil, advertIntervalMs: 40950, addresses: ["203.0.113.53/32"],
                                  holdsAddresses: true, releasing: false, takeoverPending: false, handoverHold: false,
                                  lastTransition: nil, counters: RouterCounters())
        var anycast = InstanceStatus(name: "dns", interface: "eth0", vrid: 0, version: 3, state: "Master", syncGroup: nil,
                                     routers: [router], trackers: [])
        anycast.election = "none"
        anycast.routeDevice = "lo"
        var routedRouter = router
        routedRouter.configuredPriority = 200; routedRouter.effectivePriority = 200; routedRouter.master = "198.51.100.2"
        var routed = InstanceStatus(name: "api", interface: "eth0", vrid: 60, version: 3, state: "Master", syncGroup: nil,
                                    routers: [routedRouter], trackers: [])
        routed.routeDevice = "lo"
        let text = StatusRenderer.render(DaemonStatus(node: nil, pid: 1, configPath: "/etc/vipd/vipd.yaml", uptimeSeconds: 1,
                                                      instances: [anycast, routed], interfaces: []))
        #expect(text.contains("dns: Master  (eth0, election: none, announce: route on lo)\n  ipv4: Master\n"), "\(text)")
        #expect(text.contains("api: Master  (eth0, VRID 60, VRRPv3, announce: route on lo)\n  ipv4: Master  priority 200, master 198.51.100.2"), "\(text)")
    }
}
