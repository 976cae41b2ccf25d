// vipd-netprobe: exercises VIPDLinux from inside a network namespace for the namespace tests
// (`ip netns exec NS vipd-netprobe SUBCOMMAND ...`), and `rttime-spin`, VIPDSystem's
// RealtimeCPUGuard against the kernel's own SIGXCPU (a test cannot spin real-time in its own
// process: RLIMIT_RTTIME is per process). Output: one JSON object per line.
// Internal tool: hand-rolled arguments, no stability promise.
import Glibc
import VIPDLinux
import VIPDSystem
import VRRP

// MARK: output

enum JSON {
    case string(String), int(Int), bool(Bool), null, array([JSON]), object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let s): return "\"" + escape(s) + "\""
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { "\"\(escape($0.0))\":\($0.1.text)" }.joined(separator: ",") + "}"
        }
    }
    private func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

func emit(_ fields: [(String, JSON)]) {
    print(JSON.object(fields).text)
    fflush(nil)
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
func macText(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
}
func parseHex(_ text: String) -> [UInt8]? {
    let chars = Array(text.filter { $0 != ":" })
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < chars.count {
        guard let b = UInt8(String(chars[i...i + 1]), radix: 16) else { return nil }
        out.append(b); i += 2
    }
    return out
}

func linkJSON(_ l: LinkInfo) -> JSON {
    .object([("index", .int(Int(l.index))), ("name", .string(l.name)), ("mac", .string(macText(l.mac))),
             ("up", .bool(l.isAdminUp)), ("carrier", .bool(l.hasCarrier)), ("mtu", .int(Int(l.mtu))),
             ("kind", l.kind.map { .string($0) } ?? .null)])
}
func addressJSON(_ a: InterfaceAddress) -> JSON {
    .object([("index", .int(Int(a.interfaceIndex))), ("prefix", .string(a.prefix.description)),
             ("secondary", .bool(a.isSecondary)), ("flags", .int(Int(a.flags))),
             ("label", a.label.map { .string($0) } ?? .null)])
}
func eventJSON(_ e: LinkEvent) -> [(String, JSON)] {
    switch e {
    case .linkChanged(let l): [("event", .string("linkChanged")), ("link", linkJSON(l))]
    case .linkAppeared(let l): [("event", .string("linkAppeared")), ("link", linkJSON(l))]
    case .linkRemoved(let index, let name): [("event", .string("linkRemoved")), ("index", .int(Int(index))), ("name", .string(name))]
    case .addressAdded(let a): [("event", .string("addressAdded")), ("address", addressJSON(a))]
    case .addressUpdated(let a): [("event", .string("addressUpdated")), ("address", addressJSON(a))]
    case .addressRemoved(let a): [("event", .string("addressRemoved")), ("address", addressJSON(a))]
    case .resynchronized: [("event", .string("resynchronized"))]
    }
}

// MARK: arguments

struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    init(_ args: ArraySlice<String>) {
        var it = args.makeIterator()
        while let a = it.next() {
            if a.hasPrefix("--") {
                let name = String(a.dropFirst(2))
                if ["router", "summary"].contains(name) { flags.insert(name) } else { options[name] = it.next() ?? "" }
            } else { positional.append(a) }
        }
    }
    func require(_ name: String) throws -> String {
        guard let v = options[name] else { throw UsageError(message: "missing --\(name)") }
        return v
    }
    func int(_ name: String, default value: Int) throws -> Int {
        guard let text = options[name] else { return value }
        guard let v = Int(text) else { throw UsageError(message: "--\(name) wants a number") }
        return v
    }
}

struct UsageError: Error { var message: String }

func monotonicMilliseconds() -> Int64 { MonotonicClock.nanoseconds() / 1_000_000 }

/// Waits for `fd` to become readable, at most `milliseconds`.
func waitReadable(_ fd: Int32, milliseconds: Int) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, Int32(milliseconds)) > 0
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

// MARK: subcommands

