// vrrp_instance blocks → vipd instances.

/// An instance being converted: its vipd keys in vipd's order, each with its keepalived origin.
struct InstanceDraft {
    var keepalivedName: String
    var name: String
    var location: SourceLocation
    var remark: String?
    var keys: [String: YAMLEntry] = [:]
    var priority = 100
    var trackInterfaces: [YAMLElement] = []
    var trackInterfaceNames: Set<String> = []
    var trackScripts: [YAMLElement] = []
    var trackScriptNames: Set<String> = []
    var syncGroup: String?
    /// A sync group's track_interface / track_script blocks, applied to each member.
    var groupTracking: [Statement] = []

    static let order = ["interface", "vrid", "priority", "advert_interval", "version", "auth_pass", "auth_hmac",
                        "preempt", "preempt_delay", "accept", "addresses", "unicast", "virtual_mac", "garp", "track",
                        "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify_style", "v3_checksum_as_v2"]

    func entries() -> [YAMLEntry] {
        var result = [YAMLEntry("name", .scalar(YAMLWriter.string(name)), location, remark: remark)]
        for key in Self.order {
            if key == "track" {
                var track: [YAMLEntry] = []
                if !trackInterfaces.isEmpty { track.append(YAMLEntry("interfaces", .list(trackInterfaces), nil)) }
                if !trackScripts.isEmpty { track.append(YAMLEntry("scripts", .list(trackScripts), nil)) }
                if !track.isEmpty { result.append(YAMLEntry("track", .mapping(track), nil)) }
            } else if let entry = keys[key] {
                result.append(entry)
            }
        }
        return result
    }
}

