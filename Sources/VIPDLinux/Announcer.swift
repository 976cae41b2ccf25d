// Sends announcement frames over AF_PACKET, and computes when (the event loop does the waiting).
import CVIPDShim
import Glibc
import VIPDSystem
import VRRP

/// When to send announcements after becoming Master, in keepalived's terms and defaults:
/// `garp_master_repeat 5` frames per address per burst, `garp_interval 0` between them,
/// a second burst `garp_master_delay 5` s later, `garp_master_refresh 0` (no periodic refresh),
/// `garp_master_refresh_repeat 1`.
public struct AnnouncementPlan: Hashable, Sendable {
    /// Frames per address in one burst (keepalived garp_master_repeat).
    public var count: Int
    /// Gap between frames of one burst (keepalived garp_interval / gna_interval).
    public var interval: Duration
    /// Delay of the second burst after the first; nil = none (keepalived garp_master_delay, 0 = off).
    public var repeatAfter: Duration?
    /// Period of refresh bursts while Master; nil = off (keepalived garp_master_refresh).
    public var refresh: Duration?
    /// Frames per address in one refresh burst (keepalived garp_master_refresh_repeat).
    public var refreshCount: Int

    public init(count: Int = 5, interval: Duration = .zero, repeatAfter: Duration? = .seconds(5),
                refresh: Duration? = nil, refreshCount: Int = 1) {
        self.count = max(0, count); self.interval = interval
        self.repeatAfter = repeatAfter.flatMap { $0 > .zero ? $0 : nil }
        self.refresh = refresh.flatMap { $0 > .zero ? $0 : nil }
        self.refreshCount = max(0, refreshCount)
    }

    /// keepalived 2.2.7's defaults.
    public static let keepalivedDefaults = AnnouncementPlan()

    /// Offsets from the Backup→Master transition at which to send one frame per address:
    /// the first burst at 0, the second at `repeatAfter`.
    public var transitionOffsets: [Duration] {
        var offsets = burst(count: count, from: .zero)
        if let repeatAfter { offsets += burst(count: count, from: repeatAfter) }
        return offsets
    }

    /// Offsets, from the start of each refresh period, of the frames sent in it (empty when off).
    public var refreshOffsets: [Duration] {
        refresh == nil ? [] : burst(count: refreshCount, from: .zero)
    }

    private func burst(count: Int, from start: Duration) -> [Duration] {
        (0..<count).map { start + interval * $0 }
    }
}

/// An AF_PACKET socket on one interface for sending prebuilt Ethernet frames. Send-only (protocol
/// 0: the kernel queues nothing to it). Needs CAP_NET_RAW.
public final class Announcer {
    public let interfaceIndex: Int32
    public let fileDescriptor: Int32

    public init(interfaceIndex: Int32) throws(SystemError) {
        self.interfaceIndex = interfaceIndex
        fileDescriptor = try syscall("socket(AF_PACKET)", needs: .netRaw) {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | socketFlagsNonBlockingCloseOnExec, 0)
        }
    }

    deinit { closeDescriptor(fileDescriptor) }

    /// Sends each frame (Ethernet header included) out of the interface. Returns how many were
    /// queued; a full device queue (EAGAIN) stops the burst rather than blocking the event loop.
    @discardableResult
    public func send(_ frames: [[UInt8]]) throws(SystemError) -> Int {
        var sent = 0
        for frame in frames where frame.count >= 14 {
            var address = sockaddr_ll()
            address.sll_family = UInt16(AF_PACKET)
            address.sll_ifindex = interfaceIndex
            address.sll_halen = 6
            // The destination MAC is in the frame; the kernel wants it here too for SOCK_RAW.
            withUnsafeMutableBytes(of: &address.sll_addr) { $0.copyBytes(from: frame[0..<6]) }
            address.sll_protocol = UInt16(frame[12]) << 8 | UInt16(frame[13])
            address.sll_protocol = address.sll_protocol.bigEndian
            let result = try nonBlockingSyscall("sendto(AF_PACKET)", needs: .netRaw) {
                frame.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fileDescriptor, bytes.baseAddress, bytes.count, 0, $0,
                                   socklen_t(MemoryLayout<sockaddr_ll>.size))
                        }
                    }
                }
            }
            guard result != nil else { break }
            sent += 1
        }
        return sent
    }
}
