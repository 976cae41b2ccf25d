// Every sysctl the daemon changes goes through one journal, which keeps the value each had before
// vipd first touched it and puts them all back when the daemon stops. The sysctls themselves, and
// why each is changed, are in docs/linux-plane.md.

import VIPDLinux

final class SysctlJournal {
    private let read: ([String]) throws -> String
    private let write: ([String], String) throws -> Void
    /// Original values, in the order vipd first changed them; one entry per key.
    private(set) var originals: [SysctlSetting] = []

    init(read: @escaping ([String]) throws -> String, write: @escaping ([String], String) throws -> Void) {
        self.read = read
        self.write = write
    }

    convenience init(plane: any DataPlane) {
        self.init(read: { [unowned plane] in try plane.readSysctl($0) },
                  write: { [unowned plane] in try plane.writeSysctl($0, $1) })
    }

    /// Writes each setting (a value already in place is not rewritten) and records the value it
    /// replaces, unless an earlier change of the same key is already recorded. Stops at the first
    /// failure, after restoring what this call changed, and throws it.
    func apply(_ settings: [SysctlSetting]) throws {
        var recordedHere: [SysctlSetting] = []
        for setting in settings {
            do {
                let old = try read(setting.components)
                if old != setting.value { try write(setting.components, setting.value) }
                if !originals.contains(where: { $0.components == setting.components }) {
                    let original = SysctlSetting(setting.components, old, reason: "restore")
                    originals.append(original)
                    recordedHere.append(original)
                }
            } catch {
                for original in recordedHere.reversed() {
                    try? write(original.components, original.value)
                    originals.removeAll { $0.components == original.components }
                }
                throw error
            }
        }
    }

    /// Puts every recorded sysctl back, the latest change first, and forgets them. A key that can
    /// no longer be written (its interface was deleted with the macvlan) is skipped; the others are
    /// still restored. Returns the failures.
    @discardableResult
    func restoreAll() -> [(SysctlSetting, any Error)] {
        var failures: [(SysctlSetting, any Error)] = []
        for original in originals.reversed() {
            do { try write(original.components, original.value) } catch {
                failures.append((original, error))
            }
        }
        originals.removeAll()
        return failures
    }
}
