// Runs notify hooks and track scripts as child processes without blocking the event loop:
// fork and exec (vipd_spawn), each child in its own process group (so a timeout kills the whole tree), exit
// noticed through a pidfd watched by the loop (no SIGCHLD races), timeouts as loop timers.

#if canImport(Glibc)
import Glibc
#endif
import CVIPDSystem
import VIPDConfig
import VRRP

public enum ChildOutcome: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    case timedOut
    case spawnFailed(Int32)

    public var succeeded: Bool { self == .exited(0) }
    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let sig): "killed by signal \(sig)"
        case .timedOut: "timed out and was killed"
        case .spawnFailed(let e): "could not be started: \(String(cString: strerror(e)))"
        }
    }
}

public final class ChildProcesses {
    private let loop: EventLoop
    private var running: [pid_t: (pidFD: Int32, timer: TimerID?, completion: (ChildOutcome) -> Void, timedOut: Bool)] = [:]

    public init(loop: EventLoop) { self.loop = loop }

    public var count: Int { running.count }

    /// Starts `arguments[0]` (a path) with `arguments` and `environment` added to ours, as `user`
    /// when given (nil: as the daemon's own user). stdin is /dev/null; stdout and stderr are
    /// inherited (the journal). `completion` runs on the loop.
    public func spawn(_ arguments: [String], environment: [String: String] = [:], user: ScriptUser? = nil,
                      timeout: Duration?, completion: @escaping (ChildOutcome) -> Void) {
        // A user whose ids were never looked up (a configuration that did not come from
        // `VIPDConfiguration.load`) must not run as the daemon's user instead.
        if let user, user.uid == nil || user.gid == nil {
            completion(.spawnFailed(EINVAL))
            return
        }
        var env = currentEnvironment()
        for (k, v) in environment { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }.sorted()

        // The child resets signals (the daemon blocks its own for the signalfd), moves to a process
        // group of its own and drops to `user` between fork and exec (CVIPDSystem's vipd_spawn).
        let result = withCStrings(arguments) { argv in
            withCStrings(envStrings) { envp in
                vipd_spawn(arguments[0], argv, envp, user?.uid.map(Int64.init) ?? -1, user?.gid.map(Int64.init) ?? -1)
            }
        }
        guard result > 0 else {
            completion(.spawnFailed(-result))
            return
        }
        let pid = pid_t(result)
        let pidFD = vipd_pidfd_open(pid)
        guard pidFD >= 0, (try? loop.watch(fd: pidFD, handler: { [weak self] in self?.reap(pid) })) != nil else {
            // Without a pidfd we cannot learn of its exit without blocking: refuse to leave it untracked.
            let code = errno
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if pidFD >= 0 { close(pidFD) }
            completion(.spawnFailed(code))
            return
        }
        var timer: TimerID?
        if let timeout {
            timer = loop.schedule(after: timeout) { [weak self] in self?.expire(pid) }
        }
        running[pid] = (pidFD, timer, completion, false)
    }

    private func reap(_ pid: pid_t) {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid, let entry = running.removeValue(forKey: pid) else { return }
        loop.unwatch(fd: entry.pidFD)
        close(entry.pidFD)
        loop.cancel(entry.timer)
        // Kill anything the child left behind in its process group.
        kill(-pid, SIGKILL)
        let outcome: ChildOutcome
        if entry.timedOut {
            outcome = .timedOut
        } else if status & 0x7f == 0 {
            outcome = .exited((status >> 8) & 0xff)
        } else {
            outcome = .signalled(status & 0x7f)
        }
        entry.completion(outcome)
    }

    /// Kills every running child (daemon exit).
    public func killAll() {
        for pid in running.keys { kill(-pid, SIGKILL) }
    }

    private func expire(_ pid: pid_t) {
        guard running[pid] != nil else { return }
        running[pid]?.timedOut = true
        running[pid]?.timer = nil
        kill(-pid, SIGKILL)
    }

    private func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return result
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
