// From keepalived's keyword tree to vipd's configuration: global_defs, vrrp_script, vrrp_sync_group,
// and the blocks vipd has no counterpart for. Instances are in ConvertInstance.swift.

/// A `vrrp_script` block.
struct VRRPScript {
    var name: String
    var location: SourceLocation
    /// The program and its arguments, as keepalived runs them.
    var run: ([String], SourceLocation)?
    var interval: (Int, SourceLocation)?
    var timeout: (Int, SourceLocation)?
    var weight: (Int, SourceLocation)?
    var reverse: SourceLocation?
    var rise: (Int, SourceLocation)?
    var fall: (Int, SourceLocation)?
    var user: (String, SourceLocation)?
    var initFail: SourceLocation?
    var used = false
    /// Position among the top-level blocks: keepalived 2.2 finds a script only from blocks after it.
    var order = 0
}

/// Global gratuitous-ARP defaults (`vrrp_garp_*`), applied to every instance unless it sets its own.
struct GarpSettings {
    var count: (Int, SourceLocation)?
    var interval: (Int, SourceLocation)?
    var repeatAfter: (Int, SourceLocation)?
    var refresh: (Int, SourceLocation)?
}

struct Converter {
    var notes: [ImportNote] = []
    var top: [String: YAMLEntry] = [:]
    var defaultVersion: (Int, SourceLocation)?
    var strict: SourceLocation?
    /// `max_auto_priority` (on) and `min_auto_priority_delay` in microseconds, with their lines.
    var autoPriority: SourceLocation?
    var minAutoPriorityDelay: (Int, SourceLocation)?
    /// `vrrp_rlimit_rttime` in microseconds, with its line.
    var realtimeCPULimit: (Int, SourceLocation)?
    var scriptUser: String?
    var garp = GarpSettings()
    var scripts: [String: VRRPScript] = [:]
    var scriptOrder: [String] = []
    var instances: [InstanceDraft] = []
    var groups: [YAMLElement] = []
    /// Position of the top-level block being converted.
    var position = 0

    mutating func note(_ location: SourceLocation, _ message: String) {
        let note = ImportNote(location, message)
        if !notes.contains(note) { notes.append(note) }   // a script shared by instances is noted once
    }

    /// Blocks vipd has no counterpart for, and what to use instead.
    static let unsupportedBlocks: [String: String] = [
        "virtual_server": "vipd does no load balancing (LVS/IPVS): keep keepalived's checker process for it (keepalived --check), or move the service to another load balancer",
        "virtual_server_group": "vipd does no load balancing (LVS/IPVS): keep keepalived's checker process for it (keepalived --check)",
        "real_server": "vipd does no load balancing (LVS/IPVS): keep keepalived's checker process for it (keepalived --check)",
        "bfd_instance": "vipd has no BFD: detect the peer with a track script instead, or keep keepalived's BFD process",
        "static_ipaddress": "vipd adds only virtual addresses: configure static addresses in the system's network configuration",
        "static_routes": "vipd adds no routes: configure static routes in the system's network configuration",
        "static_rules": "vipd adds no routing rules: configure them in the system's network configuration",
        "static_track_group": "vipd has no static track groups: track the interfaces in each instance's track_interface instead",
        "linkbeat_interfaces": "vipd watches link state through netlink for every tracked interface; nothing to do",
        "vrrp_track_file": "vipd has no track files: use a track script that reads the file (e.g. a script exiting non-zero when the file holds a non-zero value)",
        "track_file": "vipd has no track files: use a track script that reads the file (e.g. a script exiting non-zero when the file holds a non-zero value)",
        "vrrp_track_process": "vipd has no process tracking: use a track script running /usr/bin/pgrep -x NAME",
        "track_process": "vipd has no process tracking: use a track script running /usr/bin/pgrep -x NAME",
        "garp_group": "vipd has no GARP groups: set garp per instance",
        "vrrp_group": "vipd has no vrrp_group: use vrrp_sync_group",
    ]

