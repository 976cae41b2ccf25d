// `vipd import-keepalived`: prints the vipd YAML for a keepalived configuration on stdout and one
// line per thing not carried over on stderr (`FILE:LINE: what, and what to do instead`).

import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KeepalivedImport
import VIPDConfig

struct ImportKeepalived: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-keepalived",
        abstract: "Convert a keepalived configuration into vipd YAML.",
        discussion: """
            Prints the vipd configuration on stdout and, on stderr, one line per thing it could not \
            carry over, as FILE:LINE: what, and what to do instead. Exit status 0 when it printed a \
            configuration (1 with --strict when there are notes); 1 when the file cannot be read or \
            parsed, with nothing on stdout. See docs/migrating-from-keepalived.md.
            """)

    @Option(name: .customLong("config-id"), help: "Config id deciding @ID / @^ID lines (default: the short host name, as keepalived).")
    var configID: String?

    @Flag(name: .long, help: "Exit 1 when anything could not be carried over.")
    var strict = false

    @Argument(help: "keepalived configuration file (e.g. /etc/keepalived/keepalived.conf).")
    var file: String

    func run() throws {
        let result: KeepalivedImport
        do {
            result = try KeepalivedImport.convert(file: file, configID: configID ?? Self.shortHostName(), fileSystem: .real)
        } catch {
            fail("\(error)")
        }
        // The output must load as it is: vipd's own parser checks it (script security is check-config's
        // business, on the host where the scripts are).
        do {
            _ = try VIPDConfiguration.parse(yaml: result.yaml, file: file)
        } catch {
            let origin = result.origin(ofYAMLLine: error.line).map { "\($0)" } ?? file
            fail("\(origin): the converted configuration is refused by vipd (line \(error.line) of the output): \(error.message)")
        }
        print(result.yaml, terminator: "")
        for note in result.notes { FileHandle.standardError.write(Data("\(note)\n".utf8)) }
        if strict && !result.notes.isEmpty { throw ExitCode(1) }
    }

    /// keepalived's default config id: the node name up to its first dot.
    static func shortHostName() -> String {
        var name = utsname()
        uname(&name)
        let node = withUnsafeBytes(of: &name.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return String(node.split(separator: ".", omittingEmptySubsequences: false).first ?? "")
    }
}

extension KeepalivedFileSystem {
    /// The real file system: files up to 16 MiB, glob(3) with csh braces, the process environment.
    static let real = KeepalivedFileSystem(
        readFile: { path in
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: 16 << 20 + 1), data.count <= 16 << 20 else { return nil }
            return String(data: data, encoding: .utf8)
        },
        glob: { pattern in
            var matches = glob_t()
            defer { globfree(&matches) }
            guard Glibc.glob(pattern, GLOB_BRACE, nil, &matches) == 0 else { return [] }
            return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        },
        environment: { ProcessInfo.processInfo.environment[$0] })
}
