import Testing
@testable import VIPDDaemon
import VIPDConfig
import VRRP

/// Which reloaded changes restart an instance (its VIP may move) and which are applied in place.
@Suite struct ReloadIdentityTests {
    func instance(peers: [String] = ["192.0.2.12"], ttlCheck: Bool? = nil) -> InstanceConfig {
        var instance = InstanceConfig(name: "uni", interface: "eth0", vrid: 53, addresses: [AddressPrefix("192.0.2.102/24")!])
        instance.unicast = UnicastConfig(source: IPAddress("192.0.2.11")!, peers: peers.map { IPAddress($0)! }, ttlCheck: ttlCheck)
        return instance
    }

    @Test("unicast.ttl_check changes in place: it only filters what is received")
    func ttlCheckIsNotIdentity() {
        for (a, b) in [(nil, true), (true, false), (false, nil)] as [(Bool?, Bool?)] {
            #expect(!Daemon.identityChanged(instance(ttlCheck: a), instance(ttlCheck: b)))
            #expect(instance(ttlCheck: a) != instance(ttlCheck: b))
        }
    }

    @Test("unicast peers and source still restart the instance")
    func peersAreIdentity() {
        #expect(Daemon.identityChanged(instance(), instance(peers: ["192.0.2.13"])))
        var moved = instance()
        moved.unicast?.source = IPAddress("192.0.2.21")!
        #expect(Daemon.identityChanged(instance(), moved))
        var multicast = instance()
        multicast.unicast = nil
        #expect(Daemon.identityChanged(instance(), multicast))
    }
}
