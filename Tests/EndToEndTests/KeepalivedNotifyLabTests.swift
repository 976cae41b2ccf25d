// keepalived's notify convention, side by side: keepalived 2.2.7 in r1 and vipd (notify_style:
// keepalived) in r2 run the same recording script as notify, notify_master, notify_backup,
// notify_fault and notify_stop, as the same script_user, through the same transitions (Backup at
// start, Master, Backup when a higher-priority router appears, Master when it leaves, Fault when a
// tracked interface goes down, back up, Stop). What the scripts recorded — arguments, order, user —
// must be the same. vipd's configuration is what `vipd import-keepalived` makes of keepalived's.

import Foundation
import Testing

/// Where a router's copy of the recording hooks lives, and what they recorded.
struct NotifyRecorder {
    let dir: String
    let record: String

    /// Writes root-owned, 0755 hooks (`notify.sh`, `state.sh`) that append one line per run to
    /// `record`: the script's name and arguments, then uid, gid and supplementary groups.
    init(lab: Lab, router: Int) throws {
        dir = "\(lab.workdir)/hooks-r\(router)"
        let records = "\(lab.workdir)/records"
        record = "\(records)/r\(router).log"
        shell("mkdir -p \(dir) \(records) && chmod 0755 \(dir) && chmod 0777 \(records)")
        let body = """
            #!/bin/sh
            echo "$(basename "$0") $*|$(id -u)|$(id -g)|$(id -G)" >> \(record)

            """
        for name in ["notify.sh", "state.sh"] {
            try body.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            shell("chmod 0755 \(dir)/\(name)")
        }
    }

    var lines: [String] {
        ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The state a record is about: `notify.sh INSTANCE VI_1 MASTER 100` → MASTER, `state.sh master` → MASTER.
    static func state(of line: String) -> String {
        let words = line.split(separator: "|")[0].split(separator: " ")
        if words.first == "notify.sh", words.count >= 4 { return String(words[3]) }
        return words.count > 1 ? words[1].uppercased() : "?"
    }

    /// Records grouped into transitions (consecutive records about one state). keepalived forks
    /// notify_STATE and notify at once, so within a transition their lines may land in either
    /// order: each transition's lines are sorted for the comparison.
    var transitions: [[String]] {
        var groups: [[String]] = []
        for line in lines {
            if let last = groups.last?.last, Self.state(of: last) == Self.state(of: line) {
                groups[groups.count - 1].append(line)
            } else {
                groups.append([line])
            }
        }
        return groups.map { $0.sorted() }
    }

    var states: [String] { transitions.map { Self.state(of: $0[0]) } }
}

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct KeepalivedNotifyLabTests {
    static let keepalivedVIP = "192.0.2.100"
    static let vipdVIP = "192.0.2.101"

    /// `group: false`: one instance with every hook. `group: true`: a sync group of two instances
    /// with the hooks on the group (keepalived's `GROUP NAME STATE 0`).
    @Test(arguments: [false, true])
    func sameScriptsSeeTheSameArgumentsOrderAndUserUnderBoth(group: Bool) throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 3)
        let ka = KeepalivedPeer(lab: lab, router: 1)
        defer { ka.stop(); lab.teardown() }
        let kaHooks = try NotifyRecorder(lab: lab, router: 1)
        let vipdHooks = try NotifyRecorder(lab: lab, router: 2)
        lab.addTrackedLink(1)
        lab.addTrackedLink(2)

