// The rolling replacement of keepalived by vipd, end to end: three keepalived 2.2.7 routers serve
// the VIP to a client pinging it every 10 ms; each is replaced by vipd running the configuration
// `vipd import-keepalived` made of its own keepalived.conf — the Backups first, then the Master,
// stopped with SIGTERM as `systemctl stop` does. Probes lost at each step are printed (also by
// scripts/migrate-lab); none may be lost while a Backup is replaced.

import Foundation
import Testing

/// keepalived.conf of router `k` in the migration lab: one VRRPv2 instance with a password, as
/// many keepalived installations are.
func migrationKeepalivedConfig(priority: Int, master: Bool) -> String {
    """
    global_defs {
        enable_script_security
    }

    vrrp_instance VI_1 {
        state \(master ? "MASTER" : "BACKUP")
        interface eth0
        virtual_router_id 51
        priority \(priority)
        advert_int 1
        authentication {
            auth_type PASS
            auth_pass migrate1
        }
        virtual_ipaddress {
            \(Lab.vip4)/24
        }
    }

    """
}

extension Lab {
    /// `vipd import-keepalived` of `file`: the YAML it printed; fails the test when it fails.
    func importKeepalived(_ file: String, configID: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let out = "\(workdir)/import-\(configID).yaml"
        let result = shell("\(vipd) import-keepalived --config-id \(configID) \(file) > \(out)")
        try #require(result.status == 0, "import-keepalived \(file) failed: \(result.output)", sourceLocation: sourceLocation)
        return try String(contentsOfFile: out, encoding: .utf8)
    }

    /// Pings the VIP every 10 ms from the client while `action` runs and until `settled` holds
    /// (then 1 s more); returns what the client saw.
    func probed(_ name: String, _ action: () throws -> Void, settled: () -> Bool) throws -> PingResult {
        let probe = try startPing(Lab.vip4, count: 100_000, interval: "0.01", name: name)
        try #require(waitUntil(10) { probe.replies >= 50 }, "\(name): the client gets no replies before the step")
        try action()
        let done = waitUntil(30, settled)
        Thread.sleep(forTimeInterval: 1)
        kill(probe.process.processIdentifier, SIGINT)
        let result = try #require(probe.finish(), "\(name): ping did not finish")
        #expect(done, "\(name): the lab did not settle\n\(logs())")
        return result
    }
}

@Suite(.serialized, .enabled(if: LabEnvironment.enabled))
struct RollingMigrationTests {
    static let priorities = [1: 150, 2: 100, 3: 50]

    @Test func keepalivedRoutersAreReplacedOneByOneWithoutLosingProbesAtTheBackupSteps() throws {
        try #require(InteropEnvironment.hasKeepalived, "keepalived is not installed (scripts/deps)")
        let lab = try Lab(routers: 3)
        let peers = [1, 2, 3].map { KeepalivedPeer(lab: lab, router: $0) }
        defer { peers.forEach { $0.stop() }; lab.teardown() }
        var imported: [Int: String] = [:]
        for k in 1...3 {
            let priority = try #require(Self.priorities[k])
            try peers[k - 1].start(config: migrationKeepalivedConfig(priority: priority, master: k == 1))
            imported[k] = try lab.importKeepalived(peers[k - 1].configPath, configID: "r\(k)")
        }
        let context = { "\(lab.logs())\n" + peers.map { "--- keepalived r\($0.router):\n\(String($0.log.suffix(1500)))" }.joined(separator: "\n") }
        lab.expectSoleHolder(Lab.vip4, 1, within: 15)
        #expect(waitUntil(10) { peers[0].state == "MASTER" }, "\(context())")

        var report: [(String, PingResult)] = []
        // The Backups, lowest priority first: the Master keeps the VIP throughout.
        for k in [3, 2] {
            let result = try lab.probed("r\(k)") {
                peers[k - 1].stop(SIGTERM)
                try lab.start(k, config: try #require(imported[k]))
            } settled: {
                lab.state(k, "VI_1") == "Backup" && lab.holders(Lab.vip4) == [1]
                    && (lab.routerStatus(k, "VI_1")?.master == lab.routerAddress(1))
            }
            report.append(("replace Backup r\(k)", result))
            #expect(result.transmitted - result.received == 0, "probes lost while replacing Backup r\(k): \(result)\n\(context())")
        }
        // The Master: keepalived leaves with priority 0, r2's vipd takes over; r1's vipd, back with
        // priority 150, preempts.
        let master = try lab.probed("r1") {
            peers[0].stop(SIGTERM)
            #expect(waitUntil(10) { lab.state(2, "VI_1") == "Master" }, "r2 did not take over\n\(context())")
            try lab.start(1, config: try #require(imported[1]))
        } settled: {
            lab.state(1, "VI_1") == "Master" && lab.holders(Lab.vip4) == [1]
                && lab.state(2, "VI_1") == "Backup" && lab.state(3, "VI_1") == "Backup"
        }
        report.append(("replace Master r1 (SIGTERM)", master))
        #expect(lab.masters("VI_1") == [1], "\(context())")
        for (step, result) in report {
            print("rolling migration: \(step): \(result.transmitted - result.received) of \(result.transmitted) probes lost; \(result)")
        }
    }
}
