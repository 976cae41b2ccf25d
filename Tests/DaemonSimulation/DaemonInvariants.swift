// The scenario's reloads and the invariants it checks (listed at the top of DaemonScenario.swift).

import Simulation
import VIPDDaemon
import VRRP

extension DaemonScenario {
    // MARK: Reload (invariant 4)

    func reload(_ node: DaemonNode) throws(DaemonSimulationFailure) {
        guard node.running, node.life?.stopRequested == false, let before = node.status() else { return }
        // Change one instance's priority on this host (or nothing): the others must not move.
        var changed: String?
        if random.chance(0.6), !instances.isEmpty {
            let i = random.int(0...(instances.count - 1))
            instances[i].priorities[node.host.id - 1] = random.int(1...254)
            changed = instances[i].name
        }
        do { try yaml(host: node.host.id).write(toFile: node.configPath, atomically: true, encoding: .utf8) } catch {
            throw fail("writing config: \(error)")
        }
        let holdingsBefore = node.host.addresses.filter { isVIP($0.prefix) }.map(\.prefix.description).sorted()
        let response = node.life!.daemon.handleControl(ControlRequest(command: .reload))
        stats.reloads += 1
        log("r\(node.host.id) reload (\(changed ?? "nothing") changed): \(response.message ?? "")")
        guard response.ok, let after = node.status() else { throw fail("r\(node.host.id) reload failed: \(response.message ?? "")") }
        for instance in before.instances where instance.name != changed {
            guard let now = after.instances.first(where: { $0.name == instance.name }) else { continue }
            let was = instance.routers.map { "\($0.family) \($0.state) \($0.holdsAddresses)" }
            let isNow = now.routers.map { "\($0.family) \($0.state) \($0.holdsAddresses)" }
            if was != isNow { throw fail("r\(node.host.id): reload moved unchanged instance \(instance.name): \(was) -> \(isNow)") }
        }
        if changed == nil {
            let holdingsAfter = node.host.addresses.filter { isVIP($0.prefix) }.map(\.prefix.description).sorted()
            if holdingsAfter != holdingsBefore { throw fail("r\(node.host.id): a reload that changed nothing moved addresses \(holdingsBefore) -> \(holdingsAfter)") }
        }
    }

    // MARK: Invariants

    func checkSettled() throws(DaemonSimulationFailure) {
        stats.settledChecks += 1
        var holders: [String: [Int]] = [:]
        for node in nodes {
            let host = node.host
            guard let status = node.status() else { continue }
            noteWithdrawnExpiries(node, status)
            // 1. The host's addresses are what the routers say they hold.
            for instance in status.instances {
                for router in instance.routers {
                    for address in router.addresses {
                        let present = host.addresses.contains { $0.prefix.description == address }
                        // 7. Routed addresses on lo only, the others never there.
                        if let spec = instances.first(where: { $0.addresses.contains(address) }),
                           let misplaced = host.addresses.first(where: {
                               $0.prefix.description == address && ($0.interfaceIndex == SimHost.loopback) != spec.routed
                           }) {
                            throw fail("r\(host.id) \(instance.name): \(address) is on interface #\(misplaced.interfaceIndex) (routed: \(spec.routed))")
                        }
                        if present != router.holdsAddresses {
                            throw fail("r\(host.id) \(instance.name)/\(router.family) \(router.state): holdsAddresses \(router.holdsAddresses) but \(address) \(present ? "is" : "is not") on the host")
                        }
                        if present { holders[address, default: []].append(host.id) }
                    }
                }
            }
            // 3. Hooks follow the transitions, all started by now (hooks take at most 40 ms).
            try checkHooks(node, complete: true)
        }
        // 2. At most one holder per VIP; and one at least while a daemon that is not stopping runs
        //    (the calm window healed links and scripts, and the operator approved what waited).
        let anycast = Set(instances.filter { $0.announce == .anycast }.flatMap(\.addresses))
        for (address, ids) in holders where ids.count > 1 && !anycast.contains(address) {
            throw fail("settled with \(address) held by \(ids.map { "r\($0)" }.joined(separator: " and "))")
        }
        // 7. Anycast: every running daemon that is not stopping holds it (links and scripts healed).
        let serving = nodes.filter { $0.running && $0.life?.stopRequested == false }.map(\.host.id)
        for address in anycast.sorted() where (holders[address] ?? []).sorted() != serving.sorted() {
            throw fail("settled with anycast \(address) held by \((holders[address] ?? []).map { "r\($0)" }), not by every serving node \(serving.map { "r\($0)" }): \(routerStates())")
        }
        if nodes.contains(where: { $0.running && $0.life?.stopRequested == false }) {
            for spec in instances {
                for address in spec.addresses where holders[address] == nil {
                    throw fail("settled with nobody holding \(address): \(routerStates())")
                }
            }
        }
        log("settled: " + holders.keys.sorted().map { "\($0)@\(holders[$0]!.map { "r\($0)" })" }.joined(separator: " "))
    }

