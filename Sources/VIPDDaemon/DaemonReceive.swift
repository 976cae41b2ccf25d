// The receive path: VRRP packets read from the sockets, filtered, decoded and fed to their router.

import VIPDLinux
import VRRP
import VRRPNode

extension Daemon {
    func readPackets(_ result: Result<[ReceivedPacket], any Error>, on key: SocketKey) {
        let packets: [ReceivedPacket]
        do { packets = try result.get() } catch {
            logger.warning("receive failed on \(key.interfaceIndex): \(error)")
            return
        }
        for packet in packets { receive(packet, on: key) }
    }

    /// The rules are the node layer's (VRRPNode): this passes the packet's facts in and carries
    /// out what comes back — count a drop, log a checksum-form change, feed the router.
    func receive(_ packet: ReceivedPacket, on key: SocketKey) {
        if packet.isFromSelf { return }
        let facts = PacketFacts(source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit)
        let decoded: DecodedAdvertisement
        switch ReceiveFilter.decode(packet.payload, facts) {
        case .success(let advertisement): decoded = advertisement
        case .failure(let drop):
            countInterfaceDrop(key.interfaceIndex, drop.label)
            return
        }
        let lookup = RouterLookupKey(interfaceIndex: key.interfaceIndex, family: key.family, vrid: decoded.advertisement.vrid)
        guard let runtime = routerIndex[lookup] else {
            countInterfaceDrop(key.interfaceIndex, ReceiveDrop.unknownVRID.label)
            return
        }
        for action in runtime.receiver.receive(decoded, facts, now: authClock(runtime)) {
            switch action {
            case .dropped(let drop):
                countRouterDrop(runtime, drop.label)
            case .checksumFormFollowed(let group, let peer):
                logger.notice("\(runtime.key): unicast peer \(peer) uses the \(group ? "old (group address)" : "standard") VRRPv3 checksum; sending it too")
            case .deliver(let input):
                runtime.counters.advertsReceived += 1
                runtime.metricHandles?.advertsReceived.increment()
                feed(runtime, input)
            }
        }
    }

    /// Rebuilt when routers are added or removed, or an interface changes index.
    func reindexRouters() {
        routerIndex.removeAll(keepingCapacity: true)
        interfaceNames.removeAll(keepingCapacity: true)
        for runtime in routers {
            interfaceNames[runtime.interfaceIndex] = runtime.interfaceName
            interfaceNames[runtime.addressInterfaceIndex] = runtime.addressInterfaceName
            guard let socket = runtime.socketKey else { continue }
            routerIndex[RouterLookupKey(interfaceIndex: socket.interfaceIndex, family: runtime.key.family,
                                        vrid: runtime.instance.vrid)] = runtime
        }
    }

    func countInterfaceDrop(_ interfaceIndex: Int32, _ label: String) {
        countInterfaceDrop(interfaceNames[interfaceIndex] ?? "#\(interfaceIndex)", label)
    }

    func countInterfaceDrop(_ interface: String, _ label: String) {
        interfaceDrops[interface, default: [:]][label, default: 0] += 1
        metrics.dropped(interface: interface, reason: label)
    }

    /// A drop by one virtual router (the node layer's or the core's): in its status counters and
    /// in the metric of its interface.
    func countRouterDrop(_ runtime: RouterRuntime, _ label: String) {
        runtime.counters.drops[label, default: 0] += 1
        metrics.dropped(interface: runtime.interfaceName, reason: label)
    }

    /// Whether a unicast router checks its peers' TTL (`unicast.ttl_check`, or when not set: every
    /// peer inside the subnet of an address on the interface). Called when the router is created
    /// or reconfigured and on every address change; logs when the answer changes (or `announce`).
    func refreshUnicastTTLCheck(_ runtime: RouterRuntime, announce: Bool = false) {
        guard let unicast = runtime.instance.unicast else { return }
        var interfaceAddresses: [AddressPrefix] = []
        if unicast.ttlCheck == nil {
            do { interfaceAddresses = try plane.addresses(interfaceIndex: runtime.interfaceIndex).map(\.prefix) } catch {
                logger.warning("\(runtime.key): reading the addresses of \(runtime.interfaceName) failed (\(error)); keeping the unicast TTL check as it is")
                return
            }
        }
        let enabled = UnicastTTLCheck.enabled(configured: unicast.ttlCheck, peers: unicast.peers, interfaceAddresses: interfaceAddresses)
        guard enabled != runtime.receiver.settings.unicastTTLCheck || announce else { return }
        runtime.receiver.settings.unicastTTLCheck = enabled
        let why = unicast.ttlCheck != nil ? "ttl_check: \(enabled)"
            : enabled ? "every peer is on a connected subnet" : "not every peer is on a connected subnet of \(runtime.interfaceName)"
        logger.info("\(runtime.key): unicast TTL check \(enabled ? "on" : "off") (\(why))")
    }
}