extension Converter {
    mutating func instance(_ block: Statement) {
        guard let keepalivedName = block.value else {
            note(block.location, "vrrp_instance without a name is not converted (keepalived refuses it too); give it a name")
            return
        }
        if instances.contains(where: { $0.keepalivedName == keepalivedName }) {
            note(block.location, "vrrp_instance \(keepalivedName) is defined twice; only the first is converted (keepalived refuses the second); rename or remove one")
            return
        }
        var name = Values.vipdName(keepalivedName)
        var suffix = 2
        while instances.contains(where: { $0.name == name }) { name = Values.vipdName(keepalivedName) + "_\(suffix)"; suffix += 1 }
        if name != keepalivedName {
            let why = Values.isVIPDName(keepalivedName) ? "an earlier instance's converted name is \(keepalivedName)" : "vipd names are 1–64 of A-Z a-z 0-9 _ - ."
            note(block.location, "vrrp_instance \(keepalivedName): \(why); it is called \(name), which notify scripts and `vipd status` then show: rename it in keepalived.conf to keep one name")
        }
        var draft = InstanceDraft(keepalivedName: keepalivedName, name: name, location: block.location)
        let body = block.block ?? []
        // The settings other keys depend on, first.
        if let p = body.last(where: { $0.keyword == "priority" }), let v = p.value.flatMap({ Values.integer($0, in: 1...255) }) { draft.priority = v }
        var version = defaultVersion?.0 ?? 2
        var versionOrigin = defaultVersion?.1
        if let v = body.last(where: { $0.keyword == "version" }) {
            if let n = v.value.flatMap({ Values.integer($0, in: 2...3) }) { version = n; versionOrigin = v.location } else { invalid(v, "2 or 3") }
        }
        var family: Int?
        var addresses: [YAMLElement] = []
        var seenAddresses: [String: SourceLocation] = [:]
        var state: (String, SourceLocation)?
        var nopreempt: SourceLocation?
        var accept: (Bool, SourceLocation)?
        var advert: (Int, SourceLocation)?
        var garpInstance = GarpSettings()
        var unicastSource: (String, SourceLocation)?
        var unicastPeers: [YAMLElement] = []
        var unicastPeerBlock: SourceLocation?
        var notifies: SourceLocation?
        var password: (String, SourceLocation, truncated: Bool)?
        var strictHere = false
        var checksumAsV2: (Bool, SourceLocation)?

        for s in body {
            switch s.keyword {
            case "interface":
                if let v = s.value { draft.keys["interface"] = YAMLEntry("interface", .scalar(YAMLWriter.string(v)), s.location) }
            case "virtual_router_id":
                if let v = s.value.flatMap({ Values.integer($0, in: 1...255) }) {
                    draft.keys["vrid"] = YAMLEntry("vrid", .scalar("\(v)"), s.location)
                } else { invalid(s, "1–255") }
            case "priority":
                if let v = s.value.flatMap({ Values.integer($0, in: 1...255) }) {
                    draft.keys["priority"] = YAMLEntry("priority", .scalar("\(v)"), s.location)
                } else { invalid(s, "1–255") }
            case "advert_int":
                if let us = s.value.flatMap(Values.microseconds), us > 0 { advert = (us, s.location) } else { invalid(s, "a number of seconds") }
            case "version":
                continue
            case "state":
                state = (s.value ?? "", s.location)
            case "nopreempt":
                nopreempt = s.location
            case "preempt":
                continue
            case "preempt_delay":
                if let us = s.value.flatMap(Values.microseconds), us <= 1_000_000_000 {
                    draft.keys["preempt_delay"] = YAMLEntry("preempt_delay", .scalar(Values.duration(microseconds: us)), s.location)
                } else { invalid(s, "0–1000 seconds") }
            case "authentication":
                password = authentication(s, instance: keepalivedName)
            case "auth_hmac":
                if let entry = authHMAC(s, instance: keepalivedName) { draft.keys["auth_hmac"] = entry }
            case "unicast_src_ip":
                if let v = s.value, Values.family(v) != nil, !v.contains("/") { unicastSource = (v, s.location) } else { invalid(s, "an IP address") }
            case "unicast_peer":
                unicastPeerBlock = s.location
                for peer in s.block ?? [] {
                    guard Values.family(peer.keyword) != nil, !peer.keyword.contains("/") else {
                        note(peer.location, "unicast_peer \(peer.keyword) is not an IP address, so it is left out; correct it"); continue
                    }
                    if peer.words.count > 1 {
                        note(peer.location, "unicast_peer \(peer.keyword) \(peer.arguments.joined(separator: " ")): vipd has no per-peer options; the peer is kept without them (vipd's unicast.ttl_check checks TTL 255 for peers on a connected subnet)")
                    }
                    unicastPeers.append(YAMLElement(.scalar(YAMLWriter.string(peer.keyword)), peer.location))
                }
            case "use_vmac":
                draft.keys["virtual_mac"] = YAMLEntry("virtual_mac", .scalar("true"), s.location)
                if let vmacName = s.value {
                    note(s.location, "use_vmac \(vmacName): vipd names the macvlan interface itself; change scripts or firewall rules that name \(vmacName)")
                }
            case "virtual_ipaddress":
                for line in s.block ?? [] {
                    for (address, at) in virtualAddress(line, interface: body.last { $0.keyword == "interface" }?.value) {
                        guard let f = Values.family(address) else {
                            note(at, "\(address) is not an IP address, so it is left out (keepalived skips it too); correct it"); continue
                        }
                        if let family, family != f {
                            note(at, "\(address): keepalived ignores addresses of the other family than the instance's first (IPv\(family)); left out as well: make a separate instance (vipd instances may be dual-stack with version 3)")
                            continue
                        }
                        family = f
                        let host = address.split(separator: "/").first.map { $0.lowercased() } ?? address
                        if let earlier = seenAddresses[host] {
                            note(at, "\(address) is listed again (first at \(earlier)); keepalived adds it once, and so does the import: remove the repeat")
                            continue
                        }
                        seenAddresses[host] = at
                        addresses.append(YAMLElement(.scalar(YAMLWriter.string(address)), at))
                    }
                }
            case "virtual_ipaddress_excluded":
                note(s.location, "virtual_ipaddress_excluded is not converted: vipd has no addresses outside the advertisement; add them with `ip addr add/del` in notify_master / notify_backup, or list them in virtual_ipaddress on every router of the group")
            case "virtual_routes", "virtual_rules":
                note(s.location, "\(s.keyword) is not converted: vipd adds no routes or rules; add them in notify_master / notify_backup scripts")
            case "track_interface":
                trackInterfaces(s, into: &draft)
            case "track_script":
                trackScripts(s, into: &draft)
            case "track_file", "track_process":
                note(s.location, "\(s.keyword) is not converted: \(Self.unsupportedBlocks[s.keyword]!)")
            case "track_bfd":
                note(s.location, "track_bfd is not converted: vipd has no BFD; track the peer with a track script instead")
            case "garp_master_delay":
                if let v = s.value.flatMap({ Values.integer($0, in: 0...3600) }) { garpInstance.repeatAfter = (v * 1_000_000, s.location) } else { invalid(s, "0–3600 seconds") }
            case "garp_master_repeat":
                if let v = s.value.flatMap({ Values.integer($0, in: 1...100) }) { garpInstance.count = (v, s.location) } else { invalid(s, "1–100") }
            case "garp_master_refresh":
                if let v = s.value.flatMap({ Values.integer($0, in: 0...3600) }) { garpInstance.refresh = (v * 1_000_000, s.location) } else { invalid(s, "0–3600 seconds") }
            case "garp_interval", "gna_interval":
                guard let us = s.value.flatMap(Values.microseconds), us <= 10_000_000 else { invalid(s, "0–10 seconds"); continue }
                if let existing = garpInstance.interval, existing.0 != us {
                    note(s.location, "\(s.keyword) differs from the other GARP/NA interval (\(Values.duration(microseconds: existing.0))): vipd has one interval for both and uses the first")
                } else {
                    garpInstance.interval = (us, s.location)
                }
            case "garp_master_refresh_repeat":
                note(s.location, "garp_master_refresh_repeat is not converted: a vipd refresh sends garp.count messages; set garp.count if you need more per refresh")
            case "lower_prio_no_advert", "higher_prio_send_advert", "smtp_alert", "notify_priority_changes", "skip_check_adv_addr":
                guard let on = flag(s) else { continue }
                if on { note(s.location, Self.flagAdvice[s.keyword]!) }
            case "strict_mode":
                guard let on = flag(s) else { continue }
                if on {
                    strictHere = true
                    note(s.location, "strict_mode: vipd already refuses what it refuses (authentication with version 3, accept with version 2), but installs no firewall rules dropping traffic to the virtual addresses: add an nftables rule if you relied on them")
                }
            case "v3_checksum_as_v2":
                guard let on = flag(s) else { continue }
                checksumAsV2 = (on, s.location)
            case "garp_lower_prio_delay", "garp_lower_prio_repeat":
                note(s.location, "\(s.keyword) is not converted: vipd answers a lower-priority advertisement with its own advertisement (RFC 9568) and sends no extra gratuitous ARP then; nothing to do unless your switches need it")
            case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
                guard let entry = notifyCommand(s) else { continue }
                notifies = notifies ?? s.location
                draft.keys[s.keyword] = entry
            case "notify_deleted", "notify_master_rx_lower_pri":
                note(s.location, "\(s.keyword) is not converted: vipd has no such event; nothing to do unless a script relied on it")
            case "accept":
                accept = (true, s.location)
            case "no_accept":
                accept = (false, s.location)
                note(s.location, "no_accept: vipd records accept: false but installs no firewall rule dropping traffic to the virtual addresses (keepalived does); add an nftables rule if you relied on it")
            case "dont_track_primary":
                note(s.location, "dont_track_primary is not converted: vipd always watches the instance's interface (down = Fault); nothing to do unless you relied on ignoring it")
            case "mcast_src_ip":
                note(s.location, "mcast_src_ip is not converted: vipd sends multicast adverts from the interface's primary address; make that address the one you want")
            case "vmac_xmit_base":
                note(s.location, "vmac_xmit_base is not converted: vipd sends from the virtual MAC interface; nothing to do unless peers filter on it")
            default:
                note(s.location, "vrrp_instance \(keepalivedName) \(s.keyword) has no vipd equivalent and is not converted; check keepalived.conf(5) for what it did and whether you need it")
            }
        }

        guard draft.keys["interface"] != nil, draft.keys["vrid"] != nil else {
            note(block.location, "vrrp_instance \(keepalivedName) has no \(draft.keys["interface"] == nil ? "interface" : "virtual_router_id"), so it is not converted (keepalived refuses it too); add one")
            return
        }
        guard !addresses.isEmpty else {
            note(block.location, "vrrp_instance \(keepalivedName) has no virtual address vipd can use, so it is not converted; add a virtual_ipaddress")
            return
        }
        var versionRemark: String? = versionOrigin == nil ? "version 2: keepalived's default, written out (vipd's default is 3)" : nil
        let explicitVersion = body.last { $0.keyword == "version" }.flatMap { $0.value.flatMap { Values.integer($0, in: 2...3) } }
        if family == 6 && version == 2 {
            if explicitVersion == 2, let versionOrigin {
                if strict == nil && !strictHere {
                    note(versionOrigin, "version 2 with IPv6 addresses: keepalived runs VRRPv2 over IPv6 (its own extension), vipd runs version 2 for IPv4 only; converted as version 3: the other routers must run version 3 too (write version 3 in their keepalived.conf)")
                } else {
                    note(versionOrigin, "version 2 with IPv6 addresses under strict mode: keepalived runs version 3, and so does the import; write version 3")
                }
            }
            version = 3
            versionOrigin = explicitVersion == nil ? nil : versionOrigin
            versionRemark = explicitVersion == nil ? "version 3: keepalived's choice for an instance with IPv6 addresses, written out" : nil
        }
        draft.keys["version"] = YAMLEntry("version", .scalar("\(version)"), versionOrigin ?? block.location, remark: versionRemark)
        if let (us, at) = advert {
            draft.keys["advert_interval"] = YAMLEntry("advert_interval", .scalar(advertInterval(us, version: version, at: at)), at)
        }
        if let (pass, at, truncated) = password {
            if version == 3 {
                note(at, "authentication: VRRPv3 has no authentication (keepalived ignores it with version 3 too), so it is not converted; use auth_hmac if you need it")
            } else {
                draft.keys["auth_pass"] = YAMLEntry("auth_pass", .scalar(YAMLWriter.string(pass)), at,
                                                    remark: truncated ? "auth_pass: the first 8 bytes of keepalived's auth_pass, the part keepalived sends" : nil)
            }
        }
        if let nopreempt {
            if draft.priority == 255 {
                note(nopreempt, "nopreempt with priority 255: the address owner always preempts (keepalived ignores nopreempt there too); not converted")
            } else {
                draft.keys["preempt"] = YAMLEntry("preempt", .scalar("false"), nopreempt)
                if let delay = draft.keys.removeValue(forKey: "preempt_delay") {
                    note(delay.origin ?? nopreempt, "preempt_delay with nopreempt: keepalived drops the delay (they are incompatible), and so does the import; remove one of them")
                }
                if let state, state.0 == "MASTER" {
                    note(state.1, "nopreempt with state MASTER: keepalived takes the addresses at start and so preempts anyway; vipd starts as Backup and honours nopreempt; set state BACKUP in keepalived too to see the same behaviour on both")
                }
            }
        }
        if let state, ["MASTER", "BACKUP"].contains(state.0) {
            draft.remark = "state \(state.0) (\(state.1)) is keepalived's start hint only: vipd starts every instance as Backup and becomes Master when it hears no higher priority within the Master_Down_Interval"
        } else if let state {
            note(state.1, "state \(state.0) is not MASTER or BACKUP; keepalived refuses it; nothing is converted from it")
        }
        if version == 3 {
            let value = accept?.0 ?? ((strict == nil && !strictHere) || draft.priority == 255)
            draft.keys["accept"] = YAMLEntry("accept", .scalar(value ? "true" : "false"), accept?.1 ?? block.location,
                                             remark: accept == nil ? "accept: keepalived's default for this instance (on unless vrrp_strict; on for priority 255), written out" : nil)
        }
        draft.keys["addresses"] = YAMLEntry("addresses", .list(addresses), nil)
        if let (on, at) = checksumAsV2 {
            if version == 3 && family == 4 {
                draft.keys["v3_checksum_as_v2"] = YAMLEntry("v3_checksum_as_v2", .scalar(on ? "true" : "false"), at)
                if on {
                    note(at, "v3_checksum_as_v2 is newer than keepalived 2.2, which ignores it (unknown keyword) and sends the pseudo-header form; the import carries it over: remove it if this keepalived is 2.2 and its peers expect the pseudo-header form")
                }
            } else if on {
                note(at, "v3_checksum_as_v2 applies to version 3 IPv4 instances only; not converted")
            }
        }
        if let (source, at) = unicastSource {
            if unicastPeers.isEmpty {
                note(at, "unicast_src_ip without unicast_peer: keepalived then sends multicast from this address; vipd sends multicast from the interface's primary address; not converted")
            } else {
                draft.keys["unicast"] = YAMLEntry("unicast", .mapping([YAMLEntry("source", .scalar(YAMLWriter.string(source)), at),
                                                                     YAMLEntry("peers", .list(unicastPeers), unicastPeerBlock)]), nil)
            }
        } else if let unicastPeerBlock, !unicastPeers.isEmpty {
            note(unicastPeerBlock, "unicast_peer without unicast_src_ip: keepalived sends from the interface's primary address, vipd needs it written; the instance was converted as multicast, which the peers will not hear: add unicast_src_ip (this router's address on the interface) and import again")
        }
        if let entry = garpEntry(garpInstance) { draft.keys["garp"] = entry }
        if let notifies {
            draft.keys["notify_style"] = YAMLEntry("notify_style", .scalar("keepalived"), notifies,
                                                   remark: "notify_style keepalived: the notify scripts get keepalived's arguments, as script_user")
        }
        instances.append(draft)
    }