    mutating func convert(_ statements: [Statement], file: String) -> [YAMLEntry] {
        // vrrp_script blocks may come after the instances that track them.
        for (index, s) in statements.enumerated() where s.keyword == "vrrp_script" { position = index; script(s) }
        for s in statements where s.keyword == "global_defs" { globalDefs(s) }
        for (index, s) in statements.enumerated() {
            position = index
            switch s.keyword {
            case "global_defs", "vrrp_script": continue
            case "vrrp_instance": instance(s)
            case "vrrp_sync_group": continue
            default:
                if let advice = Self.unsupportedBlocks[s.keyword] {
                    note(s.location, "\(s.keyword)\(s.value.map { " " + $0 } ?? "") is not converted: \(advice)")
                } else {
                    note(s.location, "unknown top-level keyword \(s.keyword) is not converted: check keepalived.conf(5) and carry its effect over by hand")
                }
            }
        }
        for (index, s) in statements.enumerated() where s.keyword == "vrrp_sync_group" { position = index; syncGroup(s) }
        for name in scriptOrder where !(scripts[name]?.used ?? true) {
            note(scripts[name]!.location, "vrrp_script \(name) is tracked by no instance, so it is not converted (keepalived does not run it either); nothing to do")
        }
        return assemble(file: file)
    }

    // MARK: global_defs

