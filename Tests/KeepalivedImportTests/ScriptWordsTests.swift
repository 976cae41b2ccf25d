import Foundation
@testable import KeepalivedImport
import Testing

/// Scripts keep their arguments: what keepalived would pass to the program (read as keepalived's
/// notify.c reads a script line) is what /bin/sh makes of the command line the import writes.
@Suite struct ScriptWordsTests {
    /// The arguments /bin/sh -c gives a program for `command`, via printf.
    static func shellArguments(_ command: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The words the shell makes of the command (as `set --` sees them), one NUL-ended record each.
        process.arguments = ["-c", "eval \"set -- $1\"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done", "sh", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static let cases: [(line: String, arguments: [String])] = [
        (#"notify_master "/etc/k/n.sh ' spaces\\x20f\x69le ' '\"s p a c e \"' SG1.low master" user group"#,
         // 2.2.7 reads \\x20f as \x20f on the first pass and takes every hex digit on the second: 0x20f → 0x0f.
         ["/etc/k/n.sh", " spaces\u{0F}ile ", "\"s p a c e \"", "SG1.low", "master"]),
        (#"script "/usr/bin/killall -0 haproxy""#, ["/usr/bin/killall", "-0", "haproxy"]),
        (#"script "/bin/check 'it'\\''s' $HOME `id` a;b && *""#, ["/bin/check", "it's", "$HOME", "`id`", "a;b", "&&", "*"]),
        (#"script "/bin/check \x4142 \\x41""#, ["/bin/check", "B", "A"]),
        // The first pass makes \t a tab, which the second pass splits at.
        (#"script "/bin/check \t\101\cA ~x #y ''""#, ["/bin/check", "A\u{1}", "~x", "#y", ""]),
        (#"script /bin/first second"#, ["/bin/first"]),
    ]

    @Test(arguments: 0..<cases.count)
    func theShellGetsKeepalivedsArguments(_ index: Int) throws {
        let (line, expected) = Self.cases[index]
        let statement = Statement(words: Blocks.words(line), location: SourceLocation(file: "t", line: 1), text: line)
        let (arguments, _) = try #require(ScriptWords.command(statement))
        #expect(arguments == expected)
        let command = ScriptWords.shellCommand(arguments)
        #expect(try Self.shellArguments(command) == expected, "\(command)")
    }

    @Test func anOpenQuoteIsRefused() {
        #expect(ScriptWords.split("/bin/x 'open", escapes: true) == nil)
        #expect(ScriptWords.split("/bin/x \\", escapes: true) == nil)
        // keepalived 2.2.7 decodes escapes twice: \' closes the single quote it is in.
        let line = #"script "/bin/x 'it'\''s'""#
        #expect(ScriptWords.command(Statement(words: Blocks.words(line), location: SourceLocation(file: "t", line: 1), text: line)) == nil)
    }
}
