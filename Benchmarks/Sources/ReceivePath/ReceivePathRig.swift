// A vipd Backup of 255 instances with no kernel under it: the real `Daemon` (VIPDDaemon) on a data
// plane whose socket hands the daemon prebuilt packets and whose clock moves only when told. What
// one advert costs from the payload to the router and its timer — decode, lookup, receive filter,
// `Router.handle`, the lazy Master_Down_Timer — without the system calls around it
// (docs/benchmarks.md, "Per-advert receive cost").

import Logging
import VIPDConfig
import VIPDDaemon
import VIPDLinux
import VIPDObservability
import VRRP

public final class ReceivePathRig {
    public let plane: RigPlane
    public let daemon: Daemon
    /// One single-packet batch per instance, built once: delivering one allocates nothing here.
    private let batches: [Result<[ReceivedPacket], any Error>]
    private let spacing: Duration
    private var next = 0

    /// `instances` routers (VRIDs 1...instances) at priority 100, hearing a priority-200 Master
    /// advertise every `interval`.
    public init(instances: Int = 255, interval: Duration = .milliseconds(10)) throws {
        precondition((1...255).contains(instances))
        var yaml = "node: bench\ncontrol_socket: /nonexistent/vipd-bench.sock\ninstances:\n"
        for vrid in 1...instances {
            yaml += "  - name: v\(vrid)\n    interface: eth0\n    vrid: \(vrid)\n    priority: 100\n"
            yaml += "    advert_interval: \(interval.milliseconds)ms\n    addresses: [\(Self.vip(vrid))/32]\n"
        }
        let config = try VIPDConfiguration.parse(yaml: yaml, file: "bench.yaml")
        plane = RigPlane()
        daemon = Daemon(configPath: "bench.yaml", config: config, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() },
                        plane: plane, notifier: SystemdNotifier(environment: [:]))
        let master = IPAddress.v4(IPv4Address(192, 0, 2, 11))
        let group = IPAddress.v4(.vrrpMulticast)
        batches = (1...instances).map { vrid in
            let advert = Advertisement(version: .v3, vrid: UInt8(vrid), priority: 200,
                                       interval: AdvertInterval(centiseconds: UInt16(interval.milliseconds / 10)),
                                       addresses: [.v4(IPv4Address(Self.vip(vrid))!)])
            let payload = VRRPCodec.encode(advert, source: master, destination: group)
            return .success([ReceivedPacket(payload: payload, source: master, destination: group, hopLimit: 255,
                                            interfaceIndex: RigPlane.eth0)])
        }
        spacing = interval / instances
        try daemon.start()
        // Warm up: every router has heard its Master, every buffer has its size, timers run.
        deliver(adverts: instances * 20)
    }

    static func vip(_ vrid: Int) -> String { vrid <= 127 ? "198.51.100.\(vrid)" : "203.0.113.\(vrid - 127)" }

    /// Delivers `adverts` advertisements, one per wakeup as the kernel does when the daemon keeps
    /// up: each instance's in turn, the clock moving by interval / instances between two, due
    /// timers fired. The Master_Down_Timers fire early (they moved later) and are set again, as
    /// in the daemon.
    @inline(never)
    public func deliver(adverts: Int) {
        for _ in 0..<adverts {
            plane.rigLoop.advance(by: spacing)
            plane.endpoint?.receive(batches[next])
            next += 1
            if next == batches.count { next = 0 }
        }
    }

    /// `deliver(adverts:)` under its own name, so that callgrind can count only this
    /// (`--toggle-collect='*ReceivePathRig*measure*'`), not the set-up and warm-up.
    @inline(never)
    public func measure(adverts: Int) { deliver(adverts: adverts) }

    /// State changes so far (0 when every router stayed Backup).
    public var transitions: Int {
        (daemon.handleControl(ControlRequest(command: .status)).status?.instances ?? [])
            .flatMap(\.routers).reduce(0) { $0 + $1.counters.transitions }
    }
}
