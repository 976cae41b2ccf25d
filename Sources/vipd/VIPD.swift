// The `vipd` command: the daemon (`run`) and the operator's tools (check-config, status, handover,
// approve, reload), which talk to a running daemon over its control socket.

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import VIPDConfig
import VIPDDaemon
import VIPDObservability
import VRRP

let defaultConfigPath = "/etc/vipd/vipd.yaml"

@main
struct VIPD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vipd",
        abstract: "Virtual-IP failover agent (VRRPv3 / VRRPv2).",
        version: vipdVersion,
        subcommands: [Run.self, CheckConfig.self, Status.self, Handover.self, Approve.self, Reload.self, ImportKeepalived.self])
}

/// Where to reach the daemon: an explicit socket, or the one named in a config file.
struct DaemonLocation: ParsableArguments {
    @Option(name: .long, help: "Config file whose control_socket to use.")
    var config: String = defaultConfigPath
    @Option(name: .long, help: "Control socket path (overrides --config).")
    var socket: String?

    func socketPath() throws -> String {
        if let socket { return socket }
        do {
            // Only the socket is wanted: a hook's permissions or an unreadable key file must not keep
            // `vipd status` from working.
            return try VIPDConfiguration.load(path: config, checkingScripts: false, readingKeyFiles: false).controlSocket
        } catch {
            if !FileManager.default.fileExists(atPath: config) { return VIPDConfiguration.defaultControlSocket }
            throw ValidationError("\(error)")
        }
    }

    func send(_ request: ControlRequest) throws -> ControlResponse {
        do {
            return try ControlClient.send(request, to: try socketPath())
        } catch let error as ValidationError {
            throw error
        } catch {
            fail("\(error)")
        }
    }
}

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("vipd: \(message)\n".utf8))
    Glibc.exit(code)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground (systemd: Type=notify).")

    @Option(name: .long, help: "Configuration file.")
    var config: String = defaultConfigPath

    func run() throws {
        // Before anything can start a thread: see EventLoop.blockSignals.
        EventLoop.blockSignals(Daemon.handledSignals)
        let configuration: VIPDConfiguration
        let warnings: [ConfigWarning]
        do {
            (configuration, warnings) = try VIPDConfiguration.loadWithWarnings(path: config)
        } catch {
            fail("\(error)")
        }
        VIPDLogging.bootstrap(level: configuration.logLevel.swiftLogLevel)
        var logger = Logger(label: "vipd")
        logger.logLevel = configuration.logLevel.swiftLogLevel
        if let node = configuration.node { logger[metadataKey: "node"] = "\(node)" }
        for warning in warnings { logger.warning("\(warning)") }
        do {
            let daemon = Daemon(configPath: config, config: configuration, logger: logger, plane: try LinuxDataPlane())
            let code = try daemon.run()
            if code != 0 { throw ExitCode(code) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            logger.critical("cannot start: \(error)")
            fail("\(error)")
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate a configuration file and print the effective configuration.")

    @Argument(help: "Configuration file.")
    var file: String = defaultConfigPath

    @Flag(name: .long, help: "Only validate; print nothing on success but warnings (on standard error).")
    var quiet = false

    func run() throws {
        do {
            let (configuration, warnings) = try VIPDConfiguration.loadWithWarnings(path: file)
            // Warnings go to standard error: standard output stays the effective configuration.
            for warning in warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
            // auth_pass shows as <set>: the output is for reading and sharing, not a copy of the secret.
            if !quiet { print(configuration.renderYAML(redactSecrets: true), terminator: "") }
        } catch {
            fail("\(error)")
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the state of every instance of the running daemon.")

    @OptionGroup var location: DaemonLocation
    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let response = try location.send(ControlRequest(command: .status))
        guard response.ok, let status = response.status else { fail(response.message ?? "status failed") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(StatusRenderer.render(status), terminator: "")
        }
    }
}

struct Handover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Planned handover without loss: the Master steps aside for the best Backup.",
        discussion: """
            The Master advertises priority 0 but keeps its addresses until it hears the new Master, so \
            no packet is lost. It then stays Backup without taking the addresses back until --hold \
            passes or `vipd handover --cancel` (it still takes over if the new Master fails).
            """)

    @OptionGroup var location: DaemonLocation
    @Argument(help: "Instance (default: every instance that is Master here).")
    var instance: String?
    @Option(name: .long, help: "Don't take the addresses back for this long (e.g. 10m); default: until --cancel.")
    var hold: String?
    @Flag(name: .long, help: "Cancel a handover: resume normal election.")
    var cancel = false

    func run() throws {
        var holdSeconds: Double?
        if let hold {
            guard let d = VIPDConfiguration.parseDuration(hold) else { throw ValidationError("--hold takes a duration like 30s, 10m or 500ms") }
            holdSeconds = Double(d.nanoseconds) / 1e9
        }
        let request = ControlRequest(command: .handover, instance: instance, holdSeconds: holdSeconds, cancel: cancel)
        do { try request.validate() } catch { throw ValidationError("\(error)") }
        let response = try location.send(request)
        if let message = response.message { print(message) }
        if !response.ok { throw ExitCode(1) }
    }
}

struct Approve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a pending manual takeover (takeover: manual).")

    @OptionGroup var location: DaemonLocation
    @Argument(help: "Instance.")
    var instance: String

    func run() throws {
        let response = try location.send(ControlRequest(command: .approve, instance: instance))
        if let message = response.message { print(message) }
        if !response.ok { throw ExitCode(1) }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload the configuration file (same as SIGHUP).")

    @OptionGroup var location: DaemonLocation

    func run() throws {
        let response = try location.send(ControlRequest(command: .reload))
        if let message = response.message { print(message) }
        if !response.ok { throw ExitCode(1) }
    }
}
