// The effective configuration as YAML, every default written out.

import VRRP

extension VIPDConfiguration {
    /// The configuration with every default filled in, in the file's own format and key order.
    /// `parse(yaml: renderYAML(), file:)` gives back an equal value. With `redactSecrets` (what
    /// check-config prints) `auth_pass` shows as `<set>` instead, so the output can be shared.
    public func renderYAML(redactSecrets: Bool = false) -> String {
        var out = "# vipd effective configuration (all defaults filled in)\n"
        if let node { out += "node: \(quoted(node))\n" }
        out += "control_socket: \(quoted(controlSocket))\n"
        if let metrics { out += "metrics:\n  listen: \(quoted(metrics.listen))\n" }
        out += "shutdown_timeout: \(DurationText.render(shutdownTimeout))\n"
        out += "log_level: \(logLevel.rawValue)\n"
        out += "realtime_priority: \(realtimePriority ?? 0)\n"
        out += "max_auto_priority: \(maxAutoPriority ?? 0)\n"
        if let minAutoPriorityDelay { out += "min_auto_priority_delay: \(DurationText.render(minAutoPriorityDelay))\n" }
        if let realtimeCPULimit { out += "realtime_cpu_limit: \(DurationText.render(realtimeCPULimit))\n" }
        out += "lock_memory: \(lockMemory)\n"
        out += "enable_script_security: \(enableScriptSecurity)\n"
        if let scriptUser { out += "script_user: \(quoted(scriptUser.name))\n" }
        out += "instances:\n"
        for i in instances { out += render(i, redactSecrets: redactSecrets) }
        if syncGroups.isEmpty {
            out += "sync_groups: []\n"
        } else {
            out += "sync_groups:\n"
            for g in syncGroups {
                out += "  - name: \(quoted(g.name))\n"
                out += "    instances: [\(g.instances.map(quoted).joined(separator: ", "))]\n"
                if let notify = g.notify { out += "    notify: \(quoted(CommandLine.join(notify)))\n" }
                out += renderStateCommands(g.stateCommands)
            }
        }
        return out
    }

    /// What check-config prints instead of a secret's value.
    public static let redacted = "<set>"

    private func render(_ i: InstanceConfig, redactSecrets: Bool) -> String {
        var out = "  - name: \(quoted(i.name))\n"
        func line(_ key: String, _ value: String) { out += "    \(key): \(value)\n" }
        line("interface", quoted(i.interface))
        // election: none refuses the election's settings, so they are not written out for it.
        line("election", i.election.rawValue)
        if i.runsVRRP {
            line("vrid", "\(i.vrid)")
            line("priority", "\(i.priority)")
            line("advert_interval", DurationText.render(i.advertInterval.duration))
            line("version", "\(i.version.rawValue)")
            if let pass = i.authPass { line("auth_pass", quoted(redactSecrets ? Self.redacted : pass)) }
            line("preempt", "\(i.preempt)")
            line("preempt_delay", DurationText.render(i.preemptDelay))
            line("accept", "\(i.accept)")
        }
        out += "    addresses:\n"
        for a in i.addresses { out += "      - \(quoted(a.description))\n" }
        line("announce", i.announce.rawValue)
        if let route = i.route {
            out += "    route:\n"
            out += "      device: \(quoted(route.device))\n"
            if i.runsVRRP { out += "      release_delay: \(DurationText.render(route.releaseDelay))\n" }
        }
        if let u = i.unicast {
            out += "    unicast:\n"
            out += "      source: \(quoted(u.source.description))\n"
            out += "      peers: [\(u.peers.map { quoted($0.description) }.joined(separator: ", "))]\n"
            if let ttlCheck = u.ttlCheck { out += "      ttl_check: \(ttlCheck)\n" }
        }
        if i.route == nil {
            line("virtual_mac", "\(i.virtualMAC)")
            out += "    garp:\n"
            out += "      count: \(i.garp.count)\n"
            out += "      interval: \(DurationText.render(i.garp.interval))\n"
            out += "      repeat_after: \(DurationText.render(i.garp.repeatAfter))\n"
            out += "      refresh: \(DurationText.render(i.garp.refresh))\n"
        }
        out += "    track:\n"
        if i.track.interfaces.isEmpty {
            out += "      interfaces: []\n"
        } else {
            out += "      interfaces:\n"
            for t in i.track.interfaces { out += "        - { name: \(quoted(t.name)), weight: \(t.weight) }\n" }
        }
        if i.track.scripts.isEmpty {
            out += "      scripts: []\n"
        } else {
            out += "      scripts:\n"
            for s in i.track.scripts {
                out += "        - name: \(quoted(s.name))\n"
                out += "          run: \(quoted(s.run))\n"
                out += "          interval: \(DurationText.render(s.interval))\n"
                out += "          timeout: \(DurationText.render(s.timeout))\n"
                out += "          weight: \(s.weight)\n"
                out += "          rise: \(s.rise)\n"
                out += "          fall: \(s.fall)\n"
                if let user = s.user { out += "          user: \(quoted(user.name))\n" }
            }
        }
        line("notify_style", i.notifyStyle.rawValue)
        if let notify = i.notify {
            line("notify", quoted(i.notifyStyle == .keepalived ? CommandLine.join([notify] + i.notifyArguments) : notify))
        }
        out += renderStateCommands(i.stateCommands)
        if i.runsVRRP {
            line("takeover", i.takeover.rawValue)
            line("v3_checksum_as_v2", "\(i.v3ChecksumAsV2)")
        }
        if let auth = i.authHMAC { out += render(auth, redactSecrets: redactSecrets) }
        return out
    }
}

