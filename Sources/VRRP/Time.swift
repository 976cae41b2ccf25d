// Time values for the protocol core. The core never reads a clock: callers pass `now` in.

/// A point on the caller's monotonic clock, in nanoseconds from an arbitrary origin.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static let zero = Instant(nanoseconds: 0)

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: Self, d: Duration) -> Self { Instant(nanoseconds: a.nanoseconds &+ d.nanoseconds) }
    public static func - (a: Self, d: Duration) -> Self { Instant(nanoseconds: a.nanoseconds &- d.nanoseconds) }
    public static func - (a: Self, b: Self) -> Duration { .nanoseconds(a.nanoseconds &- b.nanoseconds) }
    public var description: String { "t+\(Double(nanoseconds) / 1e6)ms" }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at Int64's bounds (about 292 years).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = ns.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
    /// The duration in whole milliseconds (truncated).
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }
}

/// An advertisement interval in centiseconds, the unit of the VRRPv3 Max Advertise Interval field
/// (RFC 9568 §5.2.7: 12 bits, 1...4095 cs). VRRPv2 intervals (RFC 3768 §5.3.7, whole seconds
/// 1...255) are carried here as multiples of 100.
public struct AdvertInterval: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var centiseconds: UInt16

    public init(centiseconds: UInt16) { self.centiseconds = centiseconds }
    public init(seconds: UInt8) { centiseconds = UInt16(seconds) * 100 }

    /// Largest value the 12-bit v3 field holds (RFC 9568 §5.2.7).
    public static let maximumV3 = AdvertInterval(centiseconds: 4095)
    /// Largest value the 8-bit v2 field holds, in seconds (RFC 3768 §5.3.7).
    public static let maximumV2Seconds: UInt8 = 255

    public var duration: Duration { .milliseconds(Int64(centiseconds) * 10) }
    public var microseconds: Int64 { Int64(centiseconds) * 10_000 }
    public static func < (a: Self, b: Self) -> Bool { a.centiseconds < b.centiseconds }
    public var description: String { "\(Int(centiseconds) * 10)ms" }
}
