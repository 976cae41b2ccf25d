import Glibc
import Logging
import Testing
@testable import VIPDObservability

@Suite("Log format")
struct LoggingTests {
    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journalPriorities(_ level: Logger.Level, _ priority: Int) {
        #expect(LogFormat.priority(level) == priority)
        let line = LogFormat.line(level: level, message: "m", metadata: [:], journal: true, time: nil)
        #expect(line == "<\(priority)>m\n")
    }

    @Test func journalLineHasPrefixAndNoTimestamp() {
        let line = LogFormat.line(level: .notice, message: "web: Backup -> Master (master down timer expired)",
                                  metadata: ["vrid": "51", "instance": "web", "family": "ipv4"],
                                  journal: true, time: (1_700_000_000, 0))
        #expect(line == "<5>web: Backup -> Master (master down timer expired) family=ipv4 instance=web vrid=51\n")
    }

    @Test func terminalLineHasTimestampAndLevel() {
        let line = LogFormat.line(level: .warning, message: "hook failed", metadata: ["exit": "3"],
                                  journal: false, time: (1_700_000_000, 123_456_789))
        #expect(line == "2023-11-14T22:13:20.123Z warning hook failed exit=3\n")
    }

    @Test func messageNewlinesAreEscaped() {
        let line = LogFormat.line(level: .error, message: "first\nsecond\r", metadata: [:], journal: true, time: nil)
        #expect(line == "<3>first\\nsecond\\r\n")
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("", "\"\""),
        ("two words", "\"two words\""),
        ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("back\\slash", "\"back\\\\slash\""),
        ("tab\there", "\"tab\\there\""),
        ("bell\u{07}", "\"bell\\x07\""),
        ("2001:db8::1", "2001:db8::1"),
    ])
    func metadataQuoting(_ value: String, _ expected: String) {
        #expect(LogFormat.quoteIfNeeded(value) == expected)
    }

    @Test func structuredMetadataValues() {
        let line = LogFormat.line(level: .info, message: "m",
                                  metadata: ["addrs": .array(["192.0.2.1/24", "192.0.2.2/24"]),
                                             "peer": .dictionary(["prio": "100", "addr": "192.0.2.9"])],
                                  journal: true, time: nil)
        #expect(line == "<6>m addrs=[192.0.2.1/24,192.0.2.2/24] peer={addr:192.0.2.9,prio:100}\n")
    }

    @Test(arguments: [
        (Int64(0), Int32(0), "1970-01-01T00:00:00.000Z"),
        (951_782_400, 0, "2000-02-29T00:00:00.000Z"),
        (951_868_799, 999_999_999, "2000-02-29T23:59:59.999Z"),
        (1_700_000_000, 5_000_000, "2023-11-14T22:13:20.005Z"),
        (4_102_444_800, 0, "2100-01-01T00:00:00.000Z"),
        (-1, 0, "1969-12-31T23:59:59.000Z"),
        (1_798_761_599, 0, "2026-12-31T23:59:59.000Z"),
    ])
    func iso8601(_ seconds: Int64, _ nanoseconds: Int32, _ expected: String) {
        #expect(LogFormat.iso8601(seconds: seconds, nanoseconds: nanoseconds) == expected)
    }

    @Test func journalStreamDetection() throws {
        #expect(LogFormat.isJournalStream(environment: "8:12345", device: 8, inode: 12345))
        #expect(!LogFormat.isJournalStream(environment: "8:12345", device: 8, inode: 12346))
        #expect(!LogFormat.isJournalStream(environment: nil, device: 8, inode: 12345))
        #expect(!LogFormat.isJournalStream(environment: "8-12345", device: 8, inode: 12345))
        #expect(!LogFormat.isJournalStream(environment: "8:12345:1", device: 8, inode: 12345))

        // Against a real descriptor: the variable matches only the file it names.
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var st = stat()
        #expect(fstat(fds[1], &st) == 0)
        #expect(LogFormat.isJournalStream(environment: "\(st.st_dev):\(st.st_ino)", fd: fds[1]))
        #expect(!LogFormat.isJournalStream(environment: "\(st.st_dev):\(st.st_ino + 1)", fd: fds[1]))
    }

    @Test func handlerWritesFormattedLinesThroughTheWriterThread() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = StderrWriter(fd: fds[1], capacity: 64)
        writer.start()
        var logger = Logger(label: "vipd") { label in
            StderrLogHandler(label: label, journal: true, level: .info, writer: writer)
        }
        logger[metadataKey: "instance"] = "web"
        logger.debug("not shown")
        logger.info("started", metadata: ["vrid": "7"])
        logger.error("bad thing")
        writer.flush(timeout: .seconds(5))
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &buf, buf.count)
        #expect(String(decoding: buf[0..<max(n, 0)], as: UTF8.self) == "<6>started instance=web vrid=7\n<3>bad thing instance=web\n")
    }

    @Test func writerDropsWhenFullAndSaysSo() throws {
        // The writer's destination is a pipe nobody reads until the queue overflows: the writer
        // thread blocks in write(), records beyond the capacity are dropped, enqueue never blocks.
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = StderrWriter(fd: fds[1], capacity: 8)
        writer.start()
        let line = String(repeating: "x", count: 1000) + "\n"
        let start = monotonicSeconds()
        for _ in 0..<200 { writer.enqueue(line) }   // 200 KB > the 64 KiB pipe buffer
        #expect(monotonicSeconds() - start < 1.0)
        // Drain the pipe until the drop notice arrives (bounded by the read timeout via poll).
        var received = ""
        let deadline = monotonicSeconds() + 10
        while !received.contains("records dropped"), monotonicSeconds() < deadline {
            var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 1000) > 0 else { continue }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = read(fds[0], &buf, buf.count)
            if n > 0 { received += String(decoding: buf[0..<n], as: UTF8.self) }
        }
        #expect(received.contains("vipd: log queue full,"))
        writer.flush(timeout: .seconds(5))
    }
}