    /// `authentication { auth_type PASS; auth_pass SECRET }`: the password keepalived uses (its
    /// first 8 bytes), or nil after a note.
    mutating func authentication(_ block: Statement, instance: String) -> (String, SourceLocation, truncated: Bool)? {
        let body = block.block ?? []
        let type = body.last { $0.keyword == "auth_type" }
        if let type, type.value != "PASS" {
            note(type.location, "auth_type \(type.value ?? "") (IPsec AH) is not converted: vipd has no AH authentication; use auth_hmac, or auth_type PASS on every router")
            return nil
        }
        guard let pass = body.last(where: { $0.keyword == "auth_pass" }), let secret = pass.value, !secret.isEmpty else {
            note(block.location, "authentication without auth_pass is not converted (keepalived ignores it too)")
            return nil
        }
        let bytes = Array(secret.utf8)
        if bytes.count > 8 {
            return (String(decoding: bytes.prefix(8), as: UTF8.self), pass.location, true)
        }
        return (secret, pass.location, false)
    }

    /// keepalived's `auth_hmac { key ID VALUE; active_key ID; anti_replay; time_window; mode }`.
    mutating func authHMAC(_ block: Statement, instance: String) -> YAMLEntry? {
        var keys: [YAMLEntry] = [], entries: [YAMLEntry] = []
        for s in block.block ?? [] {
            switch s.keyword {
            case "key":
                guard s.words.count == 3, let id = Values.integer(s.words[1], in: 1...255) else { invalid(s, "key ID(1–255) VALUE"); continue }
                var key = s.words[2]
                let credential = "file:$CREDENTIALS_DIRECTORY/"
                if key.hasPrefix(credential) { key = "file:" + key.dropFirst(credential.count) }   // vipd looks a bare name up there
                keys.append(YAMLEntry("\(id)", .scalar(YAMLWriter.string(key)), s.location))
            case "active_key":
                if let id = s.value.flatMap({ Values.integer($0, in: 1...255) }) { entries.append(YAMLEntry("active_key", .scalar("\(id)"), s.location)) } else { invalid(s, "1–255") }
            case "anti_replay":
                if let v = s.value, ["time", "monotonic"].contains(v) { entries.append(YAMLEntry("anti_replay", .scalar(v), s.location)) } else { invalid(s, "time or monotonic") }
            case "time_window":
                if let v = s.value.flatMap({ Values.integer($0, in: 1...300) }) { entries.append(YAMLEntry("time_window", .scalar("\(v)s"), s.location)) } else { invalid(s, "1–300 seconds") }
            case "mode":
                if let v = s.value, ["enforce", "permissive", "receive-only"].contains(v) { entries.append(YAMLEntry("mode", .scalar(v), s.location)) } else { invalid(s, "enforce, permissive or receive-only") }
            default:
                note(s.location, "auth_hmac \(s.keyword) is not converted: vipd's auth_hmac has key, active_key, anti_replay, time_window and mode")
            }
        }
        guard !keys.isEmpty else {
            note(block.location, "auth_hmac without a key is not converted (keepalived refuses it too); add key ID VALUE")
            return nil
        }
        return YAMLEntry("auth_hmac", .mapping([YAMLEntry("keys", .mapping(keys), nil)] + entries), block.location)
    }

