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