    mutating func globalDefs(_ block: Statement) {
        for s in block.block ?? [] {
            let value = s.value
            switch s.keyword {
            case "router_id":
                if let value { top["node"] = YAMLEntry("node", .scalar(YAMLWriter.string(value)), s.location) }
            case "vrrp_version":
                if let v = value.flatMap({ Values.integer($0, in: 2...3) }) { defaultVersion = (v, s.location) } else { invalid(s, "2 or 3") }
            case "vrrp_rt_priority":
                if let v = value.flatMap({ Values.integer($0, in: 1...99) }) {
                    top["realtime_priority"] = YAMLEntry("realtime_priority", .scalar("\(v)"), s.location)
                } else { invalid(s, "1–99") }
            case "max_auto_priority":
                // No value: the highest SCHED_RR priority; 0 and -1 (-1 only silences keepalived's
                // start-up warning) are off, vipd's default.
                guard let v = value.map({ Values.integer($0, in: -1...99) }) ?? 99 else { invalid(s, "-1–99"); continue }
                if v > 0 {
                    top["max_auto_priority"] = YAMLEntry("max_auto_priority", .scalar("\(v)"), s.location)
                    autoPriority = s.location
                }
            case "min_auto_priority_delay":
                guard let us = value.flatMap({ Values.integer($0, in: 1...10_000_000) }) else { invalid(s, "1–10000000 microseconds"); continue }
                let floor = 2_000
                if us < floor {
                    note(s.location, "min_auto_priority_delay \(us) µs is below vipd's smallest, \(Values.duration(microseconds: floor)) (its event loop may hold a timer back 1 ms on purpose under load): written as \(Values.duration(microseconds: floor))")
                }
                minAutoPriorityDelay = (max(us, floor), s.location)
            case "vrrp_rlimit_rttime", "vrrp_rlimit_rtime":   // the second: keepalived's old spelling
                guard let us = value.flatMap({ Values.integer($0, in: 1...Int(UInt32.max)) }) else { invalid(s, "1–4294967295 microseconds"); continue }
                realtimeCPULimit = (us, s.location)
            case "vrrp_no_swap":
                top["lock_memory"] = YAMLEntry("lock_memory", .scalar("true"), s.location)
            case "vrrp_strict":
                strict = s.location
                note(s.location, "vrrp_strict: vipd already refuses what it refuses (authentication with version 3, accept with version 2) and sends the RFC's adverts, but installs no firewall rules dropping traffic to the virtual addresses: add an nftables rule if you relied on them")
            case "script_user":
                guard let user = value else { invalid(s, "a user name"); continue }
                let spec = s.words.count > 2 ? "\(user):\(s.words[2])" : user
                scriptUser = spec
                top["script_user"] = YAMLEntry("script_user", .scalar(YAMLWriter.string(spec)), s.location)
            case "enable_script_security":
                top["enable_script_security"] = YAMLEntry("enable_script_security", .scalar("true"), s.location)
            case "vrrp_garp_master_delay":
                if let v = value.flatMap({ Values.integer($0, in: 0...3600) }) { garp.repeatAfter = (v * 1_000_000, s.location) } else { invalid(s, "0–3600 seconds") }
            case "vrrp_garp_master_repeat":
                if let v = value.flatMap({ Values.integer($0, in: 1...100) }) { garp.count = (v, s.location) } else { invalid(s, "1–100") }
            case "vrrp_garp_master_refresh":
                if let v = value.flatMap({ Values.integer($0, in: 0...3600) }) { garp.refresh = (v * 1_000_000, s.location) } else { invalid(s, "0–3600 seconds") }
            case "vrrp_garp_interval", "vrrp_gna_interval":
                guard let us = value.flatMap(Values.microseconds), us <= 10_000_000 else { invalid(s, "0–10 seconds"); continue }
                if let existing = garp.interval, existing.0 != us {
                    note(s.location, "\(s.keyword) \(value!) differs from the other GARP/NA interval (\(Values.duration(microseconds: existing.0))): vipd has one interval for both; it uses the first, \(Values.duration(microseconds: existing.0)); set garp.interval in each instance if you want the other")
                } else {
                    garp.interval = (us, s.location)
                }
            case "vrrp_garp_master_refresh_repeat":
                note(s.location, "vrrp_garp_master_refresh_repeat is not converted: a vipd refresh sends garp.count messages; set garp.count in the instances if you need more per refresh")
            case "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert", "smtp_alert", "vrrp_notify_priority_changes":
                guard let on = flag(s) else { continue }
                if on { note(s.location, Self.flagAdvice[s.keyword]!) }
            case "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat":
                note(s.location, "\(s.keyword) is not converted: vipd answers a lower-priority advertisement with its own advertisement (RFC 9568) and sends no extra gratuitous ARP then; nothing to do unless your switches need it")
            case "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout", "smtp_helo_name", "smtp_alert_vrrp":
                note(s.location, "\(s.keyword) is not converted: vipd sends no mail; send it from a notify script (notify_master and the like)")
            case "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "snmp_socket":
                note(s.location, "\(s.keyword) is not converted: vipd has no SNMP; scrape its Prometheus metrics (metrics.listen) instead")
            case "vrrp_mcast_group4", "vrrp_mcast_group6":
                note(s.location, "\(s.keyword) is not converted: vipd always uses the RFC groups 224.0.0.18 / ff02::12; change the other routers back to them, or use unicast")
            case "notify_fifo", "notify_fifo_script", "vrrp_notify_fifo", "vrrp_notify_fifo_script":
                note(s.location, "\(s.keyword) is not converted: vipd has no notify FIFO; give each instance a notify script that writes the line your FIFO reader expects (notify gets INSTANCE NAME STATE PRIORITY)")
            default:
                note(s.location, "global_defs \(s.keyword) has no vipd equivalent and is not converted; remove it, or do its job outside vipd")
            }
        }
    }

    /// What to do about a keepalived option vipd lacks, when it is turned on.
    static let flagAdvice: [String: String] = [
        "vrrp_lower_prio_no_advert": "vrrp_lower_prio_no_advert is not converted: vipd answers a lower-priority advertisement with its own advertisement (RFC 9568); nothing to do",
        "lower_prio_no_advert": "lower_prio_no_advert is not converted: vipd answers a lower-priority advertisement with its own advertisement (RFC 9568); nothing to do",
        "vrrp_higher_prio_send_advert": "vrrp_higher_prio_send_advert is not converted: vipd sends no advertisement on hearing a higher priority, it steps down (RFC 9568); nothing to do",
        "higher_prio_send_advert": "higher_prio_send_advert is not converted: vipd sends no advertisement on hearing a higher priority, it steps down (RFC 9568); nothing to do",
        "smtp_alert": "smtp_alert is not converted: vipd sends no mail; send it from a notify script",
        "vrrp_notify_priority_changes": "vrrp_notify_priority_changes is not converted: vipd runs notify scripts on state changes only; watch vipd_priority in the metrics for priority changes",
        "notify_priority_changes": "notify_priority_changes is not converted: vipd runs notify scripts on state changes only; watch vipd_priority in the metrics for priority changes",
        "skip_check_adv_addr": "skip_check_adv_addr is not converted: nothing to do, vipd takes an advertisement's priority whatever addresses it lists",
    ]

