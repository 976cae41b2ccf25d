import Glibc
import Testing
@testable import VIPDSystem

/// `releaseFreeMemory` (malloc_trim) is what gives back the heap a `vipd status` of 255 instances
/// freed: glibc keeps freed memory that is not at the top of the heap resident on its own.
@Suite(.serialized) struct ReleaseFreeMemoryTests {
    static func residentAnonymousKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix("RssAnon:") {
                return Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
            }
        }
        return -1
    }

    @Test func freedHeapInTheMiddleGoesBackToTheKernel() {
        // 64 MiB in 1 KiB blocks (below glibc's mmap threshold: from the heap), written so that they
        // are resident; every 64th kept, so the freed memory is in holes, not at the top of the heap.
        let count = 64 * 1024
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 0xA5, count: 1024)
            blocks.append(block)
        }
        var kept: [UnsafeMutableRawPointer] = []
        for (index, block) in blocks.enumerated() {
            if index % 64 == 0 { kept.append(block) } else { block.deallocate() }
        }
        blocks = []
        defer { for block in kept { block.deallocate() } }
        let before = Self.residentAnonymousKiB()
        let released = releaseFreeMemory()
        let after = Self.residentAnonymousKiB()
        #expect(released)
        // About 63 MiB were freed in holes; at least half of it must leave the resident set (other
        // tests of this process may allocate meanwhile).
        #expect(before - after > 32 * 1024, "RssAnon \(before) kB before, \(after) kB after malloc_trim")
    }
}
