// Support for the namespace tests: root/CI gating, child processes, per-run namespaces, bounded waits.
// Namespaces are entered only by child processes (`ip netns exec`), never by the test process.
import Foundation
import Synchronization
import Testing

enum LabGate {
    static let isRoot = getuid() == 0
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    /// Root runs the lab; CI=true runs it anyway (and fails in `requireRoot`) so a green CI means it ran.
    static let enabled = isRoot || isCI

    static func requireRoot() throws {
        try #require(isRoot, "namespace tests need root (running under CI=true, so this fails instead of skipping)")
    }
}

/// All namespace suites nest here so they run one at a time, never alongside each other (2 shared
/// cores; lab timing under parallel load is not what we test).
@Suite(.serialized, .needsRoot) enum NamespaceLab {}

extension Trait where Self == ConditionTrait {
    /// Skips when not root, unless CI=true (then the test runs and fails on `LabGate.requireRoot`).
    static var needsRoot: Self {
        .enabled(if: LabGate.enabled, "namespace tests need root; skipped (set CI=true to make this a failure)")
    }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Each stdout line parsed as a JSON object.
    var objects: [[String: Any]] { jsonLines(stdout) }
}

func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    var command: [String]
    var result: CommandResult
    var description: String { "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr) \(result.stdout)" }
}

/// Runs a command to completion (bounded by `timeout`, then killed).
@discardableResult
func run(_ command: [String], check: Bool = true, timeout: Double = 20) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently-safe: small outputs; read after exit with a deadline on exit.
    let outData = LockedData(), errData = LockedData()
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        group.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    _ = group.wait(timeout: .now() + 5)
    let result = CommandResult(status: process.terminationStatus,
                               stdout: String(decoding: outData.get(), as: UTF8.self),
                               stderr: String(decoding: errData.get(), as: UTF8.self))
    if check && result.status != 0 { throw CommandFailed(command: command, result: result) }
    return result
}

final class LockedData: Sendable {
    private let data = Mutex(Data())
    func set(_ d: Data) { data.withLock { $0 = d } }
    func get() -> Data { data.withLock { $0 } }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func waitUntil(timeout: Double = 5, interval: useconds_t = 20_000, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(interval)
    }
    return try condition()
}

/// The vipd-netprobe built next to the test binary.
let probePath: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The test bundle may be a directory (…/vipdPackageTests.xctest/…); walk up to the build dir.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("vipd-netprobe").path) && dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("vipd-netprobe").path
}()

func requireProbe() throws {
    try #require(FileManager.default.isExecutableFile(atPath: probePath),
                 "vipd-netprobe not found next to the test binary (\(probePath)); build it with `swift build --build-tests`")
}

/// A background child process whose stdout goes to a file we poll.
final class BackgroundProcess {
    let process = Process()
    let outputPath: String

    let errorPath: String

    init(_ command: [String], outputPath: String) throws {
        self.outputPath = outputPath
        errorPath = outputPath + ".err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    var objects: [[String: Any]] {
        jsonLines(output)
    }

    /// Waits (bounded) for a line for which `match` holds.
    @discardableResult
    func waitFor(timeout: Double = 5, _ match: ([String: Any]) -> Bool) -> Bool {
        waitUntil(timeout: timeout) { objects.contains(where: match) }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        _ = waitUntil(timeout: 3) { !process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
}

/// Namespaces created for one test, deleted by `cleanup()` (call it in a `defer`).
final class Lab {
    private static let counter = Atomic<Int>(0)
    let tag: String
    private(set) var namespaces: [String] = []
    private var processes: [BackgroundProcess] = []

    init() {
        let n = Lab.counter.add(1, ordering: .relaxed).newValue
        tag = "vl\(getpid())x\(n)"
    }

    /// Creates namespace `<tag>-<name>` with lo up; returns its full name.
    @discardableResult
    func namespace(_ name: String) throws -> String {
        let ns = "\(tag)-\(name)"
        try run(["ip", "netns", "add", ns])
        namespaces.append(ns)
        try run(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns
    }

    /// A veth pair between two namespaces, both ends up.
    func veth(_ a: String, _ aName: String, _ b: String, _ bName: String) throws {
        try run(["ip", "link", "add", "\(tag)t", "netns", a, "type", "veth", "peer", "name", "\(tag)u", "netns", b])
        try run(["ip", "-n", a, "link", "set", "\(tag)t", "name", aName])
        try run(["ip", "-n", b, "link", "set", "\(tag)u", "name", bName])
        try run(["ip", "-n", a, "link", "set", aName, "up"])
        try run(["ip", "-n", b, "link", "set", bName, "up"])
    }

    /// Runs `ip netns exec ns COMMAND`.
    @discardableResult
    func exec(_ ns: String, _ command: [String], check: Bool = true) throws -> CommandResult {
        try run(["ip", "netns", "exec", ns] + command, check: check)
    }

    /// Runs the probe in `ns`.
    @discardableResult
    func probe(_ ns: String, _ arguments: [String], check: Bool = true) throws -> CommandResult {
        try exec(ns, [probePath] + arguments, check: check)
    }

    func background(_ ns: String, _ arguments: [String]) throws -> BackgroundProcess {
        try backgroundCommand(ns, [probePath] + arguments)
    }

    /// Any command in `ns`, in the background; stopped by `cleanup()`.
    func backgroundCommand(_ ns: String, _ command: [String]) throws -> BackgroundProcess {
        let p = try BackgroundProcess(["ip", "netns", "exec", ns] + command,
                                      outputPath: NSTemporaryDirectory() + "\(tag)-\(processes.count).out")
        processes.append(p)
        return p
    }

    /// Waits until no address on `ns` is tentative (IPv6 DAD done), bounded.
    func waitForDAD(_ ns: String) throws {
        let done = try waitUntil(timeout: 5) {
            try !run(["ip", "-n", ns, "-6", "addr", "show"]).stdout.contains("tentative")
        }
        try #require(done, "IPv6 DAD did not finish in \(ns)")
    }

    func cleanup() {
        for p in processes { p.stop() }
        for ns in namespaces.reversed() { _ = try? run(["ip", "netns", "del", ns], check: false) }
        namespaces = []
    }
}
