import Testing
import VRRP
@testable import VRRPNode

@Suite("Receive filtering: decode step (per interface)")
struct ReceiveDecodeTests {
    @Test("multicast: only hop limit 255 decodes; every other value is bad_ttl", arguments: [false, true])
    func multicastHopLimit(ipv6: Bool) {
        let (source, group) = ipv6 ? (peer6, group6) : (peer4, group4)
        let ad = advert(addresses: ipv6 ? [IPAddress("2001:db8::100")!] : [vip4.address])
        for hop in 0...255 {
            let (payload, facts) = packet(ad, from: source, to: group, hopLimit: UInt8(hop))
            let result = ReceiveFilter.decode(payload, facts)
            if hop == 255 {
                #expect((try? result.get())?.advertisement == ad)
            } else {
                #expect(result == .failure(.malformed(.badHopLimit(UInt8(hop)))), "hop limit \(hop)")
                #expect((try? result.get()) == nil)
            }
        }
    }

    @Test("multicast without a reported hop limit fails closed: no_hop_limit (IPv6 with no IPV6_HOPLIMIT)", arguments: [false, true])
    func missingHopLimit(ipv6: Bool) {
        let (source, group) = ipv6 ? (peer6, group6) : (peer4, group4)
        let ad = advert(addresses: ipv6 ? [IPAddress("2001:db8::100")!] : [vip4.address])
        let (payload, facts) = packet(ad, from: source, to: group, hopLimit: nil)
        let result = ReceiveFilter.decode(payload, facts)
        #expect(result == .failure(.noHopLimit))
        if case .failure(let drop) = result { #expect(drop.label == "no_hop_limit") }
    }

    @Test("unicast: the decode step leaves the hop limit to the virtual router's policy")
    func unicastDecodeIgnoresHopLimit() {
        for hop: UInt8? in [nil, 1, 64, 254, 255] {
            let (payload, facts) = packet(advert(), from: peer4, to: us4, hopLimit: hop)
            #expect((try? ReceiveFilter.decode(payload, facts).get())?.advertisement == advert())
        }
    }

    @Test("codec failures keep their own labels")
    func malformed() {
        var (payload, facts) = packet(advert(), from: peer4, to: group4, hopLimit: 255)
        payload[6] ^= 0xFF
        #expect(ReceiveFilter.decode(payload, facts) == .failure(.malformed(.badChecksum)))
        #expect(ReceiveFilter.decode(Array(payload.prefix(4)), facts) == .failure(.malformed(.truncated)))
        #expect(ReceiveDrop.malformed(.truncated).label == "truncated")
    }

    @Test("labels are the stable names counted in status and metrics")
    func labels() {
        #expect(ReceiveDrop.noHopLimit.label == "no_hop_limit")
        #expect(ReceiveDrop.badHopLimit(64).label == "bad_ttl")
        #expect(ReceiveDrop.badHopLimit(64).description == "bad_ttl (64)")
        #expect(ReceiveDrop.unknownVRID.label == "unknown_vrid")
        #expect(ReceiveDrop.notAPeer.label == "not_a_peer")
        // A multicast bad TTL (codec) and a unicast one (policy) are counted under one name.
        #expect(ReceiveDrop.malformed(.badHopLimit(1)).label == ReceiveDrop.badHopLimit(1).label)
    }
}

@Suite("Receive filtering: virtual router step")
struct AdvertisementReceiverTests {
    func decoded(_ payload: [UInt8], _ facts: PacketFacts) throws -> DecodedAdvertisement {
        try ReceiveFilter.decode(payload, facts).get()
    }

