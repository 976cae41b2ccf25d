import Foundation
import Testing
import VIPDDaemon

extension LabScenarios {
    /// The shipped units under a real systemd (scripts/systemd-lab), installed with scripts/install.
    /// Router 1 runs vipd.service in its namespace (drop-in NetworkNamespacePath=); router 2 runs a
    /// plain vipd as the peer. Each test boots its own systemd (about a second) and lab.
    @Suite
    struct SystemdTests {
        /// Lab + systemd, vipd.service configured for router 1 (not started).
        private func setUp(r1 r1Instance: String, drop extra: String = "") throws -> (Lab, SystemdLab) {
            let lab = try Lab(routers: 2)
            let systemd: SystemdLab
            do { systemd = try SystemdLab(lab) } catch { lab.teardown(); throw error }
            try systemd.writeConfig(node: 1, config(r1Instance))
            try systemd.placeInRouter("vipd.service", 1, extra: extra)
            return (lab, systemd)
        }

        private func start(_ systemd: SystemdLab, _ unit: String = "vipd") throws {
            let started = systemd.systemctl("start \(unit)")
            try #require(started.status == 0, "systemctl start \(unit): \(started.output)\n\(systemd.diagnostics(unit))")
        }

        /// 1. start → active (running) once READY=1 came, StatusText says the states, Master, reachable.
        @Test func startReachesReadyAndMaster() throws {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200))
            defer { systemd.teardown(); lab.teardown() }
            try start(systemd)
            // Type=notify: `systemctl start` returned, so READY=1 arrived; active (running) says so.
            let shown = systemd.show("vipd")
            #expect(shown["ActiveState"] == "active" && shown["SubState"] == "running", "\(systemd.diagnostics())")
            #expect(shown["NRestarts"] == "0")
            #expect(waitUntil(5) { systemd.show("vipd")["StatusText"] == "web/ipv4 Master" }, "\(systemd.diagnostics())")
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.state(2, "web") == "Backup" })
            #expect(systemd.state() == "Master")
            // The daemon runs as the transient user with only the unit's two capabilities.
            let mainPID = try #require(systemd.mainPID(), "\(systemd.diagnostics())")
            let proc = systemd.run("grep -E '^(Uid|CapEff|CapAmb):' /proc/\(mainPID)/status").output
            #expect(!proc.contains("Uid:\t0\t"), "vipd runs as root:\n\(proc)")
            #expect(proc.contains("CapEff:\t0000000000003000"), "effective capabilities are not NET_ADMIN+NET_RAW:\n\(proc)")
        }

        /// 2. reload with an unchanged, a changed and a broken file.
        @Test func reloadUnchangedChangedAndBrokenFile() throws {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200))
            defer { systemd.teardown(); lab.teardown() }
            try start(systemd)
            #expect(waitUntil(5) { systemd.state() == "Master" }, "\(systemd.diagnostics())")
            let mainPID = systemd.mainPID()
            let transitions = systemd.routerStatus()?.counters.transitions
            func reload() -> [String: String] {
                let r = systemd.systemctl("reload vipd")
                #expect(r.status == 0, "systemctl reload: \(r.output)")
                return systemd.show("vipd")
            }
            func reloadsLogged() -> Int { systemd.journal().components(separatedBy: "Reloaded vipd").count - 1 }

            // Unchanged: RELOADING=1 then READY=1 (systemctl waits for it), nothing touched.
            var shown = reload()
            #expect(shown["ActiveState"] == "active" && shown["SubState"] == "running", "\(systemd.diagnostics())")
            #expect(waitUntil(5) { reloadsLogged() == 1 }, "\(systemd.diagnostics())")
            #expect(systemd.routerStatus()?.counters.transitions == transitions)
            #expect(systemd.state() == "Master" && systemd.mainPID() == mainPID)

            // Changed priority: updated in place, still Master, same process.
            try systemd.writeConfig(node: 1, config(instanceYAML(priority: 220)))
            shown = reload()
            #expect(shown["ActiveState"] == "active", "\(systemd.diagnostics())")
            #expect(waitUntil(5) { systemd.routerStatus()?.configuredPriority == 220 }, "\(systemd.diagnostics())")
            #expect(systemd.state() == "Master" && systemd.mainPID() == mainPID)
            #expect(systemd.routerStatus()?.counters.transitions == transitions)

            // Broken (line 5: a VRID out of range): refused with file:line, the running config kept.
            try systemd.writeConfig(node: 1, config(instanceYAML(vrid: 300, priority: 10)))
            shown = reload()
            #expect(shown["ActiveState"] == "active" && systemd.mainPID() == mainPID, "\(systemd.diagnostics())")
            #expect(waitUntil(5) { systemd.journal("vipd", "-o cat").contains("reload refused, keeping the running configuration: /etc/vipd/vipd.yaml:5:") },
                    "\(systemd.diagnostics())")
            #expect(systemd.routerStatus()?.configuredPriority == 220 && systemd.state() == "Master")
            #expect(reloadsLogged() == 3)
            lab.expectSoleHolder(Lab.vip4, 1)
        }

        /// r1 Master alone first (preempt off, so that it stays Backup when it comes back), then r2.
        private func masterThenBackup(drop extra: String = "") throws -> (Lab, SystemdLab) {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200, extra: "preempt: false"), drop: extra)
            try start(systemd)
            #expect(waitUntil(5) { systemd.state() == "Master" }, "\(systemd.diagnostics())")
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            #expect(waitUntil(5) { lab.state(2, "web") == "Backup" }, "\(lab.logs())")
            lab.expectSoleHolder(Lab.vip4, 1)
            return (lab, systemd)
        }

        /// After a crash of r1's daemon: systemd restarted it, it removed its stale VIP and is Backup.
        private func expectRestartedAndClean(_ lab: Lab, _ systemd: SystemdLab, oldPID: Int32,
                                             sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(waitUntil(15) {
                let s = systemd.show("vipd")
                return s["ActiveState"] == "active" && s["NRestarts"] == "1" && systemd.mainPID().map { $0 != oldPID } == true
            }, "\(systemd.diagnostics())", sourceLocation: sourceLocation)
            #expect(waitUntil(5) { systemd.state() == "Backup" }, "\(systemd.diagnostics())", sourceLocation: sourceLocation)
            lab.expectSoleHolder(Lab.vip4, 2, sourceLocation: sourceLocation)
            #expect(lab.state(2, "web") == "Master", sourceLocation: sourceLocation)
        }

        /// 3. A stopped (wedged) Master: the watchdog fires, SIGABRT cannot act on a stopped process,
        /// TimeoutAbortSec (5 s in the unit) bounds the wait before SIGKILL; Restart= brings it back.
        /// WatchdogSec is lowered to 3 s in the test's drop-in to keep the suite short.
        @Test func watchdogReplacesAStoppedDaemonWithinTheAbortTimeout() throws {
            let watchdog = 3.0, abort = 5.0, restart = 1.0
            let unit = try String(contentsOf: LabEnvironment.packageRoot.appendingPathComponent("systemd/vipd.service"), encoding: .utf8)
            #expect(unit.contains("\nTimeoutAbortSec=5s\n"), "the test's bound assumes the unit's TimeoutAbortSec=5s")
            let (lab, systemd) = try masterThenBackup(drop: "WatchdogSec=\(Int(watchdog))s\n")
            defer { systemd.teardown(); lab.teardown() }
            let oldPID = try #require(systemd.mainPID())
            let t0 = Date()
            systemd.run("kill -STOP \(oldPID)")
            // The Backup takes over while the wedged node still holds the address.
            #expect(waitUntil(3) { lab.state(2, "web") == "Master" }, "\(lab.logs())")
            #expect(waitUntil(watchdog + abort + restart + 8) {
                systemd.mainPID().map { $0 != oldPID } == true && systemd.show("vipd")["ActiveState"] == "active"
            }, "\(systemd.diagnostics())")
            let replaced = Date().timeIntervalSince(t0)
            print("systemd watchdog: stopped daemon replaced after \(String(format: "%.1f", replaced)) s (WatchdogSec=\(Int(watchdog))s)")
            // Not before the watchdog fired. systemd follows SIGABRT with SIGCONT, so the abort acts at
            // once unless something keeps the process alive (Swift's backtracer did, until
            // TimeoutAbortSec): the replacement must not include the abort timeout.
            #expect(replaced >= watchdog && replaced < watchdog + abort + restart,
                    "replacement took \(String(format: "%.1f", replaced)) s\n\(systemd.diagnostics())")
            #expect(systemd.journal("vipd", "-o cat").contains("Watchdog timeout"), "\(systemd.diagnostics())")
            expectRestartedAndClean(lab, systemd, oldPID: oldPID)
        }

        /// 4. SIGKILL: Restart=on-failure brings it back, its leftovers are cleaned, one holder.
        @Test func killedDaemonIsRestartedAndCleansUp() throws {
            let (lab, systemd) = try masterThenBackup()
            defer { systemd.teardown(); lab.teardown() }
            let oldPID = try #require(systemd.mainPID())
            systemd.run("kill -KILL \(oldPID)")
            expectRestartedAndClean(lab, systemd, oldPID: oldPID)
        }

        /// 5. `systemctl stop` as Master: handover without a lost probe, exit status 0, in time.
        @Test func stopAsMasterHandsOverWithoutLoss() throws {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200))
            defer { systemd.teardown(); lab.teardown() }
            try start(systemd)
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { systemd.state() == "Master" && lab.state(2, "web") == "Backup" })
            let probes = 3000
            let probe = try lab.startPing(Lab.vip4, count: probes)
            #expect(waitUntil(10, every: 0.01) { probe.replies >= 200 }, "ping did not start: \(probe.output.prefix(500))")
            let t0 = Date()
            let stop = systemd.systemctl("stop vipd")
            let took = Date().timeIntervalSince(t0)
            #expect(stop.status == 0, "\(stop.output)")
            let result = try #require(probe.finish(timeout: 60), "ping did not finish")
            #expect(result.received == probes && result.transmitted == probes, "lost probes: \(result)\n\(systemd.diagnostics())")
            let shown = systemd.show("vipd")
            #expect(shown["ActiveState"] == "inactive" && shown["Result"] == "success" && shown["ExecMainStatus"] == "0",
                    "\(systemd.diagnostics())")
            #expect(took < 30, "stop took \(took) s (TimeoutStopSec=30s)")
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(lab.state(2, "web") == "Master")
        }

        /// 6 and 9. A notify hook and a track script under the sandbox do what docs/systemd.md says
        /// (transient user, CAP_NET_ADMIN: `ip route` works; read-only /etc: writing fails, and
        /// vipd says so at warning level); `journalctl -p warning` shows warnings and errors only.
        @Test func hookAndTrackScriptUnderTheSandboxAndJournalPriorities() throws {
            let lab = try Lab(routers: 2)
            let systemd: SystemdLab
            do { systemd = try SystemdLab(lab) } catch { lab.teardown(); throw error }
            defer { systemd.teardown(); lab.teardown() }
            let hook = try systemd.installScript("notify.sh", """
                echo "$1 $2 uid=$(id -u)" >> /run/vipd/hook.log
                [ "$2" = MASTER ] && ip route replace 198.51.100.0/24 dev eth0
                { echo 1 > /proc/sys/net/ipv4/ip_forward; } 2>/dev/null && echo "ip_forward written" >> /run/vipd/hook.log
                touch /etc/vipd/written-by-hook 2>> /run/vipd/hook.err || exit 3

                """)
            let check = try systemd.installScript("check.sh", "[ ! -e /run/vipd/maintenance ]\n")
            try systemd.writeConfig(node: 1, config(instanceYAML(priority: 200, extra: """
                notify: \(hook)
                track: { scripts: [ { run: \(check), interval: 200ms, weight: -150 } ] }
                """)))
            try systemd.placeInRouter("vipd.service", 1)
            try start(systemd)
            try lab.start(2, config: config(instanceYAML(priority: 100)))
            lab.expectSoleHolder(Lab.vip4, 1)

            // The hook ran as the transient user, and its `ip route` worked in r1's namespace.
            let hookLog = { (try? String(contentsOfFile: systemd.hostPath("/run/vipd/hook.log"), encoding: .utf8)) ?? "" }
            #expect(waitUntil(5) { hookLog().contains("web MASTER uid=") }, "\(hookLog())\n\(systemd.diagnostics())")
            #expect(!hookLog().contains("uid=0\n"), "hook ran as root: \(hookLog())")
            #expect(waitUntil(5) { shell("ip -n \(lab.ns(1)) route show 198.51.100.0/24").output.contains("dev eth0") })
            // ProtectKernelTunables: global switches such as ip_forward stay read-only for it.
            #expect(!hookLog().contains("ip_forward written"), "\(hookLog())")
            // It cannot write /etc: the error is the hook's, vipd reports the exit status as a warning.
            let hookErr = (try? String(contentsOfFile: systemd.hostPath("/run/vipd/hook.err"), encoding: .utf8)) ?? ""
            #expect(hookErr.contains("Read-only file system"), "\(hookErr)")
            #expect(!FileManager.default.fileExists(atPath: systemd.hostPath("/etc/vipd/written-by-hook")))
            #expect(waitUntil(5) { systemd.journal("vipd", "-p warning -o cat").contains("notify hook \(hook)") }, "\(systemd.diagnostics())")

            // The track script reads the runtime directory: maintenance drops r1 to 50, r2 takes over.
            try systemd.write("/run/vipd/maintenance", "")
            lab.expectSoleHolder(Lab.vip4, 2)
            #expect(waitUntil(5) { systemd.state() == "Backup" && systemd.show("vipd")["StatusText"] == "web/ipv4 Backup" },
                    "\(systemd.diagnostics())")
            try FileManager.default.removeItem(atPath: systemd.hostPath("/run/vipd/maintenance"))
            lab.expectSoleHolder(Lab.vip4, 1)

            // A broken reload logs an error. -p warning: only priorities 0-4, both messages there.
            try systemd.writeConfig(node: 1, config(instanceYAML(vrid: 300, priority: 10)))
            systemd.systemctl("reload vipd")
            #expect(waitUntil(5) { systemd.journal("vipd", "-p warning -o cat").contains("reload refused") }, "\(systemd.diagnostics())")
            let export = systemd.journal("vipd", "-p warning -o export")
            let priorities = export.split(separator: "\n").filter { $0.hasPrefix("PRIORITY=") }.compactMap { Int($0.dropFirst(9)) }
            #expect(!priorities.isEmpty && priorities.allSatisfy { $0 <= 4 }, "priorities: \(priorities)")
            #expect(priorities.contains(3) && priorities.contains(4), "an error and a warning: \(priorities)")
            let warnings = systemd.journal("vipd", "-p warning -o cat")
            #expect(!warnings.contains("Initialize -> Backup") && !warnings.contains("vipd running"), "\(warnings)")
            // The notices and infos are in the journal at their own priorities.
            let all = systemd.journal("vipd", "-o export")
            #expect(all.contains("PRIORITY=5") && all.contains("PRIORITY=6"))
            #expect(systemd.journal("vipd", "-o cat").contains("Initialize -> Backup"))
        }

        /// 7. Virtual MAC under ProtectKernelTunables=yes + ReadWritePaths=: the sysctl writes work.
        @Test func virtualMACSysctlsWorkUnderTheSandbox() throws {
            let vmac = "00:00:5e:00:01:33"
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true"))
            defer { systemd.teardown(); lab.teardown() }
            try start(systemd)
            try lab.start(2, config: config(instanceYAML(priority: 100, addresses: ["\(Lab.vip4)/24"], extra: "virtual_mac: true")))
            #expect(waitUntil(5) { systemd.state() == "Master" }, "\(systemd.diagnostics())")
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(5) { lab.clientNeighborMAC(Lab.vip4) == vmac })
            func sysctl(_ key: String) -> String {
                shell("ip netns exec \(lab.ns(1)) cat /proc/sys/\(key)").output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(sysctl("net/ipv4/conf/eth0/arp_ignore") == "1")
            #expect(sysctl("net/ipv4/conf/vrrp.51/arp_ignore") == "1")
            #expect(sysctl("net/ipv4/conf/vrrp.51/accept_local") == "1")
            #expect(sysctl("net/ipv6/conf/vrrp.51/disable_ipv6") == "1")
            let journal = systemd.journal("vipd", "-o cat")
            #expect(!journal.contains("Read-only file system") && !journal.contains("EROFS"), "\(journal)")
            // Stop restores the parent's sysctls and removes the macvlan.
            #expect(systemd.systemctl("stop vipd").status == 0)
            #expect(sysctl("net/ipv4/conf/eth0/arp_ignore") == "0")
            #expect(!shell("ip -n \(lab.ns(1)) link show").output.contains("vrrp.51"))
        }

        /// 8. vipd@NAME beside vipd: own config, own socket, own runtime directory, both Master.
        @Test func templateInstanceBesideTheMainUnit() throws {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200))
            defer { systemd.teardown(); lab.teardown() }
            let secondSocket = "/run/vipd-second/vipd.sock"
            try systemd.writeConfig("second", node: 1, socket: secondSocket,
                                    config(instanceYAML(name: "db", vrid: 52, priority: 200, addresses: ["192.0.2.101"])))
            try systemd.placeInRouter("vipd@.service", 1)
            try start(systemd, "vipd vipd@second")
            #expect(waitUntil(5) { systemd.state() == "Master" && systemd.state("db", socket: secondSocket) == "Master" },
                    "\(systemd.diagnostics())\n\(systemd.diagnostics("vipd@second"))")
            #expect(systemd.show("vipd@second")["StatusText"] == "db/ipv4 Master")
            #expect(systemd.status()?.instances.map(\.name) == ["web"])
            #expect(systemd.status(socket: secondSocket)?.instances.map(\.name) == ["db"])
            #expect(waitUntil(5) { lab.ping(Lab.vip4) && lab.ping("192.0.2.101") })
            // Stopping one leaves the other's runtime directory and socket alone (both ways).
            #expect(systemd.systemctl("stop vipd").status == 0)
            #expect(systemd.status(socket: secondSocket) != nil, "vipd@second lost its socket when vipd stopped")
            try start(systemd)
            #expect(systemd.systemctl("stop vipd@second").status == 0)
            #expect(systemd.status() != nil, "vipd lost its socket when vipd@second stopped")
            #expect(systemd.show("vipd")["ActiveState"] == "active")
        }

        /// 10. auth_hmac key as a systemd credential (docs/systemd.md): a drop-in `LoadCredential=`
        /// hands a root-owned 0600 key outside /etc/vipd to the transient user; `file:web-1` is found
        /// in $CREDENTIALS_DIRECTORY; the daemon signs with it: r2 (plain vipd, the same key inline,
        /// enforce) verifies every advert and stays Backup, which it could not if r1 sent none.
        @Test func credentialKeySignsAdverts() throws {
            let key = String(repeating: "3c", count: 32)
            let auth = "auth_hmac: { keys: { 1: \"file:web-1\" }, mode: enforce }"
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200, extra: auth),
                                           drop: "LoadCredential=web-1:/etc/credstore/vipd-web-1\n")
            defer { systemd.teardown(); lab.teardown() }
            try systemd.write("/etc/credstore/vipd-web-1", "hex:\(key)\n", mode: 0o600)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: systemd.hostPath("/etc/credstore"))
            #expect(systemd.run("stat -c '%a %U' /etc/credstore/vipd-web-1").output.trimmingCharacters(in: .whitespacesAndNewlines) == "600 root")
            try start(systemd)
            #expect(waitUntil(5) { systemd.state() == "Master" }, "\(systemd.diagnostics())")
            try lab.start(2, config: config(instanceYAML(priority: 100, extra: "auth_hmac: { keys: { 1: \"hex:\(key)\" }, mode: enforce }")))
            #expect(waitUntil(5) { lab.state(2, "web") == "Backup" }, "\(lab.logs())")
            usleep(1_000_000)
            lab.expectSoleHolder(Lab.vip4, 1)
            let r2 = lab.routerStatus(2, "web")
            #expect(lab.state(2, "web") == "Backup" && (r2?.counters.advertsReceived ?? 0) > 5, "\(String(describing: r2))")
            #expect(!(r2?.counters.drops.keys.contains { $0.hasPrefix("hmac_") } ?? true), "r2 refused r1's adverts: \(String(describing: r2?.counters.drops))")
            let drops = systemd.routerStatus()?.counters.drops ?? [:]
            #expect(!drops.keys.contains { $0.hasPrefix("hmac_") }, "\(drops)")
            // Whatever happened, the key never reaches the journal (the refusal names the file only).
            #expect(!systemd.journal("vipd", "-o cat").contains(key), "the key appears in the journal")
        }

        /// `systemd-analyze security` of the units as loaded by this systemd: exposure ≤ 2.0. And the
        /// lab itself: booting it, installing into it and shutting it down leaves the host as it was.
        @Test func exposureOfTheLoadedUnitsAndTheHostUntouched() throws {
            let lab = try Lab(routers: 1)
            // Names only: other labs on the machine may change timestamps under /run meanwhile.
            let host = "ls -A /dev /etc /etc/systemd/system /usr/local/bin; stat -c '%n %a %U' /dev/console /dev/null; hostname"
            let before = shell(host).output
            let systemd: SystemdLab
            do { systemd = try SystemdLab(lab) } catch { lab.teardown(); throw error }
            defer { systemd.teardown(); lab.teardown() }
            // scripts/install put everything where the units and the docs say.
            for path in ["/usr/local/bin/vipd", "/etc/systemd/system/vipd.service", "/etc/systemd/system/vipd@.service",
                         "/usr/local/share/doc/vipd/systemd.md", "/usr/local/share/doc/vipd/observability.md", "/etc/vipd/vipd.yaml"] {
                #expect(FileManager.default.fileExists(atPath: systemd.hostPath(path)), "\(path) not installed")
            }
            #expect(systemd.show("vipd", "Documentation")["Documentation"]?.contains("file:/usr/local/share/doc/vipd/systemd.md") == true)
            for unit in ["vipd.service", "vipd@web.service"] {
                let out = systemd.run("systemd-analyze security --no-pager \(unit)").output
                let line = try #require(out.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(out)")
                let value = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
                let exposure = try #require(value, "\(line)")
                #expect(exposure <= 2.0, "\(unit): \(line)")
            }
            systemd.teardown()
            #expect(shell(host).output == before, "the host changed")
            #expect(!FileManager.default.fileExists(atPath: "/run/vipd-systemd-lab/\(systemd.tag)"))
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/vipd-systemd-lab-\(systemd.tag)"))
        }

        /// `script_user` under the shipped unit: without CAP_SETUID/CAP_SETGID every hook fails to
        /// start and says so; with the drop-in from config.md "Script user" the hook runs as the
        /// user, with only its group (what keepalived 2.2 does).
        @Test func scriptUserNeedsTheDropInAndThenRunsHooksAsTheUser() throws {
            let lab = try Lab(routers: 2)
            let systemd: SystemdLab
            do { systemd = try SystemdLab(lab) } catch { lab.teardown(); throw error }
            defer { systemd.teardown(); lab.teardown() }
            let hook = try systemd.installScript("notify.sh", "echo \"script-user hook $1 $2 uid=$(id -u) gid=$(id -g) groups=$(id -G)\"\n")
            try systemd.writeConfig(node: 1, "script_user: \"nobody:nogroup\"\n" + config(instanceYAML(priority: 200, extra: "notify: \(hook)")))
            try systemd.placeInRouter("vipd.service", 1)
            try start(systemd)
            lab.expectSoleHolder(Lab.vip4, 1)
            #expect(waitUntil(10) { systemd.journal("vipd", "-o cat").contains("notify hook \(hook) could not be started: Operation not permitted") },
                    "\(systemd.diagnostics())")
            #expect(!systemd.journal("vipd", "-o cat").contains("script-user hook"))
            _ = systemd.systemctl("stop vipd")

            try systemd.placeInRouter("vipd.service", 1, extra: """
                AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_SETUID CAP_SETGID
                CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SETUID CAP_SETGID
                SystemCallFilter=@setuid

                """)
            try start(systemd)
            #expect(waitUntil(10) { systemd.journal("vipd", "-o cat").contains("script-user hook web MASTER uid=65534 gid=65534 groups=65534") },
                    "\(systemd.diagnostics())")
        }
    

        /// max_auto_priority under the shipped unit: refused at start without the documented
        /// drop-in (docs/systemd.md, Real-time scheduling), and with it a daemon kept off the CPU
        /// (SIGSTOP) raises itself to SCHED_RR, with realtime_cpu_limit's RLIMIT_RTTIME, while
        /// staying Master; SIGXCPU puts it back on normal scheduling.
        @Test func maxAutoPriorityNeedsTheDropInAndThenRaisesTheDaemon() throws {
            let (lab, systemd) = try setUp(r1: instanceYAML(priority: 200))
            defer { systemd.teardown(); lab.teardown() }
            try systemd.writeConfig(node: 1, "max_auto_priority: 3\nmin_auto_priority_delay: 20ms\n" + config(instanceYAML(priority: 200)))
            let refused = systemd.systemctl("start vipd")
            #expect(refused.status != 0, "started without CAP_SYS_NICE: \(systemd.diagnostics())")
            #expect(waitUntil(10) { systemd.journal("vipd", "-o cat").contains("max_auto_priority 3: sched_setscheduler: Operation not permitted") },
                    "\(systemd.diagnostics())")
            #expect(lab.holders(Lab.vip4).isEmpty)
            _ = systemd.systemctl("stop vipd")
            _ = systemd.systemctl("reset-failed vipd")

            // The drop-in exactly as docs/systemd.md gives it.
            try systemd.placeInRouter("vipd.service", 1, extra: """
                AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_NICE CAP_IPC_LOCK
                CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_NICE CAP_IPC_LOCK
                RestrictRealtime=no
                LimitMEMLOCK=infinity
                SystemCallFilter=@system-service @resources

                """)
            try start(systemd)
            #expect(waitUntil(10) { systemd.state() == "Master" }, "\(systemd.diagnostics())")
            let mainPID = try #require(systemd.mainPID(), "\(systemd.diagnostics())")
            #expect(systemd.run("chrt -p \(mainPID)").output.contains("SCHED_OTHER"))
            Thread.sleep(forTimeInterval: 1.2)   // past the hold-off after start
            _ = systemd.run("kill -STOP \(mainPID); sleep 0.2; kill -CONT \(mainPID)")
            #expect(waitUntil(5) { systemd.run("chrt -p \(mainPID)").output.contains("SCHED_RR") },
                    "\(systemd.run("chrt -p \(mainPID)").output)\n\(systemd.diagnostics())")
            #expect(systemd.run("chrt -p \(mainPID)").output.contains("priority: 1"))
            #expect(systemd.journal("vipd", "-o cat").contains("raised the event loop to SCHED_RR priority 1 (max_auto_priority 3)"),
                    "\(systemd.diagnostics())")
            // realtime_cpu_limit's RLIMIT_RTTIME (the default, 1 s) was set with the raise: the
            // drop-in's system call filter allows it.
            let limits = systemd.run("grep 'Max realtime timeout' /proc/\(mainPID)/limits").output
            #expect(limits.contains(" 1000000 ") && limits.contains(" 2000000 "), "\(limits)\n\(systemd.diagnostics())")
            #expect(!systemd.journal("vipd", "-o cat").contains("setrlimit"), "\(systemd.diagnostics())")
            // SIGXCPU (what the kernel sends at the limit) moves it back, under the unit's sandbox too.
            _ = systemd.run("kill -XCPU \(mainPID)")
            #expect(waitUntil(5) { systemd.run("chrt -p \(mainPID)").output.contains("SCHED_OTHER") },
                    "\(systemd.run("chrt -p \(mainPID)").output)\n\(systemd.diagnostics())")
            #expect(waitUntil(5) { systemd.journal("vipd", "-o cat").contains("real-time scheduling dropped: the event loop ran 1s of CPU without sleeping") },
                    "\(systemd.diagnostics())")
            #expect(systemd.mainPID() == mainPID, "the same process: \(systemd.diagnostics())")
            #expect(systemd.state() == "Master")
            lab.expectSoleHolder(Lab.vip4, 1)
        }
    }
}
