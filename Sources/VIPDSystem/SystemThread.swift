// A plain POSIX thread for the two places that need one outside the event loop (the metrics
// server and the log writer): they block in poll/read, which a Swift concurrency executor must not.
import CVIPDSystem
import Glibc
import Synchronization

public final class SystemThread: Sendable {
    private let handle: Mutex<pthread_t?>

    private init(_ handle: pthread_t) { self.handle = Mutex(handle) }

    /// Starts `body` on a new thread. It inherits the caller's signal mask (the daemon blocks its
    /// signals first, so they reach only the event loop's signalfd).
    public static func start(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> SystemThread {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var tid = pthread_t()
        do throws(SystemError) {
            try errorNumberCall("pthread_create") {
                pthread_create(&tid, nil, { raw in
                    let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
                    body.run()
                    return nil
                }, box)
            }
        } catch {
            Unmanaged<Body>.fromOpaque(box).release()
            throw error
        }
        return SystemThread(tid)
    }

    /// Waits for the thread to finish. Idempotent; not after `detach()`.
    public func join() {
        guard let tid = handle.withLock({ h -> pthread_t? in defer { h = nil }; return h }) else { return }
        pthread_join(tid, nil)
    }

    /// Lets the thread run on its own; its resources go when it ends.
    public func detach() {
        guard let tid = handle.withLock({ h -> pthread_t? in defer { h = nil }; return h }) else { return }
        pthread_detach(tid)
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}

/// A pipe that wakes a thread sleeping in read/poll: close-on-exec both ends, the write end
/// non-blocking (a full pipe means the reader is already due to wake).
public struct WakePipe: Sendable {
    public let readFD: Int32
    public let writeFD: Int32

    public init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2(O_CLOEXEC)") { vipd_pipe_cloexec(&fds) }
        do throws(SystemError) {
            try setNonBlocking(fds[1])
        } catch {
            closeDescriptor(fds[0]); closeDescriptor(fds[1])
            throw error
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Writes one byte; never blocks.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    public func close() {
        closeDescriptor(readFD)
        closeDescriptor(writeFD)
    }
}