    /// Every running router, for a failure message: "r1 v1/ipv4 Backup 100/150 master 192.0.2.12".
    func routerStates() -> String {
        nodes.compactMap { node -> String? in
            guard let status = node.status() else { return nil }
            return status.instances.flatMap { instance in
                instance.routers.map { r in
                    "r\(node.host.id) \(instance.name)/\(r.family) \(r.state) \(r.effectivePriority)/\(r.configuredPriority) master \(r.master ?? "-") pending \(r.takeoverPending) hold \(r.handoverHold)"
                }
            }.joined(separator: "; ") + "; r\(node.host.id) logged: " + (node.life?.sink.lines.withLock { $0.suffix(8) } ?? []).joined(separator: " | ")
        }.joined(separator: "\n")
    }

    func checkHooks(_ node: DaemonNode, complete: Bool) throws(DaemonSimulationFailure) {
        guard let life = node.life else { return }
        // Each instance has its own hook queue, and it keeps the running hook plus only the latest
        // waiting one per router: per router, every hook stands for its own transition and the
        // `folded` ones before it, and announces the last of them. Nothing is lost, doubled or
        // reordered: the hooks consume the transitions exactly, in order.
        let transitions = life.transitions()
        let hooks = node.host.hooks[life.hooksAtStart...]
        for spec in instances {
            for family in ["ipv4", "ipv6"] {
                let expected = transitions.filter { $0.instance == spec.name && $0.family == family }.map(\.state)
                let started = hooks.filter { $0.instance == spec.name && $0.family == family }
                var consumed = 0
                for hook in started {
                    consumed += hook.folded + 1
                    if hook.folded < 0 || consumed > expected.count || expected[consumed - 1] != hook.state {
                        throw fail("r\(node.host.id) \(spec.name)/\(family): hooks \(started.map { "\($0.state)+\($0.folded)" }) do not follow the transitions \(expected)")
                    }
                }
                if complete && consumed != expected.count {
                    throw fail("r\(node.host.id) \(spec.name)/\(family): hooks \(started.map { "\($0.state)+\($0.folded)" }) stop short of the transitions \(expected)")
                }
            }
        }
    }

    /// 5. A stopped daemon leaves no VIP, no local route, no macvlan, and every sysctl as it found it.
    func checkStopped(_ node: DaemonNode) throws(DaemonSimulationFailure) {
        guard let life = node.life, life.stopRequested, !life.crashed, !life.plane.running else { return }
        let host = node.host
        let left = host.addresses.filter { isVIP($0.prefix) }
        if !left.isEmpty { throw fail("r\(host.id) stopped but left \(left.map(\.prefix))") }
        // Nor a local route of a routed VIP's second release phase.
        if !host.localRoutes.isEmpty { throw fail("r\(host.id) stopped but left local routes for \(host.localRoutes.map(\.address))") }
        let macvlans = host.links.values.filter { $0.kind == "macvlan" }.map(\.name)
        if !macvlans.isEmpty { throw fail("r\(host.id) stopped but left macvlans \(macvlans)") }
        // Keys of a macvlan a crashed life left (and this one adopted and deleted) went with it.
        let changed = host.sysctls.keys.filter { host.sysctls[$0] != life.sysctlsAtStart[$0] }.sorted()
            + life.sysctlsAtStart.keys.filter { host.sysctls[$0] == nil && !$0.contains(".vrrp") }.sorted()
        if !changed.isEmpty {
            throw fail("r\(host.id) stopped but did not restore \(changed.map { "\($0)=\(host.sysctls[$0] ?? "gone") (was \(life.sysctlsAtStart[$0] ?? "absent"))" })")
        }
        try checkHooks(node, complete: false)
        log("r\(host.id) stopped cleanly")
        node.pastLives.append(life)
        node.life = nil
    }
}