func run(_ command: String, _ args: Arguments) throws {
    switch command {
    case "link":
        let nl = try RouteNetlink()
        let link: LinkInfo
        if let indexText = args.options["index"], let index = Int32(indexText) {
            link = try nl.interface(index: index)
        } else {
            link = try nl.interface(named: try args.require("ifname"))
        }
        emit([("link", linkJSON(link))])

    case "links":
        for l in try RouteNetlink().links() { emit([("link", linkJSON(l))]) }

    case "addresses":
        let nl = try RouteNetlink()
        let index = try args.options["ifname"].map { try nl.interface(named: $0).index }
        for a in try nl.addresses(interfaceIndex: index) { emit([("address", addressJSON(a))]) }

    case "primary":
        let nl = try RouteNetlink()
        let index = try nl.interface(named: try args.require("ifname")).index
        emit([("primaryIPv4", try nl.primaryIPv4(interfaceIndex: index).map { .string($0.description) } ?? .null),
              ("linkLocalIPv6", try nl.linkLocalIPv6(interfaceIndex: index).map { .string($0.description) } ?? .null)])

    case "addr-add", "addr-del":
        let nl = try RouteNetlink()
        let index = try nl.interface(named: try args.require("ifname")).index
        guard let prefix = AddressPrefix(try args.require("prefix")) else { throw UsageError(message: "bad --prefix") }
        if command == "addr-add" {
            try nl.addAddress(prefix, interfaceIndex: index, label: args.options["label"])
        } else {
            try nl.removeAddress(prefix, interfaceIndex: index)
        }
        emit([("ok", .bool(true))])

    case "set-link":
        let nl = try RouteNetlink()
        let index = try nl.interface(named: try args.require("ifname")).index
        try nl.setLink(index: index, up: try args.require("state") == "up")
        emit([("ok", .bool(true))])

    case "macvlan-create":
        let nl = try RouteNetlink()
        let parent = try nl.interface(named: try args.require("parent"))
        guard let vrid = UInt8(try args.require("vrid")) else { throw UsageError(message: "bad --vrid") }
        let family: AddressFamily = args.options["family"] == "6" ? .ipv6 : .ipv4
        guard let mode = MacvlanMode(rawValue: args.options["mode"] ?? "private") else { throw UsageError(message: "bad --mode") }
        let name = args.options["name"] ?? VirtualMAC.defaultInterfaceName(vrid: vrid)
        let index = try nl.createMacvlan(name: name, parentIndex: parent.index,
                                         mac: VirtualMAC.address(vrid: vrid, family: family), mode: mode)
        try nl.setLink(index: index, up: true)
        var applied: [JSON] = []
        if args.options["sysctls"] == "yes" {
            let settings = VirtualMAC.sysctlSettings(parent: parent.name, vmac: name, family: family)
            let previous = try Sysctl.apply(settings)
            for setting in settings { applied.append(.string("\(setting.key)=\(try Sysctl.read(setting.components))")) }
            if args.options["restore"] == "yes" {
                try Sysctl.apply(previous)
                for setting in previous { applied.append(.string("restored \(setting.key)=\(try Sysctl.read(setting.components))")) }
            }
        }
        emit([("link", linkJSON(try nl.interface(index: index))), ("sysctls", .array(applied))])

    case "link-delete":
        let nl = try RouteNetlink()
        try nl.deleteLink(index: try nl.interface(named: try args.require("ifname")).index)
        emit([("ok", .bool(true))])

    case "monitor":
        // Prints {"ready":true}; if --hold FILE is given, reads nothing until FILE exists (to let the
        // kernel overrun a tiny --rcvbuf); then prints events for --seconds.
        let rcvbuf = args.options["rcvbuf"].flatMap { Int32($0) }
        let monitor = try LinkMonitor(receiveBufferSize: rcvbuf)
        emit([("ready", .bool(true))])
        let deadline = monotonicMilliseconds() + Int64(try args.int("seconds", default: 10)) * 1000
        if let hold = args.options["hold"] {
            while !fileExists(hold) && monotonicMilliseconds() < deadline { usleep(10_000) }
        }
        while monotonicMilliseconds() < deadline {
            if waitReadable(monitor.fileDescriptor, milliseconds: 50) {
                for event in try monitor.readEvents() { emit(eventJSON(event)) }
            }
        }

    case "vrrp-recv":
        let nl = try RouteNetlink()
        let link = try nl.interface(named: try args.require("ifname"))
        let family: AddressFamily = args.options["family"] == "6" ? .ipv6 : .ipv4
        let source: IPAddress
        if family == .ipv4 {
            guard let a = try nl.primaryIPv4(interfaceIndex: link.index) else { throw UsageError(message: "no IPv4 on \(link.name)") }
            source = .v4(a)
        } else {
            guard let a = try nl.linkLocalIPv6(interfaceIndex: link.index) else { throw UsageError(message: "no link-local on \(link.name)") }
            source = .v6(a)
        }
        let socket = try VRRPSocket(family: family, interfaceName: link.name, interfaceIndex: link.index, source: source)
        // --self ADDR: treat ADDR as one of ours (as the daemon does for its own sources and VIPs).
        if let text = args.options["self"] {
            guard let own = IPAddress(text) else { throw UsageError(message: "bad --self") }
            socket.localAddresses.insert(own)
        }
        emit([("ready", .bool(true))])
        let wanted = try args.int("count", default: 1)
        let deadline = monotonicMilliseconds() + Int64(try args.int("timeout-ms", default: 5000))
        // --hold-ms N --summary: read nothing for N ms (the queue fills), then read everything,
        // say "drained" once the queue is empty, go on until --timeout-ms and print one summary:
        // packets read and the drops the socket reported (ReceivedPacket.droppedBefore).
        if args.flags.contains("summary") {
            // --rcvbuf BYTES: a small receive queue (SO_RCVBUF), so that a short flood overflows it.
            if let text = args.options["rcvbuf"], var bytes = Int32(text) {
                guard setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                    throw UsageError(message: "setsockopt(SO_RCVBUF) failed")
                }
            }
            usleep(UInt32(try args.int("hold-ms", default: 0)) * 1000)
            var received = 0, dropped = 0, drained = false
            while monotonicMilliseconds() < deadline {
                let packets = try socket.readPackets()
                for p in packets { received += 1; dropped += Int(p.droppedBefore) }
                if packets.isEmpty {
                    if !drained { drained = true; emit([("drained", .int(received))]) }
                    _ = waitReadable(socket.fileDescriptor, milliseconds: 50)
                }
            }
            emit([("received", .int(received)), ("dropped", .int(dropped))])
            break
        }
        var seen = 0
        while seen < wanted && monotonicMilliseconds() < deadline {
            guard waitReadable(socket.fileDescriptor, milliseconds: 50) else { continue }
            for p in try socket.readPackets() {
                seen += 1
                emit([("source", .string(p.source.description)), ("destination", .string(p.destination.description)),
                      ("hopLimit", p.hopLimit.map { .int(Int($0)) } ?? .null), ("interfaceIndex", .int(Int(p.interfaceIndex))),
                      ("fromSelf", .bool(p.isFromSelf)), ("payload", .string(hex(p.payload)))])
            }
        }

    case "vrrp-send":
        let nl = try RouteNetlink()
        let link = try nl.interface(named: try args.require("ifname"))
        let family: AddressFamily = args.options["family"] == "6" ? .ipv6 : .ipv4
        guard let payload = parseHex(try args.require("hex")) else { throw UsageError(message: "bad --hex") }
        var source: IPAddress?
        if let text = args.options["source"] { source = IPAddress(text) }
        if source == nil {
            source = family == .ipv4 ? try nl.primaryIPv4(interfaceIndex: link.index).map { .v4($0) }
                                     : try nl.linkLocalIPv6(interfaceIndex: link.index).map { .v6($0) }
        }
        guard let source else { throw UsageError(message: "no source address on \(link.name)") }
        let socket = try VRRPSocket(family: family, interfaceName: link.name, interfaceIndex: link.index, source: source)
        let destination = try args.options["to"].map { text throws -> IPAddress in
            guard let a = IPAddress(text) else { throw UsageError(message: "bad --to") }
            return a
        }
        for _ in 0..<(try args.int("count", default: 1)) { try socket.send(payload, to: destination) }
        emit([("sent", .bool(true)), ("source", .string(source.description))])

    case "garp", "na":
        let nl = try RouteNetlink()
        let link = try nl.interface(named: try args.require("ifname"))
        let mac = try args.options["mac"].map { text throws -> [UInt8] in
            guard let m = parseHex(text), m.count == 6 else { throw UsageError(message: "bad --mac") }
            return m
        } ?? link.mac
        let frame: [UInt8]
        if command == "garp" {
            guard let a = IPv4Address(try args.require("address")) else { throw UsageError(message: "bad --address") }
            frame = AnnouncementFrame.gratuitousARP(senderMAC: mac, address: a)
        } else {
            guard let a = IPv6Address(try args.require("address")) else { throw UsageError(message: "bad --address") }
            frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(sourceMAC: mac, target: a,
                                                                        isRouter: args.flags.contains("router"))
        }
        let announcer = try Announcer(interfaceIndex: link.index)
        let sent = try announcer.send(Array(repeating: frame, count: try args.int("count", default: 1)))
        emit([("sent", .int(sent)), ("frame", .string(hex(frame)))])

    case "rttime-spin":
        // realtime_cpu_limit as the daemon sets it (soft --limit-us, hard a second more), then
        // SCHED_RR and a spin that never sleeps: the kernel's SIGXCPU must move this thread back to
        // SCHED_OTHER. The spin ends by itself well before the hard limit's SIGKILL.
        let limit = UInt64(try args.int("limit-us", default: 10_000))
        _ = try RealtimeCPUGuard.install()
        let code = RealtimeCPUGuard.setLimit(softMicroseconds: limit, hardMicroseconds: limit + 1_000_000)
        guard code == 0 else { throw SystemError(operation: "setrlimit(RLIMIT_RTTIME)", errno: code) }
        var param = sched_param()
        param.sched_priority = 1
        _ = try syscall("sched_setscheduler") { sched_setscheduler(0, SCHED_RR, &param) }
        let policyBefore = sched_getscheduler(0)
        let start = monotonicMilliseconds()
        var signalled = false
        while !signalled, monotonicMilliseconds() - start < 800 { signalled = RealtimeCPUGuard.take() }
        let spun = monotonicMilliseconds() - start
        let policy = sched_getscheduler(0)
        param.sched_priority = 0
        _ = sched_setscheduler(0, SCHED_OTHER, &param)
        func name(_ policy: Int32) -> String { policy == SCHED_RR ? "SCHED_RR" : policy == SCHED_OTHER ? "SCHED_OTHER" : "\(policy)" }
        emit([("signalled", .bool(signalled)), ("spun_ms", .int(Int(spun))),
              ("policy_before", .string(name(policyBefore))), ("policy_after", .string(name(policy)))])

    default:
        throw UsageError(message: "unknown subcommand \(command)")
    }
}

let argv = CommandLine.arguments
guard argv.count >= 2 else {
    emit([("error", .string("usage: vipd-netprobe SUBCOMMAND [--option value]..."))])
    exit(2)
}
do {
    try run(argv[1], Arguments(argv.dropFirst(2)))
} catch let error as NetlinkError {
    let kind: String = switch error {
    case .noSuchInterface: "noSuchInterface"
    case .noSuchInterfaceIndex: "noSuchInterfaceIndex"
    case .permissionDenied: "permissionDenied"
    case .interfaceExists: "interfaceExists"
    case .addressInUse: "addressInUse"
    case .kernel: "kernel"
    case .protocolError: "protocolError"
    case .system(let e): e.isPermissionDenied ? "permissionDenied" : "system"
    }
    emit([("error", .string(error.description)), ("kind", .string(kind))])
    exit(1)
} catch let error as SystemError {
    emit([("error", .string(error.description)), ("kind", .string(error.isPermissionDenied ? "permissionDenied" : "system")),
          ("errno", .int(Int(error.errno)))])
    exit(1)
} catch let error as UsageError {
    emit([("error", .string(error.message)), ("kind", .string("usage"))])
    exit(2)
}