    /// A keyword with an optional BOOL (on/off, yes/no, true/false; none = on); nil after a note.
    mutating func flag(_ s: Statement) -> Bool? {
        guard let word = s.value else { return true }
        guard let value = Values.bool(word) else { invalid(s, "on/off, yes/no or true/false"); return nil }
        return value
    }

    mutating func invalid(_ s: Statement, _ allowed: String) {
        note(s.location, "\(s.words.joined(separator: " ")): the value is not \(allowed) (keepalived would refuse or ignore it too), so it is not converted; correct it")
    }

    // MARK: vrrp_script

    mutating func script(_ block: Statement) {
        guard let name = block.value else { note(block.location, "vrrp_script without a name is not converted (keepalived ignores it too)"); return }
        var script = VRRPScript(name: name, location: block.location, order: position)
        for s in block.block ?? [] {
            switch s.keyword {
            case "script":
                guard let (arguments, rest) = ScriptWords.command(s) else {
                    note(s.location, "vrrp_script \(name): keepalived cannot read this script line (an open quote or escape), so it ignores it; correct the quoting")
                    continue
                }
                if !rest.isEmpty {
                    note(s.location, "vrrp_script \(name): keepalived runs only the first word, \(arguments[0]), and ignores \(rest.joined(separator: " ")); so does the import: quote the whole command (script \"\(([arguments[0]] + rest).joined(separator: " "))\") if the words were meant for it")
                }
                script.run = (arguments, s.location)
            case "interval":
                // keepalived 2.2.7 takes whole seconds here (later releases take fractions).
                if let n = s.value.flatMap({ Values.integer($0, in: 1...4294) }) { script.interval = (n * 1_000_000, s.location) } else { invalid(s, "whole seconds, 1–4294, as keepalived 2.2 reads it") }
            case "timeout":
                if let n = s.value.flatMap({ Values.integer($0, in: 1...4294) }) { script.timeout = (n * 1_000_000, s.location) } else { invalid(s, "whole seconds, 1–4294, as keepalived 2.2 reads it") }
            case "weight":
                if let w = s.value.flatMap({ Values.integer($0, in: -253...253) }) { script.weight = (w, s.location) } else { invalid(s, "-253–253") }
                if s.words.count > 2 && s.words[2] == "reverse" { script.reverse = s.location }
            case "rise":
                if let n = s.value.flatMap({ Values.integer($0, in: 1...1000) }) { script.rise = (n, s.location) } else { invalid(s, "1–1000") }
            case "fall":
                if let n = s.value.flatMap({ Values.integer($0, in: 1...1000) }) { script.fall = (n, s.location) } else { invalid(s, "1–1000") }
            case "user":
                guard let user = s.value else { invalid(s, "a user name"); continue }
                var spec = user
                if s.words.count > 2 { spec += s.words[2].hasPrefix(":") ? s.words[2] : ":" + s.words[2] }
                script.user = (spec, s.location)
            case "init_fail":
                script.initFail = s.location
            default:
                note(s.location, "vrrp_script \(s.keyword) is not converted: vipd's track scripts have run, interval, timeout, weight, rise, fall and user")
            }
        }
        if scripts[name] != nil {
            note(block.location, "vrrp_script \(name) is defined twice; the later one is used (as keepalived does)")
        } else {
            scriptOrder.append(name)
        }
        scripts[name] = script
    }