        // The same keepalived.conf for both, but for the VRIDs, the VIPs and the hooks' directory:
        // instances tracking eth1 (weight 0: Fault while it is down), every notify hook.
        func keepalivedConfig(vrid: Int, vips: [String], hooks: NotifyRecorder) -> String {
            let notify = [
                "notify \(hooks.dir)/notify.sh",
                "notify_master \"\(hooks.dir)/state.sh master\"",
                "notify_backup \"\(hooks.dir)/state.sh backup\"",
                "notify_fault \"\(hooks.dir)/state.sh fault\"",
                "notify_stop \"\(hooks.dir)/state.sh stop\"",
            ]
            var text = "global_defs {\n    script_user nobody nogroup\n}\n\n"
            if group {
                text += "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n"
                text += notify.map { "    \($0)\n" }.joined() + "}\n\n"
            }
            for (index, vip) in vips.enumerated() {
                text += KeepalivedInstance(name: "VI_\(index + 1)", vrid: vrid + 10 * index, priority: 100, version: 3,
                                           advertInt: "0.1", addresses: ["\(vip)/24"],
                                           extra: ["track_interface {", "    eth1", "}"] + (group ? [] : notify)).text + "\n"
            }
            return text
        }
        let kaVIPs = group ? [Self.keepalivedVIP, "192.0.2.102"] : [Self.keepalivedVIP]
        let vipdVIPs = group ? [Self.vipdVIP, "192.0.2.103"] : [Self.vipdVIP]
        // keepalived in r1 (VRID 51, 61); vipd in r2 (VRID 52, 62) with what `vipd
        // import-keepalived` makes of its keepalived.conf.
        let kaConfig = keepalivedConfig(vrid: 51, vips: kaVIPs, hooks: kaHooks)
        let converted = "\(lab.workdir)/keepalived-r2.conf"
        try keepalivedConfig(vrid: 52, vips: vipdVIPs, hooks: vipdHooks).write(toFile: converted, atomically: true, encoding: .utf8)
        let vipdConfig = try lab.importKeepalived(converted, configID: "r2")
        #expect(vipdConfig.contains("notify_master:") && vipdConfig.contains("notify_stop:"), "\(vipdConfig)")
        #expect(vipdConfig.contains("script_user: \"nobody:nogroup\""), "\(vipdConfig)")
        // r3: a vipd that outranks both (priority 200 on both VRIDs), started and stopped to move them.
        let outranking = "instances:\n" + zip(kaVIPs, vipdVIPs).enumerated().map { index, vips in
            instanceYAML(name: "a\(index)", vrid: 51 + 10 * index, priority: 200, addresses: [vips.0])
                + instanceYAML(name: "b\(index)", vrid: 52 + 10 * index, priority: 200, addresses: [vips.1])
        }.joined()

        let context = { "keepalived records:\n\(kaHooks.lines.joined(separator: "\n"))\nvipd records:\n\(vipdHooks.lines.joined(separator: "\n"))\n\(lab.logs())\n--- keepalived:\n\(String(ka.log.suffix(3000)))" }
        /// Waits until both have recorded `states` (the transitions so far).
        func reach(_ states: [String], _ step: String) {
            let ok = waitUntil(20) { kaHooks.states == states && vipdHooks.states == states && kaHooks.lines.count == vipdHooks.lines.count }
            #expect(ok, "\(step): keepalived \(kaHooks.states), vipd \(vipdHooks.states), expected \(states)\n\(context())")
        }

        try ka.start(config: kaConfig, checkFirst: false)
        try lab.start(2, config: vipdConfig)
        reach(["BACKUP", "MASTER"], "start")
        try lab.start(3, config: outranking)
        reach(["BACKUP", "MASTER", "BACKUP"], "a higher priority appears")
        lab.signal(3, SIGTERM)
        #expect(lab.waitForExit(3, timeout: 15) == 0)
        reach(["BACKUP", "MASTER", "BACKUP", "MASTER"], "it leaves")
        for k in [1, 2] { shell("ip -n \(lab.ns(k)) link set eth1 down") }
        reach(["BACKUP", "MASTER", "BACKUP", "MASTER", "FAULT"], "tracked interface down")
        for k in [1, 2] { shell("ip -n \(lab.ns(k)) link set eth1 up") }
        reach(["BACKUP", "MASTER", "BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"], "tracked interface up")
        ka.stop(SIGTERM)
        lab.signal(2, SIGTERM)
        #expect(lab.waitForExit(2, timeout: 15) == 0)
        reach(["BACKUP", "MASTER", "BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "STOP"], "stop")

        // The same records: arguments (the instance name, state words and priority), the pairing of
        // notify_STATE with notify, and the user (nobody, group nogroup alone).
        #expect(kaHooks.transitions == vipdHooks.transitions, "\(context())")
        #expect(vipdHooks.lines.allSatisfy { $0.hasSuffix("|65534|65534|65534") }, "\(context())")
        let master = group ? "notify.sh GROUP G1 MASTER 0" : "notify.sh INSTANCE VI_1 MASTER 100"
        #expect(vipdHooks.lines.contains("\(master)|65534|65534|65534"), "\(context())")
        // vipd runs notify_STATE before notify, keepalived's start order, every time.
        for (index, line) in vipdHooks.lines.enumerated() where line.hasPrefix("notify.sh") {
            let state = NotifyRecorder.state(of: line)
            #expect(index > 0 && vipdHooks.lines[index - 1].hasPrefix("state.sh \(state.lowercased())"),
                    "notify for \(state) not preceded by its notify_STATE\n\(context())")
        }
    }
}
