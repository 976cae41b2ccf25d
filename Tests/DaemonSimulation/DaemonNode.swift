// One simulated host running real `Daemon`s over a SimPlane, one life after another (a crash ends a
// life without any cleanup; a restart begins a new one on the same kernel state).

import Logging
import Synchronization
@_spi(Testing) import VIPDDaemon
import VIPDConfig
import VIPDObservability
import VRRP

/// What a daemon logged, kept for the transition order (hooks must follow it).
final class LogSink: Sendable {
    let lines = Mutex<[String]>([])
    /// Called with each line as it is logged, inside the daemon's call that logged it (invariants
    /// that must look at the world at the moment of a transition). A seed runs on one thread.
    nonisolated(unsafe) var observer: ((String) -> Void)?
}

struct SinkLogHandler: LogHandler {
    let sink: LogSink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let message = event.message.description
        sink.lines.withLock { $0.append(message) }
        sink.observer?(message)
    }
}

/// One daemon's life on a host.
final class DaemonLife {
    let daemon: Daemon
    let plane: SimPlane
    let sink: LogSink
    /// The host's sysctls when this life began: what it must leave behind.
    let sysctlsAtStart: [String: String]
    let hooksAtStart: Int
    var stopRequested = false
    /// Ended by a crash (no cleanup expected), not by its own finish.
    var crashed = false

    init(daemon: Daemon, plane: SimPlane, sink: LogSink, sysctlsAtStart: [String: String], hooksAtStart: Int) {
        self.daemon = daemon; self.plane = plane; self.sink = sink
        self.sysctlsAtStart = sysctlsAtStart; self.hooksAtStart = hooksAtStart
    }

    static let hookNames: [String: String] = Dictionary(uniqueKeysWithValues: [
        (RouterState.initialize, "STOP"), (.backup, "BACKUP"), (.master, "MASTER"), (.fault, "FAULT"),
    ].map { ($0.0.description, $0.1) })

    /// (instance, family, hook state) of every transition this life logged, in order.
    func transitions() -> [(instance: String, family: String, state: String)] {
        sink.lines.withLock { lines in
            lines.compactMap { line -> (String, String, String)? in
                // "<instance>/<family>: takeover pending — …" (manual takeover)
                if let pending = line.range(of: ": takeover pending"), let slash = line[..<pending.lowerBound].lastIndex(of: "/") {
                    return (String(line[..<slash]), String(line[line.index(after: slash)..<pending.lowerBound]), "TAKEOVER_PENDING")
                }
                // "<instance>/<family>: <from> -> <to> (<reason>)"
                guard let colon = line.firstIndex(of: ":"), let arrow = line.range(of: " -> ") else { return nil }
                let key = line[..<colon]
                guard let slash = key.lastIndex(of: "/") else { return nil }
                let to = line[arrow.upperBound...].prefix { $0 != " " }
                guard let hook = Self.hookNames[String(to)] else { return nil }
                return (String(key[..<slash]), String(key[key.index(after: slash)...]), hook)
            }
        }
    }
}

final class DaemonNode {
    let host: SimHost
    let configPath: String
    var life: DaemonLife?
    var pastLives: [DaemonLife] = []
    /// Off only to show that the invariants catch takeovers made from unread advertisements.
    var drainBeforeExpiry = true
    /// Sees every line each life logs, as it is logged.
    var observer: ((String) -> Void)?

    init(host: SimHost, configPath: String) { self.host = host; self.configPath = configPath }

    var running: Bool { life?.plane.running ?? false }

    /// Starts a new daemon life on the host (after a crash, a stop, or the first time).
    func start() throws {
        if let life { pastLives.append(life) }
        life = nil
        let config = try VIPDConfiguration.load(path: configPath)
        let sink = LogSink()
        sink.observer = observer
        var logger = Logger(label: "vipd-sim-\(host.id)") { _ in SinkLogHandler(sink: sink) }
        logger.logLevel = .info
        let plane = SimPlane(host: host, origin: host.world.random.int64(0...1_000_000_000_000))
        host.plane = plane
        let daemon = Daemon(configPath: configPath, config: config, logger: logger, plane: plane,
                            notifier: SystemdNotifier(environment: [:]))
        daemon.drainBeforeExpiry.enabled = drainBeforeExpiry
        let life = DaemonLife(daemon: daemon, plane: plane, sink: sink, sysctlsAtStart: host.sysctls,
                              hooksAtStart: host.hooks.count)
        self.life = life
        try daemon.start()
    }

    /// The process dies: no cleanup at all; addresses, macvlans and sysctls stay as they are.
    func crash() {
        guard let life, life.plane.running else { return }
        life.crashed = true
        life.plane.simLoop.running = false
        host.plane = nil
    }

    /// SIGTERM: every Master hands over, then the daemon finishes.
    func requestStop() {
        guard let life, life.plane.running, !life.stopRequested else { return }
        life.stopRequested = true
        life.daemon.beginGracefulStop()
    }

    func status() -> DaemonStatus? {
        guard let life, life.plane.running else { return nil }
        return life.daemon.handleControl(ControlRequest(command: .status)).status
    }
}
