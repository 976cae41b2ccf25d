// The effective configuration as YAML, every default written out.

import VRRP

extension VIPDConfiguration {
    /// The configuration with every default filled in, in the file's own format and key order.
    /// `parse(yaml: renderYAML(), file:)` gives back an equal value.
    public func renderYAML() -> String {
        var out = "# vipd effective configuration (all defaults filled in)\n"
        if let node { out += "node: \(quoted(node))\n" }
        out += "control_socket: \(quoted(controlSocket))\n"
        if let metrics { out += "metrics:\n  listen: \(quoted(metrics.listen))\n" }
        out += "shutdown_timeout: \(DurationText.render(shutdownTimeout))\n"
        out += "log_level: \(logLevel.rawValue)\n"
        out += "instances:\n"
        for i in instances { out += render(i) }
        if syncGroups.isEmpty {
            out += "sync_groups: []\n"
        } else {
            out += "sync_groups:\n"
            for g in syncGroups {
                out += "  - name: \(quoted(g.name))\n"
                out += "    instances: [\(g.instances.map(quoted).joined(separator: ", "))]\n"
            }
        }
        return out
    }

    private func render(_ i: InstanceConfig) -> String {
        var out = "  - name: \(quoted(i.name))\n"
        func line(_ key: String, _ value: String) { out += "    \(key): \(value)\n" }
        line("interface", quoted(i.interface))
        line("vrid", "\(i.vrid)")
        line("priority", "\(i.priority)")
        line("advert_interval", DurationText.render(i.advertInterval.duration))
        line("version", "\(i.version.rawValue)")
        if let pass = i.authPass { line("auth_pass", quoted(pass)) }
        line("preempt", "\(i.preempt)")
        line("preempt_delay", DurationText.render(i.preemptDelay))
        line("accept", "\(i.accept)")
        out += "    addresses:\n"
        for a in i.addresses { out += "      - \(quoted(a.description))\n" }
        if let u = i.unicast {
            out += "    unicast:\n"
            out += "      source: \(quoted(u.source.description))\n"
            out += "      peers: [\(u.peers.map { quoted($0.description) }.joined(separator: ", "))]\n"
        }
        line("virtual_mac", "\(i.virtualMAC)")
        out += "    garp:\n"
        out += "      count: \(i.garp.count)\n"
        out += "      interval: \(DurationText.render(i.garp.interval))\n"
        out += "      repeat_after: \(DurationText.render(i.garp.repeatAfter))\n"
        out += "      refresh: \(DurationText.render(i.garp.refresh))\n"
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
                out += "        - run: \(quoted(s.run))\n"
                out += "          interval: \(DurationText.render(s.interval))\n"
                out += "          timeout: \(DurationText.render(s.timeout))\n"
                out += "          weight: \(s.weight)\n"
                out += "          rise: \(s.rise)\n"
                out += "          fall: \(s.fall)\n"
            }
        }
        if let notify = i.notify { line("notify", quoted(notify)) }
        line("takeover", i.takeover.rawValue)
        line("v3_checksum_as_v2", "\(i.v3ChecksumAsV2)")
        return out
    }
}

/// A YAML double-quoted scalar: always a string, whatever it looks like (`null`, `true`, `51`).
func quoted(_ text: String) -> String {
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