    /// One line of virtual_ipaddress: the address(es) it gives (ranges expanded), after a note for
    /// each option vipd does not carry.
    mutating func virtualAddress(_ line: Statement, interface: String?) -> [(String, SourceLocation)] {
        let address = line.keyword
        var words = Array(line.arguments)
        while !words.isEmpty {
            let option = words.removeFirst()
            let argument = words.first
            switch option {
            case "dev":
                if argument != nil { words.removeFirst() }
                if argument != interface {
                    note(line.location, "\(address) dev \(argument ?? ""): vipd adds an instance's addresses on its interface (\(interface ?? "")); left on \(interface ?? "the interface"): make a separate instance on \(argument ?? "that device") if it must be there")
                }
            case "scope":
                if argument != nil { words.removeFirst() }
                if argument != "global" && argument != "universe" {
                    note(line.location, "\(address) scope \(argument ?? ""): vipd adds addresses with scope global; change it afterwards with `ip addr change` from notify_master if you need it")
                }
            case "label":
                if argument != nil { words.removeFirst() }
                note(line.location, "\(address) label \(argument ?? ""): vipd adds addresses without a label; scripts that look the address up by label (ifconfig-style \(argument ?? "")) must look it up by address instead")
            case "brd", "broadcast":
                if argument != nil { words.removeFirst() }
                note(line.location, "\(address) brd \(argument ?? ""): vipd adds addresses without a broadcast address; nothing to do unless something sends to that broadcast through this address")
            case "no_track":
                continue   // vipd stays Master when a VIP is removed, and puts it back.
            case "preferred_lft", "track_group", "metric", "table":
                if let argument, !argument.isEmpty { words.removeFirst() }
                note(line.location, "\(address) \(option): not converted (vipd adds the address with the kernel's defaults)")
            default:
                note(line.location, "\(address) \(option): not converted (vipd adds the address with the kernel's defaults)")
            }
        }
        return [(address, line.location)]
    }

