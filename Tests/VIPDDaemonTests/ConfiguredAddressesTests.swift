import Logging
import Testing
@testable import VIPDDaemon
import VIPDConfig
import VRRP

/// The addresses every instance names, which `primaryAddress` keeps out of the primary-address
/// choice: built once per configuration, and built again after any change of it (reload).
@Suite struct ConfiguredAddressesTests {
    static func instance(_ name: String, vrid: UInt8, _ prefixes: [String]) -> InstanceConfig {
        InstanceConfig(name: name, interface: "eth0", vrid: vrid, addresses: prefixes.map { AddressPrefix($0)! })
    }

    static func daemon(_ instances: [InstanceConfig]) throws -> Daemon {
        Daemon(configPath: "/nonexistent/vipd.yaml", config: VIPDConfiguration(instances: instances),
               logger: Logger(label: "configured-addresses-test"), plane: try LinuxDataPlane())
    }

    static func addresses(_ texts: [String]) -> Set<IPAddress> { Set(texts.map { IPAddress($0)! }) }

    @Test("every instance's addresses, both families")
    func everyInstance() throws {
        let daemon = try Self.daemon([Self.instance("a", vrid: 1, ["192.0.2.100/24", "2001:db8::100/64"]),
                                      Self.instance("b", vrid: 2, ["198.51.100.7/32"])])
        #expect(daemon.configuredAddresses == Self.addresses(["192.0.2.100", "2001:db8::100", "198.51.100.7"]))
    }

    @Test("a changed configuration is read again: instances added, removed, addresses changed")
    func followsTheConfiguration() throws {
        let daemon = try Self.daemon([Self.instance("a", vrid: 1, ["192.0.2.100/24"])])
        #expect(daemon.configuredAddresses == Self.addresses(["192.0.2.100"]))
        daemon.config.instances.append(Self.instance("b", vrid: 2, ["203.0.113.9/32"]))
        #expect(daemon.configuredAddresses == Self.addresses(["192.0.2.100", "203.0.113.9"]))
        daemon.config.instances[0].addresses = [AddressPrefix("192.0.2.101/24")!]
        #expect(daemon.configuredAddresses == Self.addresses(["192.0.2.101", "203.0.113.9"]))
        daemon.config.instances.removeLast()
        #expect(daemon.configuredAddresses == Self.addresses(["192.0.2.101"]))
    }
}
