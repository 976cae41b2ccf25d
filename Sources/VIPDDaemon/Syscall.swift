#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: its name and errno, with a sentence a user can act on.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno)))"
    }
}

/// Runs a system call, retrying on EINTR, and throws `SystemError` naming the call on failure.
@discardableResult
func syscall<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(operation: name, errno: code)
    }
}
