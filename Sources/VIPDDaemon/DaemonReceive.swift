// The receive path: VRRP packets read from the sockets, filtered, decoded and fed to their router.

import VIPDLinux
import VRRP

extension Daemon {
    func readPackets(_ key: SocketKey) {
        guard let socket = sockets[key] else { return }
        let packets: [ReceivedPacket]
        do { packets = try socket.readPackets() } catch {
            logger.warning("receive failed on \(key.interfaceIndex): \(error)")
            return
        }
        for packet in packets { receive(packet, on: key) }
    }

    func receive(_ packet: ReceivedPacket, on key: SocketKey) {
        if packet.isFromSelf { return }
        // TTL/Hop Limit 255 is required for multicast (RFC 9568 §7.1); in unicast mode keepalived
        // relaxes it, and so do we: those packets are accepted only from configured peers.
        let multicast: Bool
        switch packet.destination {
        case .v4(let a): multicast = a.isMulticast
        case .v6(let a): multicast = a.isMulticast
        }
        let context = PacketContext(source: packet.source, destination: packet.destination,
                                    hopLimit: multicast ? packet.hopLimit : nil)
        let decoded: DecodedAdvertisement
        do {
            decoded = try VRRPCodec.decode(packet.payload, context: context)
        } catch {
            countInterfaceDrop(key.interfaceIndex, DropReason.malformed(error).label)
            return
        }
        let advert = decoded.advertisement
        guard let runtime = routerIndex[RouterLookupKey(interfaceIndex: key.interfaceIndex, family: key.family, vrid: advert.vrid)] else {
            countInterfaceDrop(key.interfaceIndex, DropReason.unknownVRID.label)
            return
        }
        if let peers = runtime.unicastPeers, !peers.contains(packet.source) {
            perform(.dropped(.notAPeer), runtime)
            return
        }
        if !multicast && runtime.unicastPeers == nil {
            // A multicast instance only listens to the group; unicast packets to it come from a
            // misconfigured or hostile sender and would bypass the TTL check.
            perform(.dropped(.notAPeer), runtime)
            return
        }
        if runtime.unicastPeers != nil, runtime.key.family == .ipv4, advert.version == .v3 {
            followPeerChecksum(runtime, decoded.checksumForm, from: packet.source)
        }
        runtime.counters.advertsReceived += 1
        runtime.metricHandles?.advertsReceived.increment()
        feed(runtime, .advertisement(advert, source: packet.source))
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

    /// A unicast v3/IPv4 peer's checksum form decides ours: keepalived with `old_unicast_checksum`
    /// accepts only the group form, and one without it accepts both (and switches to the group
    /// form when it sees it), so answering in the form we hear interoperates with both. The
    /// message-only form (Cisco) says nothing about what the peer accepts and changes nothing.
    func followPeerChecksum(_ runtime: RouterRuntime, _ form: ChecksumForm, from source: IPAddress) {
        let group: Bool
        switch form {
        case .withGroupPseudoHeader: group = true
        case .withPseudoHeader: group = false
        case .withoutPseudoHeader: return
        }
        guard group != runtime.peersUseGroupChecksum else { return }
        runtime.peersUseGroupChecksum = group
        logger.notice("\(runtime.key): unicast peer \(source) uses the \(group ? "old (group address)" : "standard") VRRPv3 checksum; sending it too")
    }

    func countInterfaceDrop(_ interfaceIndex: Int32, _ label: String) {
        countInterfaceDrop(interfaceNames[interfaceIndex] ?? "#\(interfaceIndex)", label)
    }

    func countInterfaceDrop(_ interface: String, _ label: String) {
        interfaceDrops[interface, default: [:]][label, default: 0] += 1
        metrics.dropped(interface: interface, reason: label)
    }
}
