// Receive filtering (RFC 9568 §7.1 and vipd's unicast rules), given the facts the socket reported.
//
// Two steps, because the VRID is only known once the message is decoded:
//   1. `ReceiveFilter.decode` (per interface): the codec's checks, and for multicast the TTL / Hop
//      Limit 255 check — failing closed when the kernel did not report the hop limit.
//   2. `AdvertisementReceiver.receive` (per virtual router): unicast peer filtering, the unicast TTL
//      check (`unicast.ttl_check`), `auth_hmac` verification (AuthHMAC.swift), then checksum-form
//      following; the result is the core's input.

import VRRP

/// What the socket reported about one received packet, besides its VRRP payload.
public struct PacketFacts: Hashable, Sendable {
    /// IP source address.
    public var source: IPAddress
    /// IP destination: the VRRP group, or one of our addresses in unicast mode.
    public var destination: IPAddress
    /// IPv4 TTL or IPv6 Hop Limit, or nil when the kernel did not report it (an IPv6 packet
    /// without an `IPV6_HOPLIMIT` control message).
    public var hopLimit: UInt8?

    public init(source: IPAddress, destination: IPAddress, hopLimit: UInt8?) {
        self.source = source; self.destination = destination; self.hopLimit = hopLimit
    }

    /// Sent to a multicast group (the VRRP group) rather than to one of our addresses.
    public var isMulticast: Bool {
        switch destination {
        case .v4(let a): a.isMulticast
        case .v6(let a): a.isMulticast
        }
    }
}

/// Why the node did not give a received packet to its virtual router. Labels are the stable
/// `snake_case` names counted in status and metrics.
public enum ReceiveDrop: Error, Hashable, Sendable, CustomStringConvertible {
    /// The codec refused the message (includes a multicast TTL / Hop Limit other than 255).
    case malformed(ParseError)
    /// The TTL / Hop Limit must be checked but the kernel did not report it: fail closed.
    case noHopLimit
    /// Unicast TTL check: the TTL / Hop Limit is not 255, so the packet crossed a router.
    case badHopLimit(UInt8)
    /// No virtual router with this VRID on the interface.
    case unknownVRID
    /// Unicast instance: the source is not a configured peer. Multicast instance: the packet was
    /// sent to one of our addresses instead of the group (it would bypass the TTL check).
    case notAPeer
    /// `auth_hmac` refused it (see `AuthDrop` for the reasons and their labels).
    case authentication(AuthDrop)

    public var label: String {
        switch self {
        case .malformed(let error): error.label
        case .authentication(let drop): drop.label
        case .noHopLimit: "no_hop_limit"
        case .badHopLimit: "bad_ttl"
        case .unknownVRID: "unknown_vrid"
        case .notAPeer: "not_a_peer"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let error): error.description
        case .badHopLimit(let hopLimit): "\(label) (\(hopLimit))"
        default: label
        }
    }
}

public enum ReceiveFilter {
    /// Decodes a VRRP message. Multicast packets must carry TTL / Hop Limit 255 (RFC 9568 §7.1);
    /// one whose hop limit is unknown is dropped (`noHopLimit`), never let through unchecked.
    /// Unicast packets are checked per virtual router (`AdvertisementReceiver`), where the
    /// instance's `ttl_check` is known.
    public static func decode(_ payload: [UInt8], _ facts: PacketFacts) -> Result<DecodedAdvertisement, ReceiveDrop> {
        var decoded = DecodedAdvertisement(
            advertisement: Advertisement(version: .v3, vrid: 0, priority: 0, interval: AdvertInterval(centiseconds: 0), addresses: []),
            checksumForm: .withPseudoHeader)
        if let drop = decode(payload, facts, into: &decoded) { return .failure(drop) }
        return .success(decoded)
    }

    /// The same, into `decoded` (its address array reused: see `VRRPCodec.decode(_:context:into:)`).
    /// Returns the drop, or nil when `decoded` holds the advertisement.
    public static func decode(_ payload: [UInt8], _ facts: PacketFacts, into decoded: inout DecodedAdvertisement) -> ReceiveDrop? {
        let checkedHopLimit: UInt8?
        if facts.isMulticast {
            guard let hopLimit = facts.hopLimit else { return .noHopLimit }
            checkedHopLimit = hopLimit
        } else {
            checkedHopLimit = nil
        }
        let context = PacketContext(source: facts.source, destination: facts.destination, hopLimit: checkedHopLimit)
        do {
            try VRRPCodec.decode(payload[...], context: context, into: &decoded)
            return nil
        } catch {
            return .malformed(error)
        }
    }
}

/// How one virtual router receives: multicast, or unicast from listed peers.
public struct ReceiverSettings: Hashable, Sendable {
    public var family: AddressFamily
    /// Unicast peers, or nil for multicast.
    public var unicastPeers: [IPAddress]?
    /// Unicast only: drop packets whose TTL / Hop Limit is not 255 (see `UnicastTTLCheck`).
    public var unicastTTLCheck: Bool
    /// `v3_checksum_as_v2`: v3 over IPv4 is sent with the checksum over the message alone.
    public var v3ChecksumAsV2: Bool
    /// `auth_hmac`, or nil (then an advertisement with a trailer is dropped as `hmac_unexpected`).
    /// Replacing it keeps the receiver's replay marks.
    public var authHMAC: AuthHMACSettings?

