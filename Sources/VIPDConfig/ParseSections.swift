// Parts of the configuration decoder kept apart from Parse.swift so that each file stays short:
// metrics.listen, tracking, sync groups, and YAML errors turned into positioned ConfigErrors.

import VRRP
import Yams

extension VIPDConfiguration {
    static func yamlError(_ e: YamlError, file: String, text: String) -> ConfigError {
        func make(_ mark: Mark, _ context: YamlError.Context?, _ problem: String) -> ConfigError {
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return ConfigError(file: file, line: mark.line, column: mark.column, message: message)
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return make(mark, context, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column,
                               message: "duplicate key \(keys) in one mapping; each key may appear once")
        case .reader(let problem, let offset, _, _):
            var line = 1, column = 1
            if let offset {
                var seen = 0
                for scalar in text.unicodeScalars {
                    seen += String(scalar).utf8.count
                    if seen > offset { break }
                    if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return ConfigError(file: file, line: line, column: column, message: "YAML reader error: \(problem)")
        default:
            return ConfigError(file: file, line: 1, column: 1, message: "YAML error: \(e)")
        }
    }
}

extension ConfigDecoder {
    // MARK: metrics

    /// `metrics.listen`, resolved here once: the daemon binds the address this returns, so what
    /// check-config accepts is exactly what `vipd run` binds.
    func listen(_ node: Node) throws(ConfigError) -> MetricsConfig {
        let text = try reader.string(node, "metrics.listen")
        let allowed = "HOST:PORT with an IPv4 address, [IPv6 address] or localhost, e.g. 127.0.0.1:9650 or [::1]:9650"
        let address: IPAddress, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw reader.error(at: node, "metrics.listen '\(text)' must be \(allowed)")
            }
            let host = text[text.index(after: text.startIndex)..<close]
            guard let v6 = IPv6Address(host) else {
                throw reader.error(at: node, "metrics.listen: '\(host)' is not an IPv6 address; write \(allowed)")
            }
            address = .v6(v6)
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw reader.error(at: node, "metrics.listen '\(text)' must be \(allowed)")
            }
            let host = text[..<colon]
            // `localhost` is the IPv4 loopback address (RFC 6761 §6.3), resolved without /etc/hosts
            // or DNS so that startup never depends on name resolution.
            guard let v4 = host == "localhost" ? IPv4Address("127.0.0.1") : IPv4Address(host) else {
                throw reader.error(at: node, "metrics.listen: '\(host)' is not an IPv4 address or localhost; write \(allowed)")
            }
            address = .v4(v4)
            portText = text[text.index(after: colon)...]
        }
        guard portText.allSatisfy({ $0 >= "0" && $0 <= "9" }), portText.count <= 5, let port = Int(portText),
              Limits.port.contains(port) else {
            throw reader.error(at: node, "metrics.listen: port '\(portText)' must be an integer from 1 to 65535")
        }
        return MetricsConfig(address: address, port: UInt16(port))
    }

    func weight(_ node: Node, _ what: String, priority: UInt8) throws(ConfigError) -> Int {
        let w = try reader.integer(node, what, Limits.trackWeight)
        if w != 0 && priority == ProtocolConstants.ownerPriority {
            throw reader.error(at: node, "\(what) \(w) on an address owner (priority 255): its priority cannot change; use weight 0 (fault when down) or lower the priority")
        }
        return w
    }

    func track(_ node: Node, priority: UInt8) throws(ConfigError) -> TrackConfig {
        let f = try Fields(node, "track", allowed: Keys.track, reader: reader)
        var t = TrackConfig()
        if let n = f.optional("interfaces") {
            for item in try reader.sequence(n, "track.interfaces") {
                let i = try Fields(item, "a tracked interface", allowed: Keys.trackedInterface, reader: reader)
                let nameNode = try i.required("name", in: "a tracked interface")
                let name = try interfaceName(nameNode, "tracked interface name")
                guard !t.interfaces.contains(where: { $0.name == name }) else {
                    throw reader.error(at: nameNode, "interface \(name) is tracked twice")
                }
                var tracked = TrackedInterface(name: name)
                if let w = i.optional("weight") { tracked.weight = try weight(w, "weight", priority: priority) }
                t.interfaces.append(tracked)
            }
        }
        if let n = f.optional("scripts") {
            for (index, item) in try reader.sequence(n, "track.scripts").enumerated() {
                let s = try Fields(item, "a tracked script", allowed: Keys.trackedScript, reader: reader)
                let runNode = try s.required("run", in: "a tracked script")
                let run = try reader.string(runNode, "run")
                guard run.hasPrefix("/") else {
                    throw reader.error(at: runNode, "run '\(run)' must start with the absolute path of the program")
                }
                var scriptName = "\(index + 1)"
                if let n = s.optional("name") {
                    scriptName = try name(n, "track script name")
                }
                if let earlier = t.scripts.first(where: { $0.name == scriptName }) {
                    throw reader.error(at: s.optional("name") ?? item, "track script name '\(scriptName)' is used twice in this instance (also by the script running '\(ScriptReference.program(of: earlier.run))'); give each script its own name")
                }
                scripts.add(ScriptReference.program(of: run), "track script '\(scriptName)'", at: runNode)
                var script = TrackedScript(name: scriptName, run: run)
                if let n = s.optional("interval") { script.interval = try reader.duration(n, "interval", Limits.scriptInterval) }
                script.timeout = script.interval
                if let n = s.optional("timeout") {
                    let timeout = try reader.duration(n, "timeout", Limits.scriptTimeoutMinimum...Limits.scriptInterval.upperBound)
                    guard timeout <= script.interval else {
                        throw reader.error(at: n, "timeout \(DurationText.render(timeout)) is longer than interval \(DurationText.render(script.interval)): a check must end before the next one starts")
                    }
                    script.timeout = timeout
                }
                if let n = s.optional("weight") { script.weight = try weight(n, "weight", priority: priority) }
                if let n = s.optional("rise") { script.rise = try reader.integer(n, "rise", Limits.riseFall) }
                if let n = s.optional("fall") { script.fall = try reader.integer(n, "fall", Limits.riseFall) }
                if let n = s.optional("user") { script.user = try scriptUser(n, "user of track script '\(scriptName)'") }
                t.scripts.append(script)
            }
        }
        return t
    }

    // MARK: sync groups

    func syncGroups(_ node: Node, instances: [InstanceConfig]) throws(ConfigError) -> [SyncGroupConfig] {
        var groups: [SyncGroupConfig] = []
        var owner: [String: String] = [:]
        for item in try reader.sequence(node, "sync_groups") {
            let f = try Fields(item, "a sync group", allowed: Keys.syncGroup, reader: reader)
            let nameNode = try f.required("name", in: "a sync group")
            let name = try self.name(nameNode, "sync group name")
            guard !groups.contains(where: { $0.name == name }) else {
                throw reader.error(at: nameNode, "duplicate sync group name '\(name)'")
            }
            let membersNode = try f.required("instances", in: "sync group '\(name)'")
            let memberNodes = try reader.sequence(membersNode, "instances of sync group '\(name)'")
            guard !memberNodes.isEmpty else {
                throw reader.error(at: membersNode, "sync group '\(name)' has no instances")
            }
            var members: [String] = []
            for m in memberNodes {
                let member = try reader.scalar(m, "a sync group member")
                guard instances.contains(where: { $0.name == member }) else {
                    var message = "sync group '\(name)' names unknown instance '\(member)'"
                    if let near = closest(to: member, in: instances.map(\.name)) { message += "; did you mean '\(near)'?" }
                    throw reader.error(at: m, message)
                }
                guard !members.contains(member) else {
                    throw reader.error(at: m, "instance '\(member)' is listed twice in sync group '\(name)'")
                }
                try refuseAnycastMember(member, at: m, group: name, instances: instances)
                if let other = owner[member] {
                    throw reader.error(at: m, "instance '\(member)' is already in sync group '\(other)'; an instance may belong to one group only")
                }
                owner[member] = name
                members.append(member)
            }
            var group = SyncGroupConfig(name: name, instances: members)
            if let n = f.optional("notify") { group.notify = try commandLine(n, "notify of sync group '\(name)'") }
            group.stateCommands = try stateCommands(f, in: "sync group '\(name)'")
            groups.append(group)
        }
        return groups
    }
}