    /// The track-script entry of `name` for an instance, with an optional weight override.
    /// One `track_script` line: `reverse` is the line's own `reverse`/`noreverse` (nil: the
    /// vrrp_script's); `groupHasOwner` is nil for the instance's own tracking, and for a sync
    /// group's whether a member of the group is an address owner (keepalived then clears weights).
    mutating func trackScript(_ name: String, at reference: SourceLocation, weight: (Int, SourceLocation)?, reverse: Bool?,
                              ownerPriority: Int, groupHasOwner: Bool? = nil) -> YAMLElement? {
        guard var script = scripts[name] else {
            note(reference, "track_script \(name): no vrrp_script \(name) is defined, so nothing is tracked (keepalived ignores it too); define it or remove the line")
            return nil
        }
        guard script.order < position else {
            note(reference, "track_script \(name): vrrp_script \(name) comes later in the configuration (\(script.location)), and keepalived 2.2 ignores a track_script naming a script not yet defined; so does the import: move the vrrp_script block above this one")
            return nil
        }
        let effectiveWeight = weight ?? script.weight
        if ownerPriority == 255 && groupHasOwner == nil, let (w, at) = effectiveWeight, w != 0 {
            // keepalived 2.2.7, vrrp_complete_instance: an address owner "ignoring tracked script …
            // with weights due to address_owner"; it is not tracked at all.
            note(weight != nil ? reference : at, "track_script \(name): weight \(w) on an instance with priority 255 (the address owner, whose priority cannot change): keepalived ignores a weighted script there and does not track it (the instance stays Master while it fails), and so does the import; to put the instance in Fault while it fails, write weight 0")
            return nil
        }
        script.used = true
        scripts[name] = script
        guard let (arguments, runAt) = script.run else {
            note(script.location, "vrrp_script \(name) has no script line, so it is not converted; add one")
            return nil
        }
        let program = arguments[0]
        let command = ScriptWords.shellCommand(arguments)
        guard !ScriptWords.hasControlCharacters(arguments, allowingTab: false) else {
            note(runAt, "vrrp_script \(name): an argument holds a control character (from an escape such as \\t or \\x01), which a track script's run in vipd's configuration refuses; not converted: pass it another way (e.g. let the script decode it)")
            return nil
        }
        operatorsAsArguments(Statement(words: ["vrrp_script \(name)"], location: runAt), arguments)
        guard program.hasPrefix("/") else {
            note(runAt, "vrrp_script \(name): \(program) is not an absolute path (keepalived looks it up in PATH); vipd needs the full path, so the script is not converted: write script \"/full/path/\(program) …\" and import again")
            return nil
        }
        var entries = [YAMLEntry("name", .scalar(YAMLWriter.string(Values.vipdName(name))), script.location),
                       YAMLEntry("run", .scalar(YAMLWriter.string(command)), runAt)]
        let interval = script.interval?.0 ?? 1_000_000
        if let (us, at) = script.interval {
            if us < 100_000 {
                note(at, "vrrp_script \(name) interval \(Values.duration(microseconds: us)) is below vipd's 100ms; 100ms is used")
                entries.append(YAMLEntry("interval", .scalar("100ms"), at))
            } else {
                entries.append(YAMLEntry("interval", .scalar(Values.duration(microseconds: min(us, 3_600_000_000))), at))
            }
        }
        if let (us, at) = script.timeout {
            let bounded = max(10_000, min(us, max(interval, 100_000)))
            if bounded != us {
                note(at, "vrrp_script \(name) timeout \(Values.duration(microseconds: us)) is longer than its interval; vipd refuses overlapping runs, so the timeout is the interval, \(Values.duration(microseconds: bounded)); shorten the script or lengthen the interval")
            }
            entries.append(YAMLEntry("timeout", .scalar(Values.duration(microseconds: bounded)), at))
        }
        if reverse ?? (script.reverse != nil), let (w, at) = effectiveWeight, w != 0 {
            // keepalived (process_script_update_priority): W < 0 applies while the script fails,
            // W > 0 while it succeeds, and reverse multiplies it by -1.
            note(reverse != nil ? reference : script.reverse ?? at, "track_script \(name): weight \(w) with reverse: keepalived changes the priority by \(-w) while the script \(w < 0 ? "fails" : "succeeds"); vipd has no reverse: the import writes weight \(w) (\(w) while the script \(w < 0 ? "fails" : "succeeds")), the opposite; for keepalived's behaviour, invert the script's exit status and write weight \(-w)")
        } else if reverse ?? (script.reverse != nil) {
            note(reverse != nil ? reference : script.reverse ?? reference, "track_script \(name): reverse without a weight: keepalived puts the instance in Fault while the script succeeds; vipd has no reverse: the import faults it while the script fails, the opposite; invert the script's exit status")
        }
        if let (w, at) = effectiveWeight {
            if groupHasOwner == true && w != 0 {
                note(at, "track_script \(name): weight \(w) in the tracking of a sync group with an address owner (priority 255): keepalived clears the weight, and so does the import: the instance goes to Fault while the script fails; write weight 0 or lower the priority")
                entries.append(YAMLEntry("weight", .scalar("0"), at))
            } else {
                entries.append(YAMLEntry("weight", .scalar("\(w)"), at))
            }
        }
        if let (n, at) = script.rise { entries.append(YAMLEntry("rise", .scalar("\(n)"), at)) }
        if let (n, at) = script.fall { entries.append(YAMLEntry("fall", .scalar("\(n)"), at)) }
        if let (user, at) = script.user { entries.append(YAMLEntry("user", .scalar(YAMLWriter.string(user)), at)) }
        if let at = script.initFail {
            note(at, "vrrp_script \(name) init_fail is not converted: vipd counts a track script as passing until its first `fall` failures; nothing to do unless the first seconds after start matter")
        }
        return YAMLElement(.mapping(entries), script.location)
    }

