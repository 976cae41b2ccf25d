// From YAML text to a validated VIPDConfiguration.

import Foundation
import VRRP
import Yams

/// Ranges and limits of the file format. Protocol limits cite their RFC section.
enum Limits {
    /// Largest configuration file accepted; bounds the work any input can cause.
    static let maxFileBytes = 1 << 20
    /// VRID 1...255 (RFC 9568 §5.2.3; 0 is not a virtual router).
    static let vrid = 1...255
    /// Configurable priority 1...255: 0 is reserved for "Master stopping", 255 is the address owner
    /// (RFC 9568 §5.2.4).
    static let priority = 1...255
    /// VRRPv3 Max Advertise Interval: 12 bits of centiseconds, 1...4095 (RFC 9568 §5.2.7).
    static let v3Interval = Duration.milliseconds(10)...Duration.milliseconds(40_950)
    /// VRRPv2 Adver Int: 8 bits of whole seconds, 1...255 (RFC 3768 §5.3.7).
    static let v2Interval = Duration.seconds(1)...Duration.seconds(255)
    /// VRRPv2 simple password: 8 bytes of Authentication Data (RFC 3768 §5.3.6.1).
    static let authPassBytes = 8
    /// keepalived's preempt_delay range (0...1000 s).
    static let preemptDelay = Duration.zero...Duration.seconds(1000)
    static let shutdownTimeout = Duration.zero...Duration.seconds(3600)
    /// SCHED_RR priorities on Linux (sched_get_priority_min/max for SCHED_RR); 0 = off.
    static let realtimePriority = 0...99
    static let minAutoPriorityDelay = VIPDConfiguration.minimumAutoPriorityDelay...Duration.seconds(10)
    /// RLIMIT_RTTIME is counted in scheduler ticks (1–10 ms): 10 ms is a few ticks, keepalived's
    /// default; a minute of real-time CPU without a pause is no longer a guard.
    static let realtimeCPULimit = Duration.milliseconds(10)...Duration.seconds(60)
    static let garpCount = 1...100
    static let garpInterval = Duration.zero...Duration.seconds(10)
    static let garpRepeatAfter = Duration.zero...Duration.seconds(3600)
    static let garpRefresh = Duration.zero...Duration.seconds(3600)
    /// A tracked item's weight keeps any priority 1...254 reachable, as in keepalived (-254...254).
    static let trackWeight = -254...254
    static let scriptInterval = Duration.milliseconds(100)...Duration.seconds(3600)
    static let scriptTimeoutMinimum = Duration.milliseconds(10)
    static let riseFall = 1...1000
    /// sun_path holds 108 bytes including the terminating NUL.
    static let socketPathBytes = 107
    /// Linux IFNAMSIZ (16) minus the NUL.
    static let interfaceNameBytes = 15
    static let nameBytes = 64
    static let port = 1...65535
}

enum Keys {
    static let top = ["node", "control_socket", "metrics", "shutdown_timeout", "log_level", "realtime_priority",
                      "max_auto_priority", "min_auto_priority_delay", "realtime_cpu_limit", "lock_memory", "enable_script_security", "script_user", "instances", "sync_groups"]
    static let instance = ["name", "interface", "vrid", "priority", "advert_interval", "version", "auth_pass",
                           "preempt", "preempt_delay", "accept", "addresses", "unicast", "virtual_mac", "garp",
                           "track", "notify", "takeover", "v3_checksum_as_v2", "auth_hmac", "announce", "route",
                           "election"] + NotifyKeys.instance
    static let metrics = ["listen"]
    static let unicast = ["source", "peers", "ttl_check"]
    static let garp = ["count", "interval", "repeat_after", "refresh"]
    static let track = ["interfaces", "scripts"]
    static let trackedInterface = ["name", "weight"]
    static let trackedScript = ["name", "run", "interval", "timeout", "weight", "rise", "fall", "user"]
    static let syncGroup = ["name", "instances"] + NotifyKeys.syncGroup
}