    @Test("multicast instance: group packets delivered, packets to our own address dropped as not_a_peer")
    func multicastInstance() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4))
        let (payload, facts) = packet(advert(), from: stranger4, to: group4, hopLimit: 255)
        #expect(receiver.receive(try decoded(payload, facts), facts) == [.deliver(.advertisement(advert(), source: stranger4))])
        let (uPayload, uFacts) = packet(advert(), from: peer4, to: us4, hopLimit: 255)
        #expect(receiver.receive(try decoded(uPayload, uFacts), uFacts) == [.dropped(.notAPeer)])
    }

    @Test("unicast instance: only listed peers are heard")
    func unicastPeers() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4]))
        let (payload, facts) = packet(advert(), from: stranger4, to: us4, hopLimit: 255)
        #expect(receiver.receive(try decoded(payload, facts), facts) == [.dropped(.notAPeer)])
        let (pPayload, pFacts) = packet(advert(), from: peer4, to: us4, hopLimit: 255)
        #expect(receiver.receive(try decoded(pPayload, pFacts), pFacts) == [.deliver(.advertisement(advert(), source: peer4))])
    }

    // Issue 11: a peer's source address with a TTL below 255 was accepted (it crossed a router:
    // anyone who can route protocol 112 here could force a Backup). With ttl_check it is dropped.
    @Test("unicast ttl_check: a listed peer's advert at any TTL but 255 is dropped as bad_ttl")
    func unicastTTLCheck() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4], unicastTTLCheck: true))
        for hop in 0...255 {
            let (payload, facts) = packet(advert(254), from: peer4, to: us4, hopLimit: UInt8(hop))
            let actions = receiver.receive(try decoded(payload, facts), facts)
            if hop == 255 {
                #expect(actions == [.deliver(.advertisement(advert(254), source: peer4))])
            } else {
                #expect(actions == [.dropped(.badHopLimit(UInt8(hop)))], "TTL \(hop)")
            }
        }
    }

    @Test("unicast ttl_check with no reported hop limit fails closed")
    func unicastTTLCheckNoHopLimit() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv6, unicastPeers: [peer6], unicastTTLCheck: true))
        let ad = advert(addresses: [IPAddress("2001:db8::100")!])
        let (payload, facts) = packet(ad, from: peer6, to: us6, hopLimit: nil)
        #expect(receiver.receive(try decoded(payload, facts), facts) == [.dropped(.noHopLimit)])
    }

    @Test("unicast without ttl_check: any TTL from a peer is heard (routed peers)")
    func unicastNoTTLCheck() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4], unicastTTLCheck: false))
        for hop: UInt8? in [nil, 1, 63, 254, 255] {
            let (payload, facts) = packet(advert(), from: peer4, to: us4, hopLimit: hop)
            #expect(receiver.receive(try decoded(payload, facts), facts) == [.deliver(.advertisement(advert(), source: peer4))])
        }
    }

    @Test("the peer check comes before the TTL check: a stranger is not_a_peer whatever its TTL")
    func order() throws {
        let receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4], unicastTTLCheck: true))
        #expect(receiver.dropReason(PacketFacts(source: stranger4, destination: us4, hopLimit: 1)) == .notAPeer)
        #expect(receiver.dropReason(PacketFacts(source: peer4, destination: us4, hopLimit: 1)) == .badHopLimit(1))
    }

    @Test("checksum-form following: unicast v3/IPv4 peers' form is followed once per change")
    func checksumFollowing() throws {
        var receiver = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4]))
        #expect(receiver.sendChecksumForm == .withPseudoHeader)
        let (gPayload, gFacts) = packet(advert(), from: peer4, to: us4, hopLimit: 255, form: .withGroupPseudoHeader)
        let deliver = ReceiveAction.deliver(.advertisement(advert(), source: peer4))
        #expect(receiver.receive(try decoded(gPayload, gFacts), gFacts) == [.checksumFormFollowed(groupPseudoHeader: true, peer: peer4), deliver])
        #expect(receiver.sendChecksumForm == .withGroupPseudoHeader)
        // Heard again: nothing new to say.
        #expect(receiver.receive(try decoded(gPayload, gFacts), gFacts) == [deliver])
        // The message-only form (Cisco) says nothing about what the peer accepts.
        let (mPayload, mFacts) = packet(advert(), from: peer4, to: us4, hopLimit: 255, form: .withoutPseudoHeader)
        #expect(receiver.receive(try decoded(mPayload, mFacts), mFacts) == [deliver])
        #expect(receiver.sendChecksumForm == .withGroupPseudoHeader)
        // Back to the standard form.
        let (sPayload, sFacts) = packet(advert(), from: peer4, to: us4, hopLimit: 255)
        #expect(receiver.receive(try decoded(sPayload, sFacts), sFacts) == [.checksumFormFollowed(groupPseudoHeader: false, peer: peer4), deliver])
        #expect(receiver.sendChecksumForm == .withPseudoHeader)
    }

    @Test("no following for multicast, IPv6 or v2; v3_checksum_as_v2 always sends the message-only form")
    func checksumFollowingScope() throws {
        var multicast = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4))
        let (payload, facts) = packet(advert(), from: peer4, to: group4, hopLimit: 255, form: .withoutPseudoHeader)
        _ = multicast.receive(try decoded(payload, facts), facts)
        #expect(multicast.sendChecksumForm == .withPseudoHeader)
        #expect(!multicast.peersUseGroupChecksum)

        var v2 = AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4]))
        let (v2Payload, v2Facts) = packet(advert(version: .v2), from: peer4, to: us4, hopLimit: 255)
        #expect(v2.receive(try decoded(v2Payload, v2Facts), v2Facts).count == 1)
        #expect(!v2.peersUseGroupChecksum)

        #expect(AdvertisementReceiver(settings: ReceiverSettings(family: .ipv6, unicastPeers: [peer6])).sendChecksumForm == .withPseudoHeader)
        #expect(AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, unicastPeers: [peer4], v3ChecksumAsV2: true)).sendChecksumForm == .withoutPseudoHeader)
        #expect(AdvertisementReceiver(settings: ReceiverSettings(family: .ipv4, v3ChecksumAsV2: true)).sendChecksumForm == .withoutPseudoHeader)
    }

    @Test("property: a delivered advert always passed every rule (sampled facts × settings)")
    func deliveredPassedEveryRule() throws {
        let sources = [peer4, stranger4, us4, IPAddress("203.0.113.7")!]
        let destinations = [group4, us4, IPAddress("203.0.113.1")!]
        for i in 0..<4000 {
            let r = mixed(i)
            let source = sources[Int(r % 4)], destination = destinations[Int(r / 4 % 3)]
            let hop: UInt8? = (r >> 10) % 5 == 0 ? nil : UInt8(truncatingIfNeeded: r >> 20)
            let peers: [IPAddress]? = (r >> 30) % 2 == 0 ? nil : [peer4, IPAddress("203.0.113.7")!]
            let settings = ReceiverSettings(family: .ipv4, unicastPeers: peers, unicastTTLCheck: (r >> 40) % 2 == 0)
            let (payload, facts) = packet(advert(), from: source, to: destination, hopLimit: hop)
            guard case .success(let decoded) = ReceiveFilter.decode(payload, facts) else {
                #expect(facts.isMulticast && hop != 255, "case \(i)")
                continue
            }
            var receiver = AdvertisementReceiver(settings: settings)
            let delivered = receiver.receive(decoded, facts).contains { if case .deliver = $0 { true } else { false } }
            let peerOK = peers.map { $0.contains(source) } ?? facts.isMulticast
            let ttlOK = facts.isMulticast || peers == nil || !settings.unicastTTLCheck || hop == 255
            #expect(delivered == (peerOK && ttlOK), "case \(i): \(facts) \(settings)")
        }
    }
}