    /// `track_interface` lines as keepalived 2.2.7 reads them (`alloc_track_if` in vrrp_track.c):
    /// a second word other than `weight`, or `weight` without a value, makes it ignore the line; a
    /// weight outside -254–254 becomes 0 (Fault while down). On an address owner, keepalived stops
    /// tracking an interface with a weight (vrrp_complete_instance); a sync group's tracking
    /// (`groupHasOwner` not nil) keeps the interface, with weight 0 when a member is an owner.
    mutating func trackInterfaces(_ block: Statement, into draft: inout InstanceDraft, groupHasOwner: Bool? = nil) {
        for line in block.block ?? [] {
            let name = line.keyword
            guard !draft.trackInterfaceNames.contains(name) else { continue }
            var entries = [YAMLEntry("name", .scalar(YAMLWriter.string(name)), line.location)]
            if line.words.count > 1 && line.words[1] != "weight" {
                note(line.location, "track_interface \(line.words.joined(separator: " ")): keepalived ignores the whole line (it knows no option \(line.words[1]) there), so \(name) is not tracked; so does the import: remove the line, or write `\(name)` or `\(name) weight W`")
                continue
            }
            if line.words.count == 2 {
                note(line.location, "track_interface \(name) weight without a value: keepalived ignores the line, so \(name) is not tracked; so does the import: write `weight W` or remove it")
                continue
            }
            if line.words.count >= 3 {
                let valid = Values.integer(line.words[2], in: -254...254)
                if valid == nil {
                    note(line.location, "track_interface \(name) weight \(line.words[2]): not -254–254, so keepalived tracks \(name) without a weight (Fault while it is down); so does the import: correct the weight")
                }
                let w = valid ?? 0
                if line.words.count > 3 && line.words[3] == "reverse" {
                    note(line.location, w == 0
                         ? "track_interface \(name) weight 0 reverse: keepalived puts the instance in Fault while \(name) is up; vipd has no reverse: the import tracks it without it (Fault while down), the opposite: remove the line or track another interface"
                         : "track_interface \(name) weight \(w) reverse: keepalived's reverse changes the priority by \(-w) while \(name) is \(w < 0 ? "down" : "up"); vipd has no reverse for interfaces: the weight is kept without it (\(w) while \(name) is \(w < 0 ? "down" : "up")), the opposite: change the weight before migrating")
                }
                if draft.priority == 255 && w != 0 && groupHasOwner == nil {
                    note(line.location, "track_interface \(name) weight \(w) on an instance with priority 255 (the address owner, whose priority cannot change): keepalived stops tracking \(name) (it logs \"ignoring … tracked interface … due to address owner\"), and so does the import: the instance stays Master while \(name) is down; write it without a weight to put the instance in Fault instead")
                    continue
                }
                if groupHasOwner == true && w != 0 {
                    note(line.location, "track_interface \(name) weight \(w) in the tracking of a sync group with an address owner (priority 255): keepalived clears the weight, and so does the import: the instance goes to Fault while the interface is down; write no weight or lower the priority")
                    entries.append(YAMLEntry("weight", .scalar("0"), line.location))
                } else if let valid {
                    entries.append(YAMLEntry("weight", .scalar("\(valid)"), line.location))
                }
            }
            draft.trackInterfaceNames.insert(name)
            draft.trackInterfaces.append(YAMLElement(.mapping(entries), line.location))
        }
    }