extension VIPDConfiguration {
    /// Reads and parses a configuration file, applies script security when the file enables it
    /// (the default) and looks up the script users: what check-config, run and reload call, so they
    /// accept exactly the same files. Errors name `path`. `checkingScripts: false` (neither check) is
    /// only for reading settings such as the control socket (the CLI's `--config`), where a script's
    /// permissions and users are not the question.
    /// `file:` keys of `auth_hmac` are read here too; `credentialsDirectory` is where a relative
    /// key name is looked up first (systemd's `$CREDENTIALS_DIRECTORY` by default).
    /// `readingKeyFiles: false`, like `checkingScripts: false`, is only for reading settings such as
    /// the control socket: an operator's `vipd status` need not be able to read the daemon's keys.
    public static func load(path: String, checkingScripts: Bool = true, readingKeyFiles: Bool = true,
                            credentialsDirectory: String? = KeyFiles.environmentCredentialsDirectory()) throws(ConfigError) -> VIPDConfiguration {
        try loadWithWarnings(path: path, checkingScripts: checkingScripts, readingKeyFiles: readingKeyFiles,
                             credentialsDirectory: credentialsDirectory).configuration
    }

    /// `load(path:)`, and the warnings about settings that load but may not do what was meant
    /// (`ConfigWarning`): what check-config prints and `vipd run` logs.
    public static func loadWithWarnings(path: String, checkingScripts: Bool = true, readingKeyFiles: Bool = true,
                                        credentialsDirectory: String? = KeyFiles.environmentCredentialsDirectory())
        throws(ConfigError) -> (configuration: VIPDConfiguration, warnings: [ConfigWarning]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(file: path, line: 1, column: 1, message: "cannot read the file: \(error.localizedDescription)")
        }
        guard data.count <= Limits.maxFileBytes else {
            throw ConfigError(file: path, line: 1, column: 1,
                              message: "the file is \(data.count) bytes; at most \(Limits.maxFileBytes) are accepted")
        }
        var iterator = data.makeIterator()
        var utf8 = Unicode.UTF8.ForwardParser()
        var scalars = String.UnicodeScalarView()
        var line = 1, column = 1
        decoding: while true {
            switch utf8.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                scalars.append(scalar)
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput:
                break decoding
            case .error:
                throw ConfigError(file: path, line: line, column: column, message: "the file is not valid UTF-8")
            }
        }
        var (config, scripts, keyFiles, users, warnings) = try decode(yaml: String(scalars), file: path)
        if checkingScripts && config.enableScriptSecurity { try ScriptSecurity.check(scripts, file: path) }
        if checkingScripts { try ScriptUsers.resolve(users, into: &config, file: path) }
        if readingKeyFiles { try KeyFiles.load(keyFiles, into: &config, file: path, credentialsDirectory: credentialsDirectory) }
        return (config, warnings)
    }

    /// Parses configuration text; `file` is only used in error messages. Text only: the scripts the
    /// text names are checked by `load(path:)`, the loader check-config, run and reload share.
    public static func parse(yaml: String, file: String) throws(ConfigError) -> VIPDConfiguration {
        try decode(yaml: yaml, file: file).config
    }

    /// `parse(yaml:file:)` and the configuration's warnings.
    public static func parseWithWarnings(yaml: String, file: String) throws(ConfigError)
        -> (configuration: VIPDConfiguration, warnings: [ConfigWarning]) {
        let decoded = try decode(yaml: yaml, file: file)
        return (decoded.config, decoded.warnings)
    }

    /// The configuration and the programs it names (with their positions, for script security).
    static func decode(yaml: String, file: String) throws(ConfigError)
        -> (config: VIPDConfiguration, scripts: [ScriptReference], keyFiles: [KeyFileReference], users: [UserReference],
            warnings: [ConfigWarning]) {
        let reader = NodeReader(file: file)
        guard yaml.utf8.count <= Limits.maxFileBytes else {
            throw ConfigError(file: file, line: 1, column: 1,
                              message: "the configuration is \(yaml.utf8.count) bytes; at most \(Limits.maxFileBytes) are accepted")
        }
        switch AliasBudget.check(yaml) {
        case .within:
            break
        case .exceeded(let line, let column):
            throw ConfigError(file: file, line: line, column: column,
                              message: "aliases expand the document beyond \(AliasBudget.maxExpandedNodes) nodes; write the repeated settings out")
        case .tooManyAliases(let line, let column):
            throw ConfigError(file: file, line: line, column: column, message: "too many aliases; write the repeated settings out")
        case .invalid(let error, let text):
            throw yamlError(error, file: file, text: text)
        }
        let root: Node?
        do {
            // `.basic`: no implicit tag resolution. The decoder reads every scalar as text and
            // types it itself; Yams' default resolver runs up to seven regular expressions per
            // plain scalar (Foundation's NSRegularExpression on ICU), which only cost start-up
            // time and memory here.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch let e as YamlError {
            throw yamlError(e, file: file, text: yaml)
        } catch {
            throw ConfigError(file: file, line: 1, column: 1, message: "YAML error: \(error)")
        }
        guard let root, !NodeReader.isNull(root) else {
            throw ConfigError(file: file, line: 1, column: 1,
                              message: "the configuration is empty: at least 'instances' is required")
        }
        let decoder = ConfigDecoder(reader: reader, warnings: ConfigWarnings(file: file))
        let config = try decoder.configuration(root)
        return (config, decoder.scripts.references, decoder.keyFiles.references, decoder.users.references, decoder.warnings.list)
    }
}

