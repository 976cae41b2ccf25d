// One virtual router at run time: the core's `Router` plus what the daemon needs to carry out its
// actions (interface, sockets, timers, counters). A dual-stack instance has one per family.

import VIPDConfig
import VIPDLinux
import VIPDObservability
import VRRP
import VRRPNode

struct RouterKey: Hashable, CustomStringConvertible {
    var instance: String
    var family: AddressFamily
    var description: String { "\(instance)/\(family)" }
}

final class RouterRuntime {
    let key: RouterKey
    var instance: InstanceConfig {
        didSet { derive() }
    }
    var router: Router
    /// The interface the instance is configured on (adverts are sent and received here).
    var interfaceIndex: Int32
    var interfaceName: String
    /// Where the virtual addresses go: the interface itself, or its macvlan with the virtual MAC.
    var addressInterfaceIndex: Int32
    var addressInterfaceName: String
    /// Where the VRRP socket goes: with the addresses (the interface, or its virtual-MAC macvlan),
    /// except for `announce: route`, whose addresses are on `route.device` and whose adverts still go
    /// out of `interface`, and for unicast: peers address their adverts to our unicast source, an
    /// address of `interface`, so they arrive there and never on the macvlan (a socket on the
    /// macvlan would hear no peer). keepalived does the same: unicast with use_vmac turns on its
    /// vmac_xmit_base (adverts sent and received on the base interface).
    var socketInterfaceIndex: Int32 { socketOnInterface ? interfaceIndex : addressInterfaceIndex }
    var socketInterfaceName: String { socketOnInterface ? interfaceName : addressInterfaceName }
    private var socketOnInterface: Bool { instance.route != nil || instance.unicast != nil }
    /// Source MAC of announcements.
    var announceMAC: [UInt8]
    var socketKey: SocketKey?
    var timer: TimerID?
    /// When `timer` fires (it may be earlier than the core's next deadline; see `Daemon.rearm`).
    var timerDeadline: Instant?
    /// True when `timer` ran before `timerDeadline` (within its slack); read when it is set again.
    var timerRanEarly = false
    /// What `timer` calls: made once (Daemon.rearm), so re-arming allocates nothing.
    var timerCallback: (() -> Void)?
    var announceTimers: [TimerID] = []
    /// Routed VIPs' second release phase (DaemonRouted.swift): the local routes held after the
    /// addresses went, on which interface, and the timer that removes them.
    var localRoutes: (addresses: [IPAddress], interfaceIndex: Int32, timer: TimerID?)?
    var counters = RouterCounters()
    /// Prometheus counters of this router, looked up once (see VIPDMetrics.routerHandles).
    var metricHandles: VIPDMetrics.RouterHandles?
    /// Receive filtering and checksum-form following for this router (VRRPNode); its unicast TTL
    /// check is set by the daemon from the interface's addresses (`Daemon.refreshUnicastTTLCheck`).
    var receiver: AdvertisementReceiver
    /// True once the core has received `.start`.
    var started = false
    /// `auth_hmac` sequences of our advertisements (DaemonAuth.swift).
    var signer = AdvertisementSigner()

    init(key: RouterKey, instance: InstanceConfig, router: Router, interfaceIndex: Int32, interfaceName: String,
         addressInterfaceIndex: Int32, addressInterfaceName: String, announceMAC: [UInt8]) {
        self.key = key; self.instance = instance; self.router = router
        self.interfaceIndex = interfaceIndex; self.interfaceName = interfaceName
        self.addressInterfaceIndex = addressInterfaceIndex; self.addressInterfaceName = addressInterfaceName
        self.announceMAC = announceMAC
        receiver = AdvertisementReceiver(settings: ReceiverSettings(family: key.family))
        derive()
    }

    /// This family's virtual addresses, the same as bare addresses, and where advertisements go:
    /// derived from `instance` when it is set, not on every advertisement.
    private(set) var addresses: [AddressPrefix] = []
    private var advertAddresses: [IPAddress] = []
    private(set) var destinations: [IPAddress] = []
    /// The advertisement last encoded, reused while nothing in it changes (priority, addresses,
    /// source, checksum form, the core's settings): a Master sends the same bytes every interval.
    private var encoded: (advert: Advertisement, source: IPAddress, form: ChecksumForm, packets: [(destination: IPAddress, bytes: [UInt8])])?