    mutating func trackScripts(_ block: Statement, into draft: inout InstanceDraft, groupHasOwner: Bool? = nil) {
        for line in block.block ?? [] {
            let name = line.keyword
            guard !draft.trackScriptNames.contains(Values.vipdName(name)) else { continue }
            var weight: (Int, SourceLocation)?
            var reverse: Bool?
            // keepalived 2.2.7 (alloc_track_script) ignores the line for an unknown option or a
            // weight without a value.
            if line.words.count > 1 && line.words[1] != "weight" || line.words.count == 2 {
                note(line.location, "track_script \(line.words.joined(separator: " ")): keepalived ignores the whole line (\(line.words.count == 2 ? "weight without a value" : "it knows no option \(line.words[1]) there")), so \(name) is not tracked; so does the import: write `\(name)` or `\(name) weight W`")
                continue
            }
            if line.words.count >= 3 {
                guard let w = Values.integer(line.words[2], in: -254...254) else { invalid(line, "weight -254–254"); continue }
                weight = (w, line.location)
                if line.words.count > 3 && line.words[3] == "reverse" { reverse = true }
                if line.words.count > 3 && line.words[3] == "noreverse" { reverse = false }
            }
            if let element = trackScript(name, at: line.location, weight: weight, reverse: reverse, ownerPriority: draft.priority, groupHasOwner: groupHasOwner) {
                draft.trackScriptNames.insert(Values.vipdName(name))
                draft.trackScripts.append(element)
            }
        }
    }

