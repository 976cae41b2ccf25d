// libFuzzer harness for the configuration loader. Built only by `scripts/fuzz SECONDS config`
// (VIPD_FUZZ=1 adds this target to Package.swift; libFuzzer supplies `main`).
//
// Invariants (a violation traps, and libFuzzer keeps the input):
// - parsing any byte string returns a configuration or a ConfigError, never traps;
// - an error's position is inside the text (line ≥ 1, column ≥ 1);
// - a configuration that parses renders to YAML that parses back to the same value.

import VIPDConfig

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try VIPDConfiguration.parse(yaml: text, file: "fuzz.yaml")
        let rendered = configuration.renderYAML()
        do {
            let again = try VIPDConfiguration.parse(yaml: rendered, file: "rendered.yaml")
            guard again == configuration else {
                fatalError("invariant violated: renderYAML round trip changed the configuration\n\(rendered)")
            }
        } catch {
            fatalError("invariant violated: rendered configuration does not parse: \(error)\n\(rendered)")
        }
    } catch {
        guard error.line >= 1, error.column >= 1 else {
            fatalError("invariant violated: error position out of range: \(error)")
        }
    }
    return 0
}
