// `announce`, `route` and `election` (RouteConfig.swift; docs/config.md "Routed VIPs and anycast"):
// parsed, refused where they cannot work, and the warnings of routed unicast peers.

import VRRP
import Yams

enum RouteKeys {
    static let route = ["device", "release_delay"]
    /// Settings that only mean something to a VRRP election: refused with `election: none`.
    static let electionOnly = ["vrid", "priority", "advert_interval", "version", "auth_pass", "auth_hmac", "preempt",
                               "preempt_delay", "accept", "unicast", "takeover", "v3_checksum_as_v2"]
    /// Settings that only mean something when the addresses are on the link: refused with
    /// `announce: route`.
    static let linkOnly = ["virtual_mac", "garp"]
}

extension Limits {
    /// `route.release_delay`: up to a minute; a longer wait is a routing problem to fix upstream.
    static let releaseDelay = Duration.zero...Duration.seconds(60)
}

/// Collects warnings while the (non-mutating) decoder walks the tree.
final class ConfigWarnings {
    private(set) var list: [ConfigWarning] = []
    let file: String

    init(file: String) { self.file = file }

    func add(at node: Node?, _ message: String) {
        list.append(ConfigWarning(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message))
    }
}

extension ConfigDecoder {
    /// `election`, read before everything else: it decides whether `vrid` is required. With
    /// `election: none` the election's settings are refused here, at their own position.
    func election(_ f: Fields, instance name: String) throws(ConfigError) -> ElectionMode {
        guard let n = f.optional("election") else { return .vrrp }
        let mode = try reader.oneOf(n, "election", ElectionMode.allCases.map { ($0.rawValue, $0) })
        guard mode == .none else { return mode }
        for key in RouteKeys.electionOnly {
            if let value = f.optional(key) {
                throw reader.error(at: value, "\(key) has no meaning with election: none: instance '\(name)' runs no VRRP (every node whose tracking passes holds the addresses); remove \(key) or use election: vrrp")
            }
        }
        return mode
    }

    /// `announce` and `route`, and every check that needs the whole instance (call last).
    /// `addressesNode` is the `addresses` list, for positions.
    func routing(_ f: Fields, into c: inout InstanceConfig, addressesNode: Node) throws(ConfigError) {
        var announce = AnnounceMode.arp
        let announceNode = f.optional("announce")
        if let n = announceNode { announce = try reader.oneOf(n, "announce", AnnounceMode.allCases.map { ($0.rawValue, $0) }) }
        let routeNode = f.optional("route")
        if c.election == .none && announce != .route {
            throw reader.error(at: f.optional("election"), "election: none needs announce: route: with announce: arp every node would claim the same address on one link; add announce: route (and a routing daemon that redistributes it, docs/routed.md)")
        }
        guard announce == .route else {
            if let routeNode {
                throw reader.error(at: routeNode, "route applies to announce: route only, and instance '\(c.name)' announces by arp; add announce: route or remove route")
            }
            return
        }
        var route = RouteConfig()
        if let routeNode {
            let r = try Fields(routeNode, "route", allowed: RouteKeys.route, reader: reader)
            if let n = r.optional("device") { route.device = try interfaceName(n, "route.device") }
            if let n = r.optional("release_delay") {
                guard c.election == .vrrp else {
                    throw reader.error(at: n, "route.release_delay applies to a VRRP handover, and election: none has none (a stopping or failing anycast node withdraws at once); remove it")
                }
                route.releaseDelay = try reader.duration(n, "route.release_delay", Limits.releaseDelay)
            }
        }
        for key in RouteKeys.linkOnly {
            if let value = f.optional(key), key != "virtual_mac" || c.virtualMAC {
                throw reader.error(at: value, "\(key) does not apply to announce: route: the addresses are host routes on \(route.device), not addresses on \(c.interface), and no ARP or NA is sent; remove \(key)")
            }
        }
        if c.priority == ProtocolConstants.ownerPriority {
            throw reader.error(at: f.optional("priority"), "priority 255 (address owner) does not go with announce: route: an owner's addresses are its own interface addresses, but routed addresses are host routes vipd adds and withdraws; use a priority from 1 to 254")
        }
        for (item, prefix) in zip(try reader.sequence(addressesNode, "addresses"), c.addresses) {
            let host: UInt8 = prefix.family == .ipv4 ? 32 : 128
            if prefix.prefixLength != host {
                throw reader.error(at: item, "\(prefix) is not a host address: with announce: route each address is announced as a host route, so write it as \(prefix.address)/\(host)")
            }
        }
        try electionNoneTracking(f, c)
        c.route = route
        routedUnicastWarnings(f, c)
    }