extension VIPDConfiguration {
    /// `auth_hmac`: inline keys as `hex:…` (or `<set>` when redacting); `file:` keys by their name,
    /// which is not a secret.
    private func render(_ auth: HMACAuthConfig, redactSecrets: Bool) -> String {
        let keys = auth.keys.map { key in
            let value: String
            switch key.source {
            case .file(let path): value = "file:" + path
            case .inline: value = redactSecrets ? Self.redacted : "hex:" + key.material.bytes.map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
            }
            return "\(key.id): \(doubleQuoted(value))"
        }
        var out = "    auth_hmac:\n"
        out += "      keys: { \(keys.joined(separator: ", ")) }\n"
        out += "      active_key: \(auth.activeKey)\n"
        out += "      anti_replay: \(auth.antiReplay.rawValue)\n"
        out += "      time_window: \(DurationText.render(auth.timeWindow))\n"
        out += "      mode: \(auth.mode.rawValue)\n"
        return out
    }
}

/// `notify_master` … `notify_stop` lines of an instance or a sync group (both indented 4).
private func renderStateCommands(_ commands: StateCommands) -> String {
    var out = ""
    for (key, words) in [("notify_master", commands.master), ("notify_backup", commands.backup),
                         ("notify_fault", commands.fault), ("notify_stop", commands.stop)] {
        if let words { out += "    \(key): \(quoted(CommandLine.join(words)))\n" }
    }
    return out
}

/// Words a YAML 1.1 or 1.2 reader may take for something other than a string.
private let specialWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

/// The text as a YAML scalar that any reader takes for this string: plain when it is a simple
/// word or path (`web`, `eth0`, `/etc/vipd/notify.sh`, `192.0.2.1/24`), double-quoted otherwise.
func quoted(_ text: String) -> String {
    let simple = text.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "." || c == "/"
    }
    if simple, let first = text.unicodeScalars.first, (first >= "a" && first <= "z") || (first >= "A" && first <= "Z") || first == "/",
       !specialWords.contains(text.lowercased()) {
        return text
    }
    if simple, text.unicodeScalars.first.map({ $0 >= "0" && $0 <= "9" }) == true,
       text.unicodeScalars.filter({ $0 == "." }).count == 3 {
        return text  // dotted-quad IPv4 address or prefix
    }
    return doubleQuoted(text)
}

/// A YAML double-quoted scalar: always a string, whatever it looks like (`null`, `true`, `51`).
func doubleQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xfeff {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