    /// A sync group's tracking, added to one member (as keepalived applies it to every member).
    mutating func applyGroupTracking(_ index: Int, groupHasOwner: Bool) {
        var draft = instances[index]
        for block in draft.groupTracking {
            if block.keyword == "track_interface" { trackInterfaces(block, into: &draft, groupHasOwner: groupHasOwner) } else { trackScripts(block, into: &draft, groupHasOwner: groupHasOwner) }
        }
        draft.groupTracking = []
        instances[index] = draft
    }

    /// A notify script given its own user (`notify_master CMD USER [GROUP]`): vipd runs every
    /// notify script as script_user.
    /// A `notify*` line as vipd's key of the same name: the words keepalived runs, written so that
    /// vipd's splitting (and /bin/sh's) gives them back; nil after a note.
    mutating func notifyCommand(_ s: Statement) -> YAMLEntry? {
        guard let (arguments, rest) = ScriptWords.command(s) else {
            note(s.location, "\(s.keyword): keepalived cannot read this script line (an open quote or escape), so it ignores it; correct the quoting")
            return nil
        }
        guard arguments[0].hasPrefix("/") else {
            note(s.location, "\(s.keyword): \(arguments[0]) is not an absolute path (keepalived looks it up in PATH); vipd runs no PATH search, so it is not converted: write the full path and import again")
            return nil
        }
        guard !ScriptWords.hasControlCharacters(arguments, allowingTab: true) else {
            note(s.location, "\(s.keyword): an argument holds a control character other than a tab (from an escape such as \\x01 or \\n), which vipd's configuration refuses; not converted: pass it another way (e.g. let the script decode it)")
            return nil
        }
        operatorsAsArguments(s, arguments)
        scriptRunsAsOther(s, user: rest)
        return YAMLEntry(s.keyword, .scalar(YAMLWriter.string(ScriptWords.shellCommand(arguments))), s.location)
    }