    // MARK: vrrp_sync_group

    mutating func syncGroup(_ block: Statement) {
        guard let name = block.value else { note(block.location, "vrrp_sync_group without a name is not converted; give it one"); return }
        var members: [YAMLElement] = []
        var memberIndices: [Int] = []
        var groupNotify: [String: YAMLEntry] = [:]
        let vipdName = Values.vipdName(name)
        if vipdName != name {
            note(block.location, "vrrp_sync_group \(name): vipd names are 1–64 of A-Z a-z 0-9 _ - .; it is called \(vipdName)")
        }
        for s in block.block ?? [] {
            switch s.keyword {
            case "group":
                for member in (s.block ?? []).flatMap({ line in line.words.map { ($0, line.location) } }) {
                    guard let index = instances.firstIndex(where: { $0.keepalivedName == member.0 }) else {
                        note(member.1, "vrrp_sync_group \(name): no vrrp_instance \(member.0), so it is left out (keepalived refuses the group); remove it")
                        continue
                    }
                    if let other = instances[index].syncGroup {
                        note(member.1, "vrrp_sync_group \(name): \(member.0) is already in \(other) and an instance can be in one group only; it is left out here")
                        continue
                    }
                    instances[index].syncGroup = name
                    memberIndices.append(index)
                    members.append(YAMLElement(.scalar(YAMLWriter.string(instances[index].name)), member.1))
                }
            case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
                if let entry = notifyCommand(s) { groupNotify[s.keyword] = entry }
            case "track_interface", "track_script":
                for index in memberIndices { instances[index].groupTracking.append(s) }
                if memberIndices.isEmpty {
                    note(s.location, "vrrp_sync_group \(name) \(s.keyword) comes before its group { } or the group has no instance; it is not converted: move it after group { }")
                }
            case "track_file", "track_process", "track_bfd":
                note(s.location, "vrrp_sync_group \(name) \(s.keyword) is not converted: \(Self.unsupportedBlocks[s.keyword] ?? "vipd has no BFD: use a track script instead")")
            case "global_tracking", "sync_group_tracking_weight":
                note(s.location, "vrrp_sync_group \(name) \(s.keyword) is not converted: in vipd each member keeps its own tracking weights (the group's track_* are added to every member); nothing to do unless you relied on summed weights")
            default:
                note(s.location, "vrrp_sync_group \(name) \(s.keyword) is not converted: vipd's sync groups list their instances only")
            }
        }
        let hasOwner = memberIndices.contains { instances[$0].priority == 255 }
        for index in memberIndices { applyGroupTracking(index, groupHasOwner: hasOwner) }
        guard !members.isEmpty else {
            note(block.location, "vrrp_sync_group \(name) has no instance left, so it is not converted")
            return
        }
        let notify = ["notify", "notify_master", "notify_backup", "notify_fault", "notify_stop"].compactMap { groupNotify[$0] }
        groups.append(YAMLElement(.mapping([YAMLEntry("name", .scalar(YAMLWriter.string(vipdName)), block.location),
                                            YAMLEntry("instances", .list(members), nil)] + notify), block.location))
    }

