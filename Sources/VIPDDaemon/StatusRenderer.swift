// Human-readable `vipd status`.

public enum StatusRenderer {
    public static func render(_ status: DaemonStatus) -> String {
        var out = ""
        out += "vipd\(status.node.map { " on \($0)" } ?? "") — pid \(status.pid), up \(formatSeconds(status.uptimeSeconds)), config \(status.configPath)\n"
        for instance in status.instances {
            let electing = instance.election == nil
            out += "\n\(instance.name): \(instance.state)  (\(instance.interface), "
            out += electing ? "VRID \(instance.vrid), VRRPv\(instance.version)" : "election: none"
            out += instance.routeDevice.map { ", announce: route on \($0)" } ?? ""
            out += instance.syncGroup.map { ", sync group \($0)" } ?? ""
            out += ")\n"
            for r in instance.routers {
                out += "  \(r.family): \(r.state)"
                if r.releasing { out += " (handing over)" }
                if r.takeoverPending { out += " (TAKEOVER PENDING: run `vipd approve \(instance.name)`)" }
                if r.handoverHold { out += " (handover hold)" }
                if electing {
                    out += "  priority \(r.effectivePriority)"
                    if r.effectivePriority != r.configuredPriority { out += " (configured \(r.configuredPriority))" }
                    out += ", master \(r.master ?? "unknown")"
                    if let p = r.masterPriority, r.state != "Master" { out += " (priority \(p))" }
                    out += ", interval \(r.advertIntervalMs) ms"
                }
                out += "\n"
                out += "    addresses \(r.addresses.joined(separator: " ")) — \(r.holdsAddresses ? "held here" : "not held")\n"
                if let t = r.lastTransition {
                    out += "    last transition \(t.from) -> \(t.to), \(formatSeconds(t.secondsAgo)) ago: \(t.reason)\n"
                }
                let c = r.counters
                out += "    adverts sent \(c.advertsSent), received \(c.advertsReceived); transitions \(c.transitions); announcements \(c.announcements)"
                if c.addressesRestored > 0 { out += "; addresses restored \(c.addressesRestored)" }
                if c.masterDownWithdrawn > 0 { out += "; master-down expiries withdrawn \(c.masterDownWithdrawn)" }
                out += "\n"
                if !c.drops.isEmpty {
                    out += "    dropped: " + c.drops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
                }
            }
            for t in instance.trackers {
                out += "  track \(t.name): \(t.up ? "up" : "DOWN") (weight \(t.weight))\n"
            }
            if instance.notifyCoalesced > 0 || instance.notifyQueued > 1 {
                out += "  notify hooks: \(instance.notifyQueued) running or waiting, \(instance.notifyCoalesced) transitions coalesced\n"
            }
        }
        for interface in status.interfaces where !interface.drops.isEmpty {
            out += "\n\(interface.name) dropped: " + interface.drops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }
        return out
    }

    static func formatSeconds(_ s: Double) -> String {
        if s < 1 { return "\(Int(s * 1000)) ms" }
        if s < 120 { return "\(Int(s)) s" }
        if s < 7200 { return "\(Int(s / 60)) min" }
        return "\(Int(s / 3600)) h"
    }
}
