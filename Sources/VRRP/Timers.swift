// Protocol timer arithmetic (RFC 9568 §6.1, RFC 3768 §6.1), overflow-safe in microseconds.

public enum ProtocolTimers {
    /// Skew_Time in microseconds.
    /// - v3 (RFC 9568 §6.1): ((256 − Priority) × Master_Adver_Interval) / 256. The RFC states it in
    ///   centiseconds; like keepalived we keep microsecond precision instead of truncating to whole
    ///   centiseconds (100 ms at priority 100: 60.9375 ms, not 60 ms).
    /// - v2 (RFC 3768 §6.1): (256 − Priority) / 256 seconds, independent of the interval.
    public static func skewTimeMicroseconds(priority: UInt8, masterAdvertInterval: AdvertInterval,
                                            version: VRRPVersion) -> Int64 {
        let weight = Int64(256 - Int(priority))
        switch version {
        case .v3: return weight * masterAdvertInterval.microseconds / 256
        case .v2: return weight * 1_000_000 / 256
        }
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (RFC 9568 §6.1, RFC 3768 §6.1).
    public static func masterDownIntervalMicroseconds(priority: UInt8, masterAdvertInterval: AdvertInterval,
                                                      version: VRRPVersion) -> Int64 {
        3 * masterAdvertInterval.microseconds
            + skewTimeMicroseconds(priority: priority, masterAdvertInterval: masterAdvertInterval, version: version)
    }

    public static func skewTime(priority: UInt8, masterAdvertInterval: AdvertInterval, version: VRRPVersion) -> Duration {
        .microseconds(skewTimeMicroseconds(priority: priority, masterAdvertInterval: masterAdvertInterval, version: version))
    }
    public static func masterDownInterval(priority: UInt8, masterAdvertInterval: AdvertInterval, version: VRRPVersion) -> Duration {
        .microseconds(masterDownIntervalMicroseconds(priority: priority, masterAdvertInterval: masterAdvertInterval, version: version))
    }
}

/// Named protocol constants, each with its source.
public enum ProtocolConstants {
    /// IP protocol number of VRRP (RFC 9568 §5.1.1.4).
    public static let ipProtocol: UInt8 = 112
    /// TTL / Hop Limit a sender uses and a receiver requires (RFC 9568 §5.1.1.3, §7.1).
    public static let requiredHopLimit: UInt8 = 255
    /// Priority of the address owner (RFC 9568 §5.2.4).
    public static let ownerPriority: UInt8 = 255
    /// Priority a stopping Master advertises (RFC 9568 §5.2.4).
    public static let stopPriority: UInt8 = 0
    /// Default priority of a Backup (RFC 9568 §6.1).
    public static let defaultPriority: UInt8 = 100
}