    // MARK: output

    /// `vrrp_rlimit_rttime` as `realtime_cpu_limit`. keepalived kills its VRRP process at that much
    /// real-time CPU without a sleep (RLIMIT_RTTIME's hard limit); vipd goes back to normal
    /// scheduling there instead, so the same number means the same moment. Its default, 10 ms,
    /// is not carried over: under load it killed keepalived (docs/benchmarks.md), and vipd's own
    /// default is 1 s.
    mutating func realtimeCPULimitEntry() -> YAMLEntry? {
        guard let (us, location) = realtimeCPULimit else { return nil }
        guard top["realtime_priority"] != nil || autoPriority != nil else {
            note(location, "vrrp_rlimit_rttime \(us) is not converted: it limits real-time scheduling only, and neither vrrp_rt_priority nor max_auto_priority is set (keepalived ignores it too)")
            return nil
        }
        // vipd's range (VIPDConfig's Limits.realtimeCPULimit) and keepalived's default, which happens
        // to equal vipd's floor.
        let (floor, ceiling, keepalivedDefault) = (10_000, 60_000_000, 10_000)
        if us == keepalivedDefault {
            note(location, "vrrp_rlimit_rttime 10000 is keepalived's default, so it is not written: vipd's default realtime_cpu_limit, 1s, applies (keepalived is killed at its limit, and 10 ms killed it under load; vipd goes back to normal scheduling at its own)")
            return nil
        }
        if us < floor {
            note(location, "vrrp_rlimit_rttime \(us) µs is below vipd's smallest realtime_cpu_limit, 10ms (a few scheduler ticks): written as 10ms")
        } else if us > ceiling {
            note(location, "vrrp_rlimit_rttime \(us) µs is above vipd's largest realtime_cpu_limit, 60s: written as 60s")
        }
        return YAMLEntry("realtime_cpu_limit", .scalar(Values.duration(microseconds: min(max(us, floor), ceiling))), location)
    }

    mutating func assemble(file: String) -> [YAMLEntry] {
        var entries: [YAMLEntry] = []
        for key in ["node", "realtime_priority", "max_auto_priority"] {
            if let entry = top[key] { entries.append(entry) }
        }
        if let autoPriority {
            let (us, location) = minAutoPriorityDelay ?? (1_000_000, autoPriority)
            var entry = YAMLEntry("min_auto_priority_delay", .scalar(Values.duration(microseconds: us)), location)
            if minAutoPriorityDelay == nil {
                entry.remark = "keepalived's default, written out; vipd's own default (half the shortest advert_interval, at most 1s) reacts sooner: remove this line to use it"
            }
            entries.append(entry)
        }
        if let entry = realtimeCPULimitEntry() { entries.append(entry) }
        for key in ["lock_memory", "enable_script_security", "script_user"] {
            if let entry = top[key] { entries.append(entry) }
        }
        entries.append(YAMLEntry("instances", .list(instances.map { YAMLElement(.mapping($0.entries()), $0.location) }), nil))
        if !groups.isEmpty { entries.append(YAMLEntry("sync_groups", .list(groups), nil)) }
        return entries
    }
}
