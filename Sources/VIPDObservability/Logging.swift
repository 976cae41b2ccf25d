// A swift-log handler for stderr that reads well both on a terminal and in the journal.
//
// Under systemd, stderr is a stream to journald (JOURNAL_STREAM names it by device:inode). Then each
// line starts with the sd-daemon(3) priority prefix `<N>` and has no timestamp: journald parses the
// prefix into PRIORITY= and stamps the entry itself. Elsewhere: ISO-8601 UTC timestamp and level.
//
// Records go through a bounded queue to a writer thread, so a stalled journal or a full terminal
// pipe never blocks the daemon's event loop. When the queue is full, records are dropped and the
// number dropped is logged once there is room again.

import Glibc
import Logging
import Synchronization
import VIPDSystem

public enum VIPDLogging {
    private static let bootstrapped = Mutex(false)

    /// Installs the stderr handler as the process' swift-log backend. Only the first call has an
    /// effect (swift-log itself allows a single bootstrap per process).
    public static func bootstrap(level: Logger.Level) {
        let first = bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let journal = LogFormat.isJournalStream(environment: getenv("JOURNAL_STREAM").map { String(cString: $0) },
                                                fd: STDERR_FILENO)
        let writer = StderrWriter.shared
        writer.start()
        atexit { StderrWriter.shared.flush(timeout: .seconds(1)) }
        LoggingSystem.bootstrap { label in
            StderrLogHandler(label: label, journal: journal, level: level, writer: writer)
        }
    }

    /// Waits (at most `timeout`) until queued records are written. Call before exiting.
    public static func flush(timeout: Duration = .seconds(1)) {
        StderrWriter.shared.flush(timeout: timeout)
    }
}

/// The log handler; formatting is `LogFormat.line`, writing is `StderrWriter`.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    /// Whether lines get the `<N>` journal prefix instead of a timestamp.
    public let journal: Bool
    private let writer: StderrWriter

    init(label: String, journal: Bool, level: Logger.Level, writer: StderrWriter) {
        self.label = label; self.journal = journal; self.logLevel = level; self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = LogFormat.line(level: event.level, message: event.message.description, metadata: merged,
                                  journal: journal, time: journal ? nil : LogFormat.now())
        writer.enqueue(line)
    }
}

/// Pure formatting, tested without I/O.
public enum LogFormat {
    /// sd-daemon(3) priorities: swift-log's trace and debug both map to LOG_DEBUG.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One log line, newline-terminated.
    /// - journal: `<6>message key=value`
    /// - otherwise: `2026-11-22T02:13:27.123Z info message key=value`
    /// Newlines inside the message are escaped (`\n`) so one record stays one journal entry.
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata,
                            journal: Bool, time: (seconds: Int64, nanoseconds: Int32)?) -> String {
        var out = ""
        if journal {
            out += "<\(priority(level))>"
        } else {
            if let time { out += iso8601(seconds: time.seconds, nanoseconds: time.nanoseconds) + " " }
            out += level.rawValue + " "
        }
        out += escapeNewlines(message)
        for key in metadata.keys.sorted() {
            out += " " + key + "=" + quoteIfNeeded(render(metadata[key]!))
        }
        out += "\n"
        return out
    }

    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map { render($0) }.joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0):\(render(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// Values with spaces, quotes, `=` or control characters are double-quoted with `\` escapes,
    /// so `key=value` pairs split unambiguously (logfmt style).
    public static func quoteIfNeeded(_ value: String) -> String {
        let needs = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needs else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func escapeNewlines(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` from Unix time, computed without the C library (civil-from-days,
    /// H. Hinnant), so it is pure and independent of TZ.
    public static func iso8601(seconds: Int64, nanoseconds: Int32) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(Int64(nanoseconds) / 1_000_000, 3))Z"
    }

    static func now() -> (seconds: Int64, nanoseconds: Int32) { WallClock.now() }

    /// True when JOURNAL_STREAM (`device:inode`, decimal) names the file open on `fd`, i.e. the
    /// output really goes to journald and not to something the service redirected it to.
    public static func isJournalStream(environment value: String?, fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        return isJournalStream(environment: value, device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    public static func isJournalStream(environment value: String?, device: UInt64, inode: UInt64) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let d = UInt64(parts[0]), let i = UInt64(parts[1]) else { return false }
        return d == device && i == inode
    }
}

/// Bounded queue + writer thread for stderr.
final class StderrWriter: Sendable {
    static let shared = StderrWriter(fd: STDERR_FILENO, capacity: 4096)

    private struct State {
        var queue: [String] = []
        var dropped = 0
        var writing = false
        var started = false
    }

    let fd: Int32
    let capacity: Int
    private let state = Mutex(State())
    /// A pipe the writer thread sleeps on; `enqueue` writes a byte (non-blocking: when the pipe
    /// is full the writer is already awake and will find the record).
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(fd: Int32, capacity: Int) {
        self.fd = fd
        self.capacity = capacity
        // Without the pipe (or its flags) there is no writer thread: lines are written directly.
        let p = try? WakePipe()
        wakeRead = p?.readFD ?? -1
        wakeWrite = p?.writeFD ?? -1
    }

    func start() {
        let shouldStart = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard shouldStart, wakeRead >= 0 else { return }
        do throws(SystemError) {
            try SystemThread.start { self.run() }.detach()
        } catch {
            state.withLock { $0.started = false }
        }
    }

    /// Never blocks on I/O. Without a running writer thread the line is written directly.
    func enqueue(_ line: String) {
        let queued = state.withLock { s -> Bool in
            guard s.started else { return false }
            if s.queue.count >= capacity { s.dropped += 1; return true }
            s.queue.append(line)
            return true
        }
        if queued {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        } else {
            writeAll(Array(line.utf8))
        }
    }

    private func run() {
        while true {
            var bytes = [UInt8](repeating: 0, count: 512)
            let n = read(wakeRead, &bytes, bytes.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            drain()
        }
    }

    private func drain() {
        while true {
            let (batch, dropped) = state.withLock { s -> ([String], Int) in
                let batch = s.queue
                s.queue.removeAll(keepingCapacity: true)
                let d = s.dropped
                s.dropped = 0
                s.writing = !batch.isEmpty || d > 0
                return (batch, d)
            }
            if batch.isEmpty && dropped == 0 { return }
            var bytes: [UInt8] = []
            if dropped > 0 {
                bytes += Array("vipd: log queue full, \(dropped) records dropped\n".utf8)
            }
            for line in batch { bytes += Array(line.utf8) }
            writeAll(bytes)
            state.withLock { $0.writing = false }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// Waits until the queue is empty and nothing is being written, or `timeout` passes.
    func flush(timeout: Duration) {
        let deadline = Deadline(after: timeout)
        while deadline.remainingMilliseconds() > 0 {
            let idle = state.withLock { s in !s.started || (s.queue.isEmpty && !s.writing) }
            if idle { return }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
    }
}