/// Where an instance's identifying values sit, for checks across instances.
private struct InstanceMarks {
    var name: Node
    /// nil with `election: none` (no VRID).
    var vrid: Node?
}

struct ConfigDecoder {
    let reader: NodeReader
    /// Every hook and track-script program, in file order, for `ScriptSecurity`.
    let scripts = ScriptReferences()
    /// Every `file:` key, for `KeyFiles` (read by `load(path:)` only).
    let keyFiles = KeyFileReferences()
    /// Every `script_user` and track script `user`, for `ScriptUsers.resolve`.
    let users = UserReferences()
    /// Settings that load but may not do what was meant (ParseRoute.swift).
    let warnings: ConfigWarnings

    func configuration(_ root: Node) throws(ConfigError) -> VIPDConfiguration {
        var hints: [String: String] = [:]
        for key in Keys.instance where !Keys.top.contains(key) { hints[key] = "an entry of 'instances'" }
        let fields = try Fields(root, "the top level", allowed: Keys.top, hints: hints, reader: reader)

        var config = VIPDConfiguration(instances: [])
        if let n = fields.optional("node") { config.node = try reader.string(n, "node", maxBytes: Limits.nameBytes) }
        if let n = fields.optional("control_socket") {
            let path = try reader.absolutePath(n, "control_socket")
            guard path.utf8.count <= Limits.socketPathBytes else {
                throw reader.error(at: n, "control_socket is \(path.utf8.count) bytes; a Unix socket path holds at most \(Limits.socketPathBytes)")
            }
            config.controlSocket = path
        }
        if let n = fields.optional("metrics") {
            let m = try Fields(n, "metrics", allowed: Keys.metrics, reader: reader)
            config.metrics = try listen(try m.required("listen", in: "metrics"))
        }
        if let n = fields.optional("shutdown_timeout") {
            config.shutdownTimeout = try reader.duration(n, "shutdown_timeout", Limits.shutdownTimeout)
        }
        if let n = fields.optional("log_level") {
            config.logLevel = try reader.oneOf(n, "log_level", LogLevel.allCases.map { ($0.rawValue, $0) })
        }
        if let n = fields.optional("realtime_priority") {
            let value = try reader.integer(n, "realtime_priority", Limits.realtimePriority)
            config.realtimePriority = value == 0 ? nil : value
        }
        if let n = fields.optional("max_auto_priority") {
            let value = try reader.integer(n, "max_auto_priority", Limits.realtimePriority)
            config.maxAutoPriority = value == 0 ? nil : value
        }
        if let n = fields.optional("min_auto_priority_delay") {
            config.minAutoPriorityDelay = try reader.duration(n, "min_auto_priority_delay", Limits.minAutoPriorityDelay)
            if config.maxAutoPriority == nil {
                warnings.add(at: n, "min_auto_priority_delay does nothing without max_auto_priority (the highest priority vipd may raise itself to)")
            }
        }
        if let n = fields.optional("realtime_cpu_limit") {
            config.realtimeCPULimit = try reader.duration(n, "realtime_cpu_limit", Limits.realtimeCPULimit)
            if config.realtimePriority == nil && config.maxAutoPriority == nil {
                warnings.add(at: n, "realtime_cpu_limit does nothing without realtime_priority or max_auto_priority (it limits real-time scheduling only)")
            }
        }
        if let maximum = config.maxAutoPriority, let base = config.realtimePriority, maximum <= base,
           let n = fields.optional("max_auto_priority") {
            warnings.add(at: n, "max_auto_priority \(maximum) is not above realtime_priority \(base): the priority is never raised")
        }
        if let n = fields.optional("lock_memory") { config.lockMemory = try reader.bool(n, "lock_memory") }
        if let n = fields.optional("enable_script_security") {
            config.enableScriptSecurity = try reader.bool(n, "enable_script_security")
        }
        if let n = fields.optional("script_user") { config.scriptUser = try scriptUser(n, "script_user") }

        let list = try reader.sequence(try fields.required("instances", in: "the top level"), "instances")
        guard !list.isEmpty else {
            throw reader.error(at: try fields.required("instances", in: "the top level"),
                               "instances is empty: configure at least one instance (a daemon with nothing to do is refused)")
        }
        var marks: [InstanceMarks] = []
        for item in list {
            let (instance, mark) = try self.instance(item, index: config.instances.count)
            try checkAgainstEarlier(instance, mark, config.instances, marks)
            config.instances.append(instance)
            marks.append(mark)
        }

        if let n = fields.optional("sync_groups") {
            config.syncGroups = try syncGroups(n, instances: config.instances)
        }
        routeWarnings(config, nameNodes: marks.map(\.name))
        return config
    }