    /// With `election: none` every tracked item withdraws the addresses while down: a weight (which
    /// changes a priority) cannot apply.
    private func electionNoneTracking(_ f: Fields, _ c: InstanceConfig) throws(ConfigError) {
        guard c.election == .none, let trackNode = f.optional("track") else { return }
        let t = try Fields(trackNode, "track", allowed: Keys.track, reader: reader)
        for list in ["interfaces", "scripts"] {
            guard let n = t.optional(list) else { continue }
            for item in try reader.sequence(n, "track.\(list)") {
                let i = try Fields(item, "a tracked item", allowed: Keys.trackedInterface + Keys.trackedScript, reader: reader)
                if let w = i.optional("weight"), try reader.integer(w, "weight", Limits.trackWeight) != 0 {
                    throw reader.error(at: w, "weight has no meaning with election: none: there is no priority, and a failing tracked item withdraws the addresses; use weight: 0 or remove it")
                }
            }
        }
    }

    /// VRRP to peers behind a router arrives with TTL < 255, and anyone who can route a packet to
    /// the node can send one: warn (the file loads) when the TTL check is forced on or there is no
    /// authentication.
    private func routedUnicastWarnings(_ f: Fields, _ c: InstanceConfig) {
        guard c.election == .vrrp, let unicast = c.unicast, let unicastNode = f.optional("unicast") else { return }
        if unicast.ttlCheck == true {
            let ttlNode = (try? Fields(unicastNode, "unicast", allowed: Keys.unicast, reader: reader))?.optional("ttl_check")
            warnings.add(at: ttlNode ?? unicastNode, "instance '\(c.name)' announces by route and forces unicast.ttl_check on: advertisements from peers in other subnets cross a router and arrive with TTL < 255, and would be dropped; set ttl_check: false (or leave it out: it is then on only while every peer is on a connected subnet)")
        }
        if c.authHMAC == nil && c.authPass == nil {
            warnings.add(at: unicastNode, "instance '\(c.name)' announces by route to unicast peers without authentication: any host that can route a packet to this node can send it advertisements; configure auth_hmac (docs/config.md)")
        }
    }

    /// Warnings that need the whole file: a `release_delay` the graceful stop cannot wait for.
    func routeWarnings(_ config: VIPDConfiguration, nameNodes: [Node]) {
        for (instance, node) in zip(config.instances, nameNodes) {
            // Both release phases: release_delay with the address, then release_delay with a local route.
            guard let route = instance.route, instance.runsVRRP, route.releaseDelay * 2 >= config.shutdownTimeout else { continue }
            warnings.add(at: node, "instance '\(instance.name)': twice route.release_delay (\(DurationText.render(route.releaseDelay)) with the address, then as long with a local route) is not shorter than shutdown_timeout \(DurationText.render(config.shutdownTimeout)): a stopping Master is cut off before both release phases are over")
        }
    }

    /// Sync groups move their members' VRRP states together; an anycast instance has none.
    func refuseAnycastMember(_ member: String, at node: Node, group: String, instances: [InstanceConfig]) throws(ConfigError) {
        guard let instance = instances.first(where: { $0.name == member }), !instance.runsVRRP else { return }
        throw reader.error(at: node, "instance '\(member)' has election: none and cannot be in sync group '\(group)': a sync group ties VRRP elections together, and anycast instances hold their addresses by their own tracking")
    }
}
