// `auth_hmac`: HMAC-SHA256 trailers on advertisements (keepalived's wire format), as configured.
// The keys are secrets: nothing here prints their bytes (description, debugDescription and
// reflection all show `<set>`), so logging a configuration value never leaks one.

import VRRP
import VRRPNode

/// An instance's `auth_hmac` block, every default filled in.
public struct HMACAuthConfig: Hashable, Sendable {
    /// How a receiver rejects replayed trailers: the core's (`time`, `monotonic`).
    public typealias AntiReplay = AuthHMACSettings.AntiReplay
    /// The rollout stage: the core's (`receive-only`, `permissive`, `enforce`).
    public typealias Mode = AuthHMACSettings.Mode

    /// Every configured key, ordered by id.
    public var keys: [HMACKey]
    /// The id of the key outgoing adverts are signed with; one of `keys`.
    public var activeKey: UInt8
    public var antiReplay: AntiReplay
    public var timeWindow: Duration
    public var mode: Mode

    public init(keys: [HMACKey], activeKey: UInt8, antiReplay: AntiReplay = .time, timeWindow: Duration, mode: Mode = .enforce) {
        self.keys = keys.sorted { $0.id < $1.id }
        self.activeKey = activeKey; self.antiReplay = antiReplay; self.timeWindow = timeWindow; self.mode = mode
    }

    /// The key with this id, if configured.
    public func key(id: UInt8) -> HMACKey? { keys.first { $0.id == id } }

    /// Accepted `time_window` values.
    public static let timeWindowRange = Duration.seconds(1)...Duration.seconds(300)

    /// `time_window` when not set: the core's rule (keepalived's: three advertisement intervals in
    /// whole seconds, at least 5 s, at most 300 s), so the file and the wire agree.
    public static func defaultTimeWindow(advertInterval: AdvertInterval) -> Duration {
        .seconds(Int64(AuthHMACSettings.defaultTimeWindow(advertInterval: advertInterval)))
    }

    /// `timeWindow` in whole seconds (the loader accepts whole seconds only).
    public var timeWindowSeconds: UInt32 { UInt32(timeWindow.components.seconds) }
}

/// One key of `auth_hmac.keys`.
public struct HMACKey: Hashable, Sendable, CustomStringConvertible {
    /// Where the key was written.
    public enum Source: Hashable, Sendable {
        /// In the configuration file (`hex:…` or ASCII).
        case inline
        /// `file:PATH` as written: an absolute path, or a name looked up in `$CREDENTIALS_DIRECTORY`
        /// and then next to the configuration file.
        case file(String)
    }

    /// The key id carried in the trailer (1...255).
    public var id: UInt8
    public var source: Source
    /// The key bytes (32...64). Empty for a `file:` key until `VIPDConfiguration.load(path:)` has
    /// read the file; `parse(yaml:)` reads no files.
    public var material: SecretBytes

    public init(id: UInt8, source: Source = .inline, material: [UInt8]) {
        self.id = id; self.source = source; self.material = SecretBytes(material)
    }

    /// Accepted key lengths in bytes.
    public static let lengthRange = 32...64

    /// `key 1 (file:/etc/vipd/keys/web)` or `key 2 (inline)`: never the bytes.
    public var description: String {
        switch source {
        case .inline: "key \(id) (inline)"
        case .file(let path): "key \(id) (file:\(path))"
        }
    }
}

/// Secret bytes that never print: `description`, `debugDescription` and `dump` show `<set>`.
public struct SecretBytes: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }
    public var description: String { bytes.isEmpty ? "<unread>" : VIPDConfiguration.redacted }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