    private func derive() {
        addresses = instance.addresses(of: key.family)
        advertAddresses = addresses.map(\.address)
        if let peers = instance.unicast?.peers {
            destinations = peers
        } else {
            switch key.family {
            case .ipv4: destinations = [.v4(.vrrpMulticast)]
            case .ipv6: destinations = [.v6(.vrrpMulticast)]
            }
        }
        receiver.settings.unicastPeers = instance.unicast?.peers
        receiver.settings.v3ChecksumAsV2 = instance.v3ChecksumAsV2
        // Replacing the settings keeps the receiver's replay marks (a key-only reload).
        receiver.settings.authHMAC = instance.authHMAC?.coreSettings
        encoded = nil
    }

    /// The advertisement at `priority` from `source`, encoded for each destination (and signed,
    /// with `auth_hmac`, at `wallClock()`).
    func encodedAdvertisements(priority: UInt8, source: IPAddress, wallClock: () -> UTCTime) -> [(destination: IPAddress, bytes: [UInt8])] {
        let advert = advertisement(priority: priority)
        let form = receiver.sendChecksumForm
        if let signed = signedAdvertisements(advert, source: source, form: form, wallClock: wallClock) { return signed }
        if let encoded, encoded.advert == advert, encoded.source == source, encoded.form == form {
            return encoded.packets
        }
        let packets = destinations.map { destination in
            (destination, VRRPCodec.encode(advert, source: source, destination: destination, checksumForm: form))
        }
        encoded = (advert, source, form, packets)
        return packets
    }

    func advertisement(priority: UInt8) -> Advertisement {
        Advertisement(version: router.config.version, vrid: router.config.vrid, priority: priority,
                      interval: router.config.advertInterval, addresses: advertAddresses,
                      authentication: router.config.authentication)
    }

    /// Announcement frames for every address of this router.
    func announcementFrames() -> [[UInt8]] {
        guard RoutedRelease.sendsAnnouncements(routed: instance.route != nil) else { return [] }
        return addresses.map { prefix in
            switch prefix.address {
            case .v4(let a): AnnouncementFrame.gratuitousARP(senderMAC: announceMAC, address: a)
            case .v6(let a): AnnouncementFrame.unsolicitedNeighborAdvertisement(sourceMAC: announceMAC, target: a)
            }
        }
    }

    func status(now: Instant) -> RouterStatus {
        // An anycast instance has no election: no Master to name, no priority of its own.
        let electing = instance.runsVRRP
        let last = router.lastTransition.map {
            TransitionStatus(from: $0.from.description, to: $0.to.description, reason: electing ? $0.reason.description : Anycast.describe($0.reason),
                             secondsAgo: Double((now - $0.at).nanoseconds) / 1e9)
        }
        var counters = self.counters
        counters.transitions = router.transitionCount
        return RouterStatus(
            family: key.family.rawValue, state: router.state.description,
            configuredPriority: electing ? Int(instance.priority) : 0, effectivePriority: electing ? Int(router.effectivePriority) : 0,
            master: electing ? router.currentMaster?.description : nil,
            masterPriority: electing ? router.currentMasterPriority.map(Int.init) : nil,
            advertIntervalMs: Int(router.state == .master ? router.config.advertInterval.centiseconds : router.masterAdvertInterval.centiseconds) * 10,
            addresses: addresses.map(\.description), holdsAddresses: router.holdsAddresses,
            releasing: router.isReleasing, takeoverPending: router.takeoverPending,
            handoverHold: router.handoverHold, lastTransition: last, counters: counters)
    }
}

/// One raw VRRP socket per interface, family and source address, shared by the routers using it.
struct SocketKey: Hashable {
    var interfaceIndex: Int32
    var family: AddressFamily
    var source: IPAddress
}

struct RouterLookupKey: Hashable {
    var interfaceIndex: Int32
    var family: AddressFamily
    var vrid: UInt8

    /// One integer instead of the synthesized hash, which hashes the family's String raw value:
    /// this key is looked up for every received packet.
    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(UInt32(bitPattern: interfaceIndex)) << 16 | UInt64(family == .ipv4 ? 0 : 1) << 8 | UInt64(vrid))
    }
}

struct DropCounterKey: Hashable {
    var interface: String
    var reason: String
}
