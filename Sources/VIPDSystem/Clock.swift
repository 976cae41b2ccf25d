// The clocks: CLOCK_MONOTONIC for every timeout and timer, CLOCK_REALTIME only for timestamps shown
// to people (logs, metrics). One reader each.
import Glibc

public enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC (the clock timerfd, epoll timeouts and systemd's
    /// MONOTONIC_USEC use), from an arbitrary origin; never goes back.
    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

public enum WallClock {
    /// CLOCK_REALTIME: Unix time in seconds and nanoseconds.
    public static func now() -> (seconds: Int64, nanoseconds: Int32) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int32(ts.tv_nsec))
    }

    /// Unix time in (fractional) seconds, as Prometheus timestamps want it.
    public static func secondsSinceEpoch() -> Double {
        let (s, ns) = now()
        return Double(s) + Double(ns) / 1e9
    }
}

/// A point on the monotonic clock by which something must be done.
public struct Deadline: Hashable, Sendable, Comparable {
    public let nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public init(after duration: Duration) {
        nanoseconds = MonotonicClock.nanoseconds() + Self.nanoseconds(duration)
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }

    public var hasPassed: Bool { MonotonicClock.nanoseconds() >= nanoseconds }

    /// What is left, rounded up to whole milliseconds (poll(2)'s unit); 0 once passed.
    public func remainingMilliseconds() -> Int32 {
        let ns = nanoseconds - MonotonicClock.nanoseconds()
        if ns <= 0 { return 0 }
        return Int32(clamping: (ns + 999_999) / 1_000_000)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, attos) = d.components
        let (whole, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max / 2 : whole + attos / 1_000_000_000
    }
}