    /// keepalived runs scripts without a shell: `&&`, `|`, `;`, `>` … reach the program as arguments.
    mutating func operatorsAsArguments(_ s: Statement, _ arguments: [String]) {
        let operators = arguments.dropFirst().filter { ["&&", "||", "|", ";", ">", ">>", "<", "&", "2>&1"].contains($0) }
        guard let first = operators.first else { return }
        note(s.location, "\(s.keyword): keepalived runs \(arguments[0]) without a shell, so \(first) reaches it as an argument; the import keeps that (quoted), but if you meant a shell, write \"/bin/sh -c '…'\" in keepalived.conf and import again")
    }

    mutating func scriptRunsAsOther(_ s: Statement, user words: [String]) {
        guard let first = words.first else { return }
        let user = first + (words.count > 1 ? ":" + words[1] : "")
        if user != scriptUser {
            note(s.location, "\(s.keyword) runs as \(user) in keepalived; vipd runs notify scripts as script_user (\(scriptUser ?? "not set")); make the script switch user (e.g. runuser -u \(first) --), or set script_user")
        }
    }

    mutating func advertInterval(_ us: Int, version: Int, at: SourceLocation) -> String {
        let result: Int
        if version == 2 {
            result = min(255, max(1, (us + 500_000) / 1_000_000)) * 1_000_000
        } else {
            result = min(4095, max(1, (us + 5_000) / 10_000)) * 10_000
        }
        if result != us {
            note(at, "advert_int \(Values.duration(microseconds: us)) is not possible with version \(version) (\(version == 2 ? "whole seconds, 1–255" : "steps of 10ms, 10ms–40.95s")); \(Values.duration(microseconds: result)) is used, as keepalived rounds it: write that value")
        }
        return Values.duration(microseconds: result)
    }

    mutating func garpEntry(_ instance: GarpSettings) -> YAMLEntry? {
        var entries: [YAMLEntry] = []
        if let (n, at) = instance.count ?? garp.count { entries.append(YAMLEntry("count", .scalar("\(n)"), at)) }
        if let (us, at) = instance.interval ?? garp.interval { entries.append(YAMLEntry("interval", .scalar(Values.duration(microseconds: us)), at)) }
        if let (us, at) = instance.repeatAfter ?? garp.repeatAfter { entries.append(YAMLEntry("repeat_after", .scalar(Values.duration(microseconds: us)), at)) }
        if let (us, at) = instance.refresh ?? garp.refresh { entries.append(YAMLEntry("refresh", .scalar(Values.duration(microseconds: us)), at)) }
        return entries.isEmpty ? nil : YAMLEntry("garp", .mapping(entries), nil)
    }
}
