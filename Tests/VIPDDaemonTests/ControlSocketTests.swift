import Glibc
import Foundation
import Testing
@testable import VIPDDaemon
import VRRP

@Suite(.serialized) struct ControlSocketTests {
    private func socketPath() -> String {
        "/tmp/vipd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    @Test func requestAndResponseRoundTrip() throws {
        let loop = try EventLoop()
        let path = socketPath()
        var seen: [ControlRequest] = []
        let server = try ControlServer(path: path, loop: loop) { request in
            seen.append(request)
            return ControlResponse(ok: true, message: "handled \(request.command.rawValue) \(request.instance ?? "-")")
        }
        defer { server.shutdown() }
        let result = LockedBox<ControlResponse?>(nil)
        let thread = Thread {
            result.value = try? ControlClient.send(ControlRequest(command: .handover, instance: "web", holdSeconds: 30), to: path)
        }
        thread.start()
        let deadline = loop.now() + .seconds(10)
        func check() {
            if result.value != nil || loop.now() > deadline { loop.stop() } else { loop.schedule(after: .milliseconds(5), check) }
        }
        check()
        try loop.run()
        #expect(result.value == ControlResponse(ok: true, message: "handled handover web"))
        #expect(seen == [ControlRequest(command: .handover, instance: "web", holdSeconds: 30)])
    }

    @Test func secondServerOnALivePathIsRefused() throws {
        let loop = try EventLoop()
        let path = socketPath()
        let server = try ControlServer(path: path, loop: loop) { _ in ControlResponse(ok: true) }
        defer { server.shutdown() }
        #expect(throws: ControlSocketError.self) {
            _ = try ControlServer(path: path, loop: loop) { _ in ControlResponse(ok: true) }
        }
    }

    @Test func staleSocketFileIsReplaced() throws {
        let loop = try EventLoop()
        let path = socketPath()
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let server = try ControlServer(path: path, loop: loop) { _ in ControlResponse(ok: true) }
        server.shutdown()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func clientWithoutDaemonSaysSo() {
        do {
            _ = try ControlClient.send(ControlRequest(command: .status), to: "/tmp/vipd-no-such-\(getpid()).sock")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("is the daemon running?"))
        }
    }
}

/// Runs `loop` until `done()` or `limit`, checking every 5 ms.
private func runLoop(_ loop: EventLoop, limit: Duration = .seconds(10), until done: @escaping () -> Bool) throws {
    let deadline = loop.now() + limit
    func check() {
        if done() || loop.now() > deadline { loop.stop() } else { loop.schedule(after: .milliseconds(5), check) }
    }
    check()
    try loop.run()
}

/// A blocking raw client: connects, optionally sends a line, and reads nothing until asked.
private final class RawControlClient: @unchecked Sendable {
    let fd: Int32
    init(_ path: String) throws { fd = try connectUnix(path) }
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
    func readAll() -> [UInt8] {
        var out: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return out }
            out += chunk[0..<n]
        }
    }
    deinit { close(fd) }
}

/// Issue 11: every field of a request is checked when it is decoded, so the daemon never acts on
/// (or traps over) a hold it cannot represent.
@Suite(.serialized) struct ControlRequestValidationTests {
    @Test(arguments: ["1e300", "-1", "2592001", "1.7976931348623157e308"])
    func holdOutOfRangeIsRefusedAtDecode(_ hold: String) {
        let json = #"{"command":"handover","hold_seconds":\#(hold)}"#
        #expect(throws: ControlRequest.Invalid.self) { try JSONDecoder().decode(ControlRequest.self, from: Data(json.utf8)) }
    }

