import Glibc
import Synchronization
import Testing
@testable import VIPDSystem

@Suite struct SystemErrorTests {
    @Test func permissionErrorsNameTheCapability() {
        let e = SystemError(operation: "socket(AF_PACKET)", errno: EPERM, capability: .netRaw)
        #expect(e.description.contains("needs CAP_NET_RAW"))
        #expect(e.isPermissionDenied)
        let other = SystemError(operation: "bind", errno: EADDRINUSE, capability: .netRaw)
        #expect(!other.description.contains("CAP_"))
        #expect(other.description.hasPrefix("bind:"))
    }

    @Test func wrapperRetriesEINTRAndThrowsOthers() throws {
        var calls = 0
        let value = try syscall("test") { () -> Int32 in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 9
        }
        #expect(value == 9 && calls == 3)
        #expect(throws: SystemError(operation: "bind", errno: EACCES, capability: .netAdmin)) {
            try syscall("bind", needs: .netAdmin) { () -> Int32 in errno = EACCES; return -1 }
        }
        #expect(try nonBlockingSyscall("recv") { () -> Int in errno = EAGAIN; return -1 } == nil)
    }
}

@Suite struct CapabilityAdviceTests {
    @Test(arguments: [(Capability.sysNice, "RestrictRealtime=no"), (.ipcLock, "RLIMIT_MEMLOCK"),
                      (.netBindService, "CAP_NET_BIND_SERVICE"), (.netAdmin, "CAP_NET_ADMIN"),
                      (.sysResource, "SystemCallFilter=")])
    func everyPermissionErrorGetsTheSameSentence(_ capability: Capability, _ mentions: String) {
        let e = SystemError(operation: "x", errno: EPERM, capability: capability)
        #expect(e.description.contains("needs \(capability.rawValue)"))
        #expect(e.description.contains(mentions))
        #expect(e.description.contains("run as root or grant it to vipd"))
    }

    @Test func callsReturningAnErrorNumberAreTyped() {
        #expect(throws: SystemError(operation: "pthread_x", errno: EAGAIN)) { try errorNumberCall("pthread_x") { EAGAIN } }
        #expect(throws: Never.self) { try errorNumberCall("pthread_x") { 0 } }
    }
}

@Suite struct ClockTests {
    @Test func monotonicClockAdvancesAndDeadlinesCountDown() {
        let a = MonotonicClock.nanoseconds()
        var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
        nanosleep(&pause, nil)
        let b = MonotonicClock.nanoseconds()
        #expect(b - a >= 2_000_000)
        let soon = Deadline(after: .milliseconds(500))
        #expect(!soon.hasPassed)
        #expect((1...500).contains(soon.remainingMilliseconds()))
        #expect(Deadline(after: .zero).remainingMilliseconds() == 0)
        // A huge duration saturates instead of trapping.
        #expect(Deadline(after: .seconds(Int64.max)).remainingMilliseconds() == Int32.max)
    }

    @Test func wallClockIsUnixTime() {
        // 2020-01-01 < now < 2100-01-01
        #expect((1_577_836_800.0..<4_102_444_800.0).contains(WallClock.secondsSinceEpoch()))
    }
}

@Suite struct UnixSocketAddressTests {
    @Test func pathsAndAbstractNames() throws {
        let path = try UnixSocketAddress("/run/vipd/vipd.sock")
        #expect(!path.isAbstract)
        try path.withSockaddr { (address, length) throws(SystemError) in
            #expect(Int(length) == MemoryLayout<sa_family_t>.size + "/run/vipd/vipd.sock".utf8.count)
            #expect(Int32(address.pointee.sa_family) == AF_UNIX)
        }
        let abstract = try UnixSocketAddress("@vipd-notify", allowAbstract: true)
        #expect(abstract.isAbstract)
        try abstract.withSockaddr { (_, length) throws(SystemError) in
            // NUL + name, no terminator
            #expect(Int(length) == MemoryLayout<sa_family_t>.size + "@vipd-notify".utf8.count)
        }
        // Without allowAbstract, "@x" is a relative path.
        #expect(try !UnixSocketAddress("@x").isAbstract)
    }

    @Test func refusesWhatSunPathCannotHold() {
        #expect(throws: UnixSocketAddress.Problem.tooLong(maximum: 107)) { try UnixSocketAddress("/" + String(repeating: "a", count: 107)) }
        #expect(throws: Never.self) { try UnixSocketAddress("/" + String(repeating: "a", count: 106)) }
        #expect(throws: UnixSocketAddress.Problem.notAPath) { try UnixSocketAddress("") }
        #expect(throws: UnixSocketAddress.Problem.notAPath) { try UnixSocketAddress("/a\u{0}b") }
    }

    @Test func bindConnectAcceptAndPeerCredentials() throws {
        let path = "/tmp/vipd-system-test-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let address = try UnixSocketAddress(path)
        let server = try syscall("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | socketFlagsNonBlockingCloseOnExec, 0) }
        defer { closeDescriptor(server) }
        try address.bind(server)
        try syscall("listen") { listen(server, 4) }
        #expect(try acceptNonBlocking(server) == nil)   // nothing waiting: EAGAIN, not an error
        let client = try syscall("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | socketFlagCloseOnExec, 0) }
        defer { closeDescriptor(client) }
        try address.connect(client)
        let accepted = try #require(try acceptNonBlocking(server))
        defer { closeDescriptor(accepted) }
        // accept4 gave the new descriptor both flags at once.
        #expect(fcntl(accepted, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(accepted, F_GETFL) & O_NONBLOCK != 0)
        let peer = try PeerCredentials.of(accepted)
        #expect(peer.pid == getpid())
        #expect(peer.uid == getuid())
        #expect(peer.gid == getgid())
        #expect(throws: SystemError.self) { try UnixSocketAddress("/nonexistent-dir-\(getpid())/s").connect(client) }
    }
}

@Suite struct SystemThreadTests {
    @Test func startsJoinsAndPassesResultsBack() throws {
        let value = Mutex(0)
        let thread = try SystemThread.start { value.withLock { $0 = 42 } }
        thread.join()
        thread.join()   // idempotent
        #expect(value.withLock { $0 } == 42)
    }
}
