import Foundation
@testable import VIPDConfig
import VRRP

/// The package root, found from this file's path (Tests/VIPDConfigTests/Support.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Every `.yaml` file under examples/, as paths relative to the package root.
func exampleFiles() -> [String] {
    let base = packageRoot.appendingPathComponent("examples")
    guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
    var files: [String] = []
    while let next = walker.nextObject() as? String {
        if next.hasSuffix(".yaml") { files.append("examples/" + next) }
    }
    return files.sorted()
}

func prefix(_ text: String) -> AddressPrefix {
    guard let p = AddressPrefix(text) else { fatalError("test literal \(text) is not a prefix") }
    return p
}

func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { fatalError("test literal \(text) is not an address") }
    return a
}

/// Parses, returning the error instead of throwing it.
func parseResult(_ yaml: String, file: String = "test.yaml") -> Result<VIPDConfiguration, ConfigError> {
    do throws(ConfigError) {
        return .success(try VIPDConfiguration.parse(yaml: yaml, file: file))
    } catch {
        return .failure(error)
    }
}

/// A valid one-instance configuration; `extra` lines are appended to the instance (indented 4).
func minimal(_ extra: String = "") -> String {
    """
    instances:
      - name: web
        interface: eth0
        vrid: 51
        addresses: [192.0.2.100/24]

    """ + extra
}

/// Deterministic pseudo-random numbers (SplitMix64) so a failing case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