    @Test(arguments: [#"{"command":"status","hold_seconds":5}"#, #"{"command":"reload","cancel":true}"#,
                      #"{"command":"handover","cancel":true,"hold_seconds":5}"#, #"{"command":"approve","instance":""}"#,
                      #"{"command":"approve","instance":"a\nb"}"#])
    func fieldsThatDoNotBelongAreRefused(_ json: String) {
        #expect(throws: ControlRequest.Invalid.self) { try JSONDecoder().decode(ControlRequest.self, from: Data(json.utf8)) }
    }

    @Test func validRequestsStillDecode() throws {
        for (json, expected) in [
            (#"{"command":"handover","hold_seconds":2592000}"#, ControlRequest(command: .handover, holdSeconds: 2_592_000)),
            (#"{"command":"handover","hold_seconds":0,"instance":"web"}"#, ControlRequest(command: .handover, instance: "web", holdSeconds: 0)),
            (#"{"command":"handover","cancel":true}"#, ControlRequest(command: .handover, cancel: true)),
            (#"{"command":"status"}"#, ControlRequest(command: .status)),
        ] {
            #expect(try JSONDecoder().decode(ControlRequest.self, from: Data(json.utf8)) == expected)
        }
    }

    @Test func theServerAnswersAClearErrorAndNeverCallsTheHandler() throws {
        let loop = try EventLoop()
        let path = "/tmp/vipd-test-\(getpid())-hold.sock"
        var handled = 0
        let server = try ControlServer(path: path, loop: loop) { _ in handled += 1; return ControlResponse(ok: true) }
        defer { server.shutdown() }
        let reply = LockedBox<[UInt8]?>(nil)
        Thread {
            guard let client = try? RawControlClient(path) else { reply.value = []; return }
            client.send(#"{"command":"handover","hold_seconds":1e300}"# + "\n")
            reply.value = client.readAll()
        }.start()
        try runLoop(loop) { reply.value != nil }
        let response = try JSONDecoder().decode(ControlResponse.self, from: Data(try #require(reply.value)))
        #expect(!response.ok)
        #expect(response.message?.contains("invalid request: the handover hold must be from 0 to 30 days") == true, "\(response)")
        #expect(handled == 0)
    }

    @Test func theClientRefusesToSendAnInvalidRequest() {
        // No daemon at this path: the request is refused before any connection is tried.
        let request = ControlRequest(command: .handover, holdSeconds: .infinity)
        #expect {
            _ = try ControlClient.send(request, to: "/tmp/vipd-no-such-\(getpid()).sock")
        } throws: { error in
            guard case .invalidRequest = error as? ControlSocketError else { return false }
            return "\(error)".contains("from 0 to 30 days")
        }
    }
}

/// Issue 11: peer credentials, a bound on clients, and replies that never block the event loop.
@Suite(.serialized) struct ControlSocketHardeningTests {
    private func socketPath(_ name: String) -> String { "/tmp/vipd-test-\(getpid())-\(name).sock" }

    @Test func aPeerWhoseUserIsNotAllowedIsRefused() throws {
        let loop = try EventLoop()
        let path = socketPath("peer")
        var handled = 0
        // This process is the peer; with its uid not allowed it must be refused.
        let server = try ControlServer(path: path, loop: loop, allowedUsers: [getuid() &+ 1]) { _ in
            handled += 1; return ControlResponse(ok: true)
        }
        defer { server.shutdown() }
        let result = LockedBox<Result<ControlResponse, any Error>?>(nil)
        Thread { result.value = Result { try ControlClient.send(ControlRequest(command: .status), to: path) } }.start()
        try runLoop(loop) { result.value != nil }
        let response = try #require(try result.value?.get())
        #expect(!response.ok)
        #expect(response.message?.contains("permission denied") == true, "\(response)")
        #expect(handled == 0)
        #expect(server.allowedUsers == [getuid() &+ 1])
        // The daemon's server serves root and its own user.
        let standard = try ControlServer(path: socketPath("peer-default"), loop: loop) { _ in ControlResponse(ok: true) }
        defer { standard.shutdown() }
        #expect(standard.allowedUsers == [0, geteuid()])
    }

    @Test(.enabled(if: getuid() == 0, "needs root to connect as another user"))
    func anotherUserIsRefusedEvenThroughAWorldWritableSocket() throws {
        let loop = try EventLoop()
        let path = socketPath("nobody")
        var handled = 0
        let server = try ControlServer(path: path, loop: loop) { _ in handled += 1; return ControlResponse(ok: true) }
        defer { server.shutdown() }
        chmod(path, 0o666)   // as if someone loosened the mode: the daemon's own check still holds
        let script = """
            import socket; s = socket.socket(socket.AF_UNIX); s.connect("\(path)")
            s.sendall(b'{"command":"status"}\\n'); print(s.recv(65536).decode())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        try runLoop(loop) { !process.isRunning }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("permission denied"), "\(text)")
        #expect(handled == 0)
    }

    @Test func clientsBeyondTheLimitAreAnsweredBusy() throws {
        let loop = try EventLoop()
        let path = socketPath("busy")
        let server = try ControlServer(path: path, loop: loop) { _ in ControlResponse(ok: true, message: "served") }
        defer { server.shutdown() }
        let result = LockedBox<Result<ControlResponse, any Error>?>(nil)
        let idle = LockedBox<[RawControlClient]>([])
        Thread {
            // Fill every slot with clients that say nothing, then ask.
            idle.value = (0..<ControlServer.maximumConnections).compactMap { _ in try? RawControlClient(path) }
            result.value = Result { try ControlClient.send(ControlRequest(command: .status), to: path) }
        }.start()
        try runLoop(loop) { result.value != nil }
        #expect(idle.value.count == ControlServer.maximumConnections)
        let response = try #require(try result.value?.get())
        #expect(!response.ok)
        #expect(response.message?.hasPrefix("busy:") == true, "\(response)")
    }

    @Test func aClientThatDoesNotReadItsReplyNeverStallsTheLoop() throws {
        let loop = try EventLoop()
        let path = socketPath("reader")
        // Far more than a Unix socket's buffer takes at once.
        let big = String(repeating: "x", count: 1 << 20)
        let server = try ControlServer(path: path, loop: loop) { _ in ControlResponse(ok: true, message: big) }
        defer { server.shutdown() }
        let reply = LockedBox<[UInt8]?>(nil)
        let requestSent = LockedBox<Bool>(false)
        Thread {
            guard let client = try? RawControlClient(path) else { reply.value = []; return }
            client.send(#"{"command":"status"}"# + "\n")
            requestSent.value = true
            usleep(400_000)   // not reading for a while
            reply.value = client.readAll()
        }.start()
        // A 10 ms timer, like a fast advertisement, must keep firing on time meanwhile.
        var worstLateness: Duration = .zero
        func tick() {
            let due = loop.now() + .milliseconds(10)
            loop.schedule(at: due) {
                if requestSent.value { worstLateness = max(worstLateness, loop.now() - due) }
                tick()
            }
        }
        tick()
        try runLoop(loop) { reply.value != nil }
        #expect(worstLateness < .milliseconds(250), "the loop stalled for \(worstLateness)")
        let response = try JSONDecoder().decode(ControlResponse.self, from: Data(try #require(reply.value)))
        #expect(response.message?.utf8.count == 1 << 20)
    }
}

/// A value shared between the test thread and a client thread.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