    public init(family: AddressFamily, unicastPeers: [IPAddress]? = nil, unicastTTLCheck: Bool = false,
                v3ChecksumAsV2: Bool = false, authHMAC: AuthHMACSettings? = nil) {
        self.family = family; self.unicastPeers = unicastPeers; self.unicastTTLCheck = unicastTTLCheck
        self.v3ChecksumAsV2 = v3ChecksumAsV2; self.authHMAC = authHMAC
    }
}

/// What the daemon does with one received advertisement, in order.
public enum ReceiveAction: Hashable, Sendable {
    /// Count the drop against this virtual router; nothing else.
    case dropped(ReceiveDrop)
    /// Unicast peers were heard using the other VRRPv3/IPv4 checksum form: from now on we send it
    /// too (`groupPseudoHeader`: 224.0.0.18 in the pseudo-header). Worth a log line.
    case checksumFormFollowed(groupPseudoHeader: Bool, peer: IPAddress)
    /// Give this input to the virtual router's `Router`.
    case deliver(RouterInput)
}

/// The per-virtual-router part of receiving: filtering and checksum-form following.
public struct AdvertisementReceiver: Hashable, Sendable {
    public var settings: ReceiverSettings
    /// Unicast VRRPv3 over IPv4: the peers put the group 224.0.0.18 in the checksum's pseudo-header
    /// (keepalived < 1.3.6, or 2.2.7 with `old_unicast_checksum`, which then refuses any other form).
    /// Learned from their adverts, as keepalived itself does, and followed when sending.
    public private(set) var peersUseGroupChecksum = false
    /// `auth_hmac` replay marks, created with the first `auth_hmac` settings and kept across changes
    /// of them (key rotation, reload).
    public private(set) var authVerifier: AuthVerifier?

    public init(settings: ReceiverSettings) { self.settings = settings }

    /// The checksum form our advertisements use.
    public var sendChecksumForm: ChecksumForm {
        guard settings.family == .ipv4 else { return .withPseudoHeader }
        if settings.v3ChecksumAsV2 { return .withoutPseudoHeader }
        return settings.unicastPeers != nil && peersUseGroupChecksum ? .withGroupPseudoHeader : .withPseudoHeader
    }

    /// The drop reason for a decoded advertisement, or nil when this virtual router takes it.
    public func dropReason(_ facts: PacketFacts) -> ReceiveDrop? {
        guard let peers = settings.unicastPeers else {
            // A multicast instance only listens to the group; unicast packets to it come from a
            // misconfigured or hostile sender and would bypass the TTL check.
            return facts.isMulticast ? nil : .notAPeer
        }
        guard peers.contains(facts.source) else { return .notAPeer }
        guard settings.unicastTTLCheck else { return nil }
        guard let hopLimit = facts.hopLimit else { return .noHopLimit }
        return hopLimit == ProtocolConstants.requiredHopLimit ? nil : .badHopLimit(hopLimit)
    }

    /// Filters one decoded advertisement. `now` is the wall clock, needed by `auth_hmac` with `time`
    /// anti-replay (without it every signed advertisement is `hmac_stale`: fail closed).
    public mutating func receive(_ decoded: DecodedAdvertisement, _ facts: PacketFacts, now: UTCTime? = nil) -> [ReceiveAction] {
        var actions: [ReceiveAction] = []
        receive(decoded, facts, now: now) { actions.append($0) }
        return actions
    }

    /// The same actions, in the same order, handed to `perform` one by one instead of in an array
    /// (the daemon's receive path allocates nothing per packet).
    public mutating func receive(_ decoded: DecodedAdvertisement, _ facts: PacketFacts, now: UTCTime? = nil,
                                 _ perform: (ReceiveAction) -> Void) {
        if let drop = dropReason(facts) { return perform(.dropped(drop)) }
        if let settings = settings.authHMAC {
            if authVerifier == nil { authVerifier = AuthVerifier(settings: settings) } else { authVerifier!.settings = settings }
            let verdict = authVerifier!.verify(decoded, source: facts.source, now: now, multicast: self.settings.unicastPeers == nil)
            if case .dropped(let drop) = verdict { return perform(.dropped(.authentication(drop))) }
        } else if decoded.authTrailer != nil {
            return perform(.dropped(.authentication(.unexpected)))
        }
        if settings.unicastPeers != nil, settings.family == .ipv4, decoded.advertisement.version == .v3,
           let group = follow(decoded.checksumForm) {
            perform(.checksumFormFollowed(groupPseudoHeader: group, peer: facts.source))
        }
        perform(.deliver(.advertisement(decoded.advertisement, source: facts.source)))
    }

    /// A unicast v3/IPv4 peer's checksum form decides ours: keepalived with `old_unicast_checksum`
    /// accepts only the group form, and one without it accepts both (and switches to the group
    /// form when it sees it), so answering in the form we hear interoperates with both. The
    /// message-only form (Cisco) says nothing about what the peer accepts and changes nothing.
    /// Returns the new setting when it changed.
    private mutating func follow(_ form: ChecksumForm) -> Bool? {
        let group: Bool
        switch form {
        case .withGroupPseudoHeader: group = true
        case .withPseudoHeader: group = false
        case .withoutPseudoHeader: return nil
        }
        guard group != peersUseGroupChecksum else { return nil }
        peersUseGroupChecksum = group
        return group
    }
}
