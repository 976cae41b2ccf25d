// sockaddr_un for a filesystem path or a Linux abstract name (`@name`).
import Glibc

public struct UnixSocketAddress: Sendable {
    /// What the address was made from, for messages.
    public let name: String
    /// sun_path's bytes: a NUL-terminated path, or NUL + the abstract name (not terminated).
    private let pathBytes: [UInt8]

    public enum Problem: Error, Hashable, Sendable {
        /// Neither an absolute/relative path nor `@abstract` (with `allowAbstract`), or empty.
        case notAPath
        /// Longer than sun_path holds (107 bytes for a path).
        case tooLong(maximum: Int)
    }

    /// sun_path's size (108 on Linux).
    public static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// A path, or with `allowAbstract` an `@name` in the abstract namespace.
    public init(_ name: String, allowAbstract: Bool = false) throws(Problem) {
        var bytes = Array(name.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { throw .notAPath }
        let abstract = allowAbstract && bytes[0] == UInt8(ascii: "@")
        // Abstract names start with NUL instead of '@' and are not NUL-terminated; paths are.
        if abstract { bytes[0] = 0 } else { bytes.append(0) }
        guard bytes.count <= Self.capacity else { throw .tooLong(maximum: Self.capacity - 1) }
        self.name = name
        self.pathBytes = bytes
    }

    public var isAbstract: Bool { pathBytes.first == 0 }

    /// Calls `body` with the address and its length (family + path, without a path's NUL).
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R) throws(SystemError) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count - (isAbstract ? 0 : 1))
        return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(SystemError) -> R in try body(raw, length) }
        }
    }

    /// connect(2) `fd` to this address.
    public func connect(_ fd: Int32) throws(SystemError) {
        try withSockaddr { (address, length) throws(SystemError) in
            _ = try syscall("connect(\(name))") { Glibc.connect(fd, address, length) }
        }
    }

    /// bind(2) `fd` to this address.
    public func bind(_ fd: Int32) throws(SystemError) {
        try withSockaddr { (address, length) throws(SystemError) in
            _ = try syscall("bind(\(name))") { Glibc.bind(fd, address, length) }
        }
    }
}
