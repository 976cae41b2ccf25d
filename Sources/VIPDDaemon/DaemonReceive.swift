// The receive path: VRRP packets read from the sockets, filtered, decoded and fed to their router.

import VIPDLinux
import VIPDObservability
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

    /// Packets the kernel dropped before `packet` because the socket's receive queue was full
    /// (`ReceivedPacket.droppedBefore`): counted as `receive_queue_full` drops of the interface.
    func countQueueDrops(_ count: UInt32, on key: SocketKey) {
        let interface = interfaceNames[key.interfaceIndex] ?? "#\(key.interfaceIndex)"
        interfaceDrops[interface, default: [:]][Self.receiveQueueFull, default: 0] += Int(count)
        dropCounter(interface, Self.receiveQueueFull).increment(by: Int64(count))
    }

    /// The drop reason of packets the kernel discarded for a full receive queue.
    static let receiveQueueFull = "receive_queue_full"

    /// The rules are the node layer's (VRRPNode): this passes the packet's facts in and carries
    /// out what comes back — count a drop, log a checksum-form change, feed the router.
    ///
    /// Nothing here allocates per packet: the advertisement is decoded into `receiveScratch`
    /// (its address array reused), the receiver's actions come through a closure, not an array,
    /// and the counters are handles looked up once.
    func receive(_ packet: ReceivedPacket, on key: SocketKey) {
        if packet.droppedBefore != 0 { countQueueDrops(packet.droppedBefore, on: key) }
        if packet.isFromSelf { return }
        let facts = PacketFacts(source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit)
        if let drop = ReceiveFilter.decode(packet.payload, facts, into: &receiveScratch) {
            countInterfaceDrop(key.interfaceIndex, drop.label)
            return
        }
        let lookup = RouterLookupKey(interfaceIndex: key.interfaceIndex, family: key.family, vrid: receiveScratch.advertisement.vrid)
        guard let runtime = routerIndex[lookup] else {
            countInterfaceDrop(key.interfaceIndex, ReceiveDrop.unknownVRID.label)
            return
        }
        // Collected, then carried out once the receiver is no longer being modified: feeding the
        // router may send an advertisement, which reads the receiver's checksum form.
        var dropped: ReceiveDrop?, followed: (group: Bool, peer: IPAddress)?, delivered: RouterInput?
        runtime.receiver.receive(receiveScratch, facts, now: authClock(runtime)) { action in
            switch action {
            case .dropped(let drop): dropped = drop
            case .checksumFormFollowed(let group, let peer): followed = (group, peer)
            case .deliver(let input): delivered = input
            }
        }
        if let dropped { countRouterDrop(runtime, dropped.label) }
        if let (group, peer) = followed {
            logger.notice("\(runtime.key): unicast peer \(peer) uses the \(group ? "old (group address)" : "standard") VRRPv3 checksum; sending it too")
        }
        if let delivered {
            runtime.counters.advertsReceived += 1
            runtime.metricHandles?.advertsReceived.increment()
            feed(runtime, delivered)
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
        dropCounter(interface, label).increment()
    }

    /// A drop by one virtual router (the node layer's or the core's): in its status counters and
    /// in the metric of its interface.
    func countRouterDrop(_ runtime: RouterRuntime, _ label: String) {
        runtime.counters.drops[label, default: 0] += 1
        dropCounter(runtime.interfaceName, label).increment()
    }

    /// The drop counter of (interface, reason), looked up by label once and then kept: a flood of
    /// unusable packets costs a dictionary lookup each, not a labelled registry lookup.
    private func dropCounter(_ interface: String, _ label: String) -> VIPDMetrics.Counter {
        let key = DropCounterKey(interface: interface, reason: label)
        if let counter = dropCounters[key] { return counter }
        let counter = metrics.droppedCounter(interface: interface, reason: label)
        dropCounters[key] = counter
        return counter
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