// MARK: Invariant 6: no takeover from queued advertisements

extension DaemonScenario {
    /// Called with every line a daemon logs, as it logs it. At a takeover that rests on an expired
    /// Master_Down_Timer — "Backup -> Master" because the timer expired or Skew_Time after priority
    /// 0 passed — the router's socket must not hold an advertisement that:
    ///   - is for this router (same VRID and family, on the socket the router reads),
    ///   - comes from a live Master (priority > 0, its sender's daemon life still running),
    ///   - that this Backup would follow, not preempt (a priority not lower than the Backup's
    ///     effective one, or the Backup does not preempt: `preempt: false` or a handover hold),
    ///   - and was sent within this Backup's Master_Down_Interval (for that advertisement's interval)
    ///     of the takeover.
    /// Such an advertisement shows the Master alive within the interval the Backup waits for it:
    /// the expiry came from the Backup being late to read, not from the Master being down.
    /// (A manual takeover put up for approval is not checked here: besides an expiry, a queued
    /// advertisement from a lower-priority Master asks for it too, legitimately, while a newer one
    /// still waits; the drain before such an expiry is covered by VRRPNodeTests.)
    func checkTakeover(_ node: DaemonNode, _ line: String) {
        guard violation == nil else { return }
        let what: String
        if line.contains(": Backup -> Master (\(TransitionReason.masterDown))") {
            what = "took over (\(TransitionReason.masterDown))"
        } else if line.contains(": Backup -> Master (\(TransitionReason.masterStopped))") {
            what = "took over (\(TransitionReason.masterStopped))"
        } else {
            return
        }
        guard let colon = line.firstIndex(of: ":"), let slash = line[..<colon].lastIndex(of: "/"),
              let spec = instances.first(where: { $0.name == line[..<slash] }),
              let family = AddressFamily(rawValue: String(line[line.index(after: slash)..<colon])),
              let life = node.life, let status = node.status(),
              let router = status.instances.first(where: { $0.name == spec.name })?.routers.first(where: { $0.family == family.rawValue })
        else { return }
        let socketIndex = spec.virtualMAC
            ? node.host.link(named: family == .ipv4 ? "vrrp.\(spec.vrid)" : "vrrp6.\(spec.vrid)")?.index
            : SimHost.lan
        let follows = !spec.preempt || router.handoverHold
        for endpoint in life.plane.endpoints where endpoint.open && endpoint.family == family && endpoint.interfaceIndex == socketIndex {
            for queued in endpoint.queue {
                let bytes = queued.packet.payload
                guard bytes.count >= 8, Int(bytes[1]) == spec.vrid, bytes[2] > 0,
                      let sender = queued.sender, sender.running,
                      follows || Int(bytes[2]) >= router.effectivePriority else { continue }
                let interval = AdvertInterval(centiseconds: UInt16(bytes[4] & 0x0f) << 8 | UInt16(bytes[5]))
                let masterDown = ProtocolTimers.masterDownInterval(priority: UInt8(router.effectivePriority),
                                                                   masterAdvertInterval: interval, version: .v3)
                let age = world.now - queued.sentAt
                guard age <= masterDown.nanoseconds else { continue }
                violation = "r\(node.host.id) \(spec.name)/\(family) \(what) while an advertisement from r\(sender.host.id) "
                    + "(priority \(bytes[2]), sent \(Double(age / 1_000) / 1000) ms ago, within its Master_Down_Interval of "
                    + "\(Double(masterDown.nanoseconds / 1_000) / 1000) ms) sat unread in its socket"
                log(violation!)
                return
            }
        }
    }

    /// Withdrawn expiries, per daemon life (its counters only grow): for the statistics.
    func noteWithdrawnExpiries(_ node: DaemonNode, _ status: DaemonStatus) {
        guard let life = node.life else { return }
        let count = status.instances.flatMap(\.routers).reduce(0) { $0 + $1.counters.masterDownWithdrawn }
        withdrawnByLife[ObjectIdentifier(life)] = count
    }
}