    private func checkAgainstEarlier(_ instance: InstanceConfig, _ mark: InstanceMarks,
                                     _ earlier: [InstanceConfig], _ earlierMarks: [InstanceMarks]) throws(ConfigError) {
        for (other, otherMark) in zip(earlier, earlierMarks) {
            if other.name == instance.name {
                throw reader.error(at: mark.name, "duplicate instance name '\(instance.name)' (first used at line \(otherMark.name.mark?.line ?? 0)); instance names must be unique")
            }
            guard other.interface == instance.interface, other.vrid == instance.vrid,
                  let vridNode = mark.vrid, other.runsVRRP else { continue }
            if let family = instance.families.first(where: { other.families.contains($0) }) {
                throw reader.error(at: vridNode, "vrid \(instance.vrid) on \(instance.interface) for \(family) is already used by instance '\(other.name)' (line \(otherMark.vrid?.mark?.line ?? 0)); a VRID must be unique per interface and address family")
            }
        }
    }

    // MARK: instances

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "."
    }

    /// Instance and sync-group names: they appear in metrics labels, CLI arguments and notify arguments.
    func name(_ node: Node, _ what: String) throws(ConfigError) -> String {
        let text = try reader.string(node, what, maxBytes: Limits.nameBytes)
        guard text.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
            throw reader.error(at: node, "\(what) '\(text)' may contain only letters, digits, '_', '-' and '.'")
        }
        return text
    }

    /// A Linux interface name as the kernel accepts it (dev_valid_name).
    func interfaceName(_ node: Node, _ what: String) throws(ConfigError) -> String {
        let text = try reader.string(node, what)
        guard text.utf8.count <= Limits.interfaceNameBytes, text != ".", text != "..",
              !text.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) else {
            throw reader.error(at: node, "\(what) '\(text)' is not a valid interface name: at most \(Limits.interfaceNameBytes) bytes, no '/', ':' or spaces")
        }
        return text
    }

    private func instance(_ node: Node, index: Int) throws(ConfigError) -> (InstanceConfig, InstanceMarks) {
        var hints: [String: String] = [:]
        for key in Keys.top where !Keys.instance.contains(key) { hints[key] = "the top level" }
        let f = try Fields(node, "an instance", allowed: Keys.instance, hints: hints, reader: reader)
        let nameNode = try f.required("name", in: "an instance")
        let name = try self.name(nameNode, "name")
        let what = "instance '\(name)'"
        let interface = try interfaceName(try f.required("interface", in: what), "interface")
        let election = try self.election(f, instance: name)
        let vridNode = election == .vrrp ? try f.required("vrid", in: what) : nil
        var vrid: UInt8 = 0
        if let vridNode { vrid = UInt8(try reader.integer(vridNode, "vrid", Limits.vrid)) }
        var c = InstanceConfig(name: name, interface: interface, vrid: vrid, addresses: [])
        c.election = election

        if let n = f.optional("version") { c.version = try reader.oneOf(n, "version", [("3", VRRPVersion.v3), ("2", .v2)]) }
        if let n = f.optional("priority") { c.priority = UInt8(try reader.integer(n, "priority", Limits.priority)) }
        if let n = f.optional("advert_interval") { c.advertInterval = try advertInterval(n, version: c.version) }
        if let n = f.optional("auth_pass") {
            guard c.version == .v2 else {
                throw reader.error(at: n, "auth_pass is only for version 2: VRRPv3 has no authentication field (RFC 9568); remove it or set version: 2")
            }
            let pass = try reader.string(n, "auth_pass")
            guard pass.utf8.count <= Limits.authPassBytes else {
                throw reader.error(at: n, "auth_pass is \(pass.utf8.count) bytes; VRRPv2 carries at most \(Limits.authPassBytes) (RFC 3768 §5.3.6)")
            }
            c.authPass = pass
        }
        if let n = f.optional("preempt") {
            c.preempt = try reader.bool(n, "preempt")
            if !c.preempt && c.priority == ProtocolConstants.ownerPriority {
                throw reader.error(at: n, "preempt: false with priority 255: the address owner always preempts (RFC 9568 §6.1); lower the priority or remove preempt")
            }
        }
        if let n = f.optional("preempt_delay") { c.preemptDelay = try reader.duration(n, "preempt_delay", Limits.preemptDelay) }
        if let n = f.optional("accept") {
            c.accept = try reader.bool(n, "accept")
            if c.accept && c.version == .v2 {
                throw reader.error(at: n, "accept is a VRRPv3 setting (Accept_Mode, RFC 9568 §6.1); version 2 has none")
            }
        }

        let addressesNode = try f.required("addresses", in: what)
        c.addresses = try addresses(addressesNode, version: c.version)

        if let n = f.optional("v3_checksum_as_v2") {
            c.v3ChecksumAsV2 = try reader.bool(n, "v3_checksum_as_v2")
            if c.v3ChecksumAsV2 && c.version == .v2 {
                throw reader.error(at: n, "v3_checksum_as_v2 applies to version 3 only")
            }
            if c.v3ChecksumAsV2 && !c.families.contains(.ipv4) {
                throw reader.error(at: n, "v3_checksum_as_v2 applies to IPv4 only, and this instance has no IPv4 address")
            }
        }
        if let n = f.optional("unicast") { c.unicast = try unicast(n, instance: c) }
        if let n = f.optional("virtual_mac") { c.virtualMAC = try reader.bool(n, "virtual_mac") }
        if let n = f.optional("garp") { c.garp = try garp(n) }
        if let n = f.optional("track") { c.track = try track(n, priority: c.priority) }
        try instanceNotify(f, into: &c)
        if let n = f.optional("takeover") {
            c.takeover = try reader.oneOf(n, "takeover", [("auto", TakeoverMode.auto), ("manual", .manual)])
        }
        if let n = f.optional("auth_hmac") {
            guard c.authPass == nil else {
                throw reader.error(at: n, "auth_hmac and auth_pass exclude each other: remove auth_pass (the HMAC trailer replaces the VRRPv2 password)")
            }
            c.authHMAC = try authHMAC(n, instance: c, index: index)
        }
        try routing(f, into: &c, addressesNode: addressesNode)
        return (c, InstanceMarks(name: nameNode, vrid: vridNode))
    }

    private func advertInterval(_ node: Node, version: VRRPVersion) throws(ConfigError) -> AdvertInterval {
        switch version {
        case .v3:
            let d = try reader.duration(node, "advert_interval")
            let ns = d.nanoseconds
            guard Limits.v3Interval.contains(d), ns % 10_000_000 == 0 else {
                throw reader.error(at: node, "advert_interval \(DurationText.render(d)) is not allowed for version 3: it must be a multiple of 10ms from 10ms to 40950ms (RFC 9568 §5.2.7)")
            }
            return AdvertInterval(centiseconds: UInt16(ns / 10_000_000))
        case .v2:
            let d = try reader.duration(node, "advert_interval")
            let ns = d.nanoseconds
            guard Limits.v2Interval.contains(d), ns % 1_000_000_000 == 0 else {
                throw reader.error(at: node, "advert_interval \(DurationText.render(d)) is not allowed for version 2: it must be whole seconds from 1s to 255s (RFC 3768 §5.3.7)")
            }
            return AdvertInterval(seconds: UInt8(ns / 1_000_000_000))
        }
    }

    private func address(_ node: Node, _ what: String) throws(ConfigError) -> IPAddress {
        let text = try reader.scalar(node, what)
        guard let a = IPAddress(text) else {
            throw reader.error(at: node, "\(what) '\(text)' is not an IPv4 or IPv6 address")
        }
        return a
    }

    private func addresses(_ node: Node, version: VRRPVersion) throws(ConfigError) -> [AddressPrefix] {
        let items = try reader.sequence(node, "addresses")
        guard !items.isEmpty else {
            throw reader.error(at: node, "addresses is empty: an instance needs at least one virtual address")
        }
        var result: [AddressPrefix] = []
        for item in items {
            let text = try reader.scalar(item, "an address")
            guard let p = AddressPrefix(text) else {
                throw reader.error(at: item, "'\(text)' is not an address: write ADDRESS/PREFIXLEN or ADDRESS (IPv4 or IPv6, e.g. 192.0.2.100/24, 2001:db8::100/64)")
            }
            switch p.address {
            case .v4(let a) where a.isMulticast || a.value == 0 || a.value == UInt32.max:
                throw reader.error(at: item, "\(p.address) cannot be a virtual address (multicast, unspecified or broadcast)")
            case .v6(let a) where a.isMulticast || (a.high == 0 && a.low <= 1):
                throw reader.error(at: item, "\(p.address) cannot be a virtual address (multicast, unspecified or loopback)")
            default: break
            }
            if version == .v2 && p.family == .ipv6 {
                throw reader.error(at: item, "\(p.address) is IPv6, but version 2 instances are IPv4-only (RFC 3768): use version: 3, where one instance may hold both families")
            }
            if let earlier = result.first(where: { $0.address == p.address }) {
                throw reader.error(at: item, "\(p.address) is listed twice (also as \(earlier))")
            }
            result.append(p)
        }
        return result
    }

    private func unicast(_ node: Node, instance: InstanceConfig) throws(ConfigError) -> UnicastConfig {
        let f = try Fields(node, "unicast", allowed: Keys.unicast, reader: reader)
        let families = instance.families
        guard families.count == 1, let family = families.first else {
            throw reader.error(at: node, "unicast instances must be single-family, but instance '\(instance.name)' has IPv4 and IPv6 addresses: split it into one instance per family")
        }
        let sourceNode = try f.required("source", in: "unicast")
        let source = try address(sourceNode, "unicast.source")
        guard source.family == family else {
            throw reader.error(at: sourceNode, "unicast.source \(source) is \(source.family), but the instance's addresses are \(family)")
        }
        let peerNodes = try reader.sequence(try f.required("peers", in: "unicast"), "unicast.peers")
        guard !peerNodes.isEmpty else {
            throw reader.error(at: try f.required("peers", in: "unicast"), "unicast.peers is empty: list at least one peer")
        }
        var peers: [IPAddress] = []
        for p in peerNodes {
            let peer = try address(p, "a unicast peer")
            guard peer.family == family else {
                throw reader.error(at: p, "unicast peer \(peer) is \(peer.family), but the instance's addresses are \(family)")
            }
            guard peer != source else { throw reader.error(at: p, "unicast peer \(peer) is the unicast source itself") }
            guard !peers.contains(peer) else { throw reader.error(at: p, "unicast peer \(peer) is listed twice") }
            peers.append(peer)
        }
        var ttlCheck: Bool?
        if let n = f.optional("ttl_check") { ttlCheck = try reader.bool(n, "unicast.ttl_check") }
        return UnicastConfig(source: source, peers: peers, ttlCheck: ttlCheck)
    }

    private func garp(_ node: Node) throws(ConfigError) -> GARPConfig {
        let f = try Fields(node, "garp", allowed: Keys.garp, reader: reader)
        var g = GARPConfig()
        if let n = f.optional("count") { g.count = try reader.integer(n, "garp.count", Limits.garpCount) }
        if let n = f.optional("interval") { g.interval = try reader.duration(n, "garp.interval", Limits.garpInterval) }
        if let n = f.optional("repeat_after") { g.repeatAfter = try reader.duration(n, "garp.repeat_after", Limits.garpRepeatAfter) }
        if let n = f.optional("refresh") { g.refresh = try reader.duration(n, "garp.refresh", Limits.garpRefresh) }
        return g
    }
}
