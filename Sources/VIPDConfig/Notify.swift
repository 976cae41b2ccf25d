// keepalived's notify convention and script user, as configuration values. Parsed in
// ParseNotify.swift; run by the daemon (VIPDDaemon's DaemonNotify.swift).

/// What an instance's `notify` program is given.
public enum NotifyStyle: String, Hashable, Sendable, CaseIterable {
    /// `NOTIFY INSTANCE STATE`, with the `VIPD_*` environment; TAKEOVER_PENDING is reported too.
    case vipd
    /// keepalived's: `NOTIFY [WORDS...] INSTANCE NAME STATE PRIORITY`, run after the state's
    /// `notify_STATE` command; TAKEOVER_PENDING is not reported (keepalived has no such state).
    case keepalived
}

/// keepalived's per-state commands (`notify_master`, `notify_backup`, `notify_fault`,
/// `notify_stop`): each a program and its arguments, run as written (no shell, nothing appended).
public struct StateCommands: Hashable, Sendable {
    public var master: [String]?
    public var backup: [String]?
    public var fault: [String]?
    public var stop: [String]?

    public init(master: [String]? = nil, backup: [String]? = nil, fault: [String]? = nil, stop: [String]? = nil) {
        self.master = master; self.backup = backup; self.fault = fault; self.stop = stop
    }

    /// The command for a hook state word (`MASTER`, `BACKUP`, `FAULT`, `STOP`); nil for others.
    public func command(for state: String) -> [String]? {
        switch state {
        case "MASTER": master
        case "BACKUP": backup
        case "FAULT": fault
        case "STOP": stop
        default: nil
        }
    }

    public var isEmpty: Bool { master == nil && backup == nil && fault == nil && stop == nil }
}

/// A user, and the group, that hooks and track scripts run as. The names come from the file; the
/// ids from the system's user database, looked up by `VIPDConfiguration.load(path:)` (what
/// check-config, run and reload share), which refuses a name that does not exist at its line.
/// `parse(yaml:)` reads text only and leaves the ids nil.
public struct ScriptUser: Hashable, Sendable, CustomStringConvertible {
    /// As written: `USER` or `USER:GROUP`.
    public var name: String
    public var user: String
    /// nil: the user's primary group.
    public var group: String?
    public var uid: UInt32?
    /// The group: GROUP when given, else the user's primary group.
    public var gid: UInt32?
    // The program's supplementary groups are `gid` alone: keepalived 2.2 calls setgroups(1, &gid)
    // before setuid, and a script must see the same groups under vipd.

    public init(name: String, user: String, group: String?, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.name = name; self.user = user; self.group = group; self.uid = uid; self.gid = gid
    }

    public var description: String {
        guard let uid, let gid else { return name }
        return "\(name) (uid \(uid), gid \(gid))"
    }
}
