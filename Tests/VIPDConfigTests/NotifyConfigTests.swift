import Foundation
import Testing
@testable import VIPDConfig

/// keepalived's notify convention and script user in the configuration (docs/config.md "keepalived
/// notify convention", "Script user").
@Suite struct NotifyConfigTests {
    @Test func keepalivedSplitsScriptLinesItsWay() throws {
        #expect(try CommandLine.split("/bin/x a  b").get() == ["/bin/x", "a", "b"])
        #expect(try CommandLine.split("/bin/x 'a b' \"c d\"").get() == ["/bin/x", "a b", "c d"])
        #expect(try CommandLine.split("/bin/x ab'c d'e").get() == ["/bin/x", "abc de"])
        #expect(try CommandLine.split("/bin/x a\\ b \"q\\\"x\"").get() == ["/bin/x", "a b", "q\"x"])
        #expect(try CommandLine.split("/bin/x '$HOME|>' ''").get() == ["/bin/x", "$HOME|>", ""])
        #expect(try CommandLine.split("/bin/x 'it'\\''s' '\tA'").get() == ["/bin/x", "it's", "\tA"])
        #expect(CommandLine.split("/bin/x 'open") == .failure(.unterminatedQuote("'")))
        #expect(CommandLine.split("/bin/x a\\") == .failure(.trailingBackslash))
    }

    @Test(arguments: [["/bin/x"], ["/bin/x", "a b", "it's", "back\\slash", "q\"uote", ""], ["/p", "--x=1"]])
    func joinedLinesSplitBackToTheSameWords(_ words: [String]) throws {
        #expect(try CommandLine.split(CommandLine.join(words)).get() == words)
    }

    @Test func instanceKeysParse() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
                notify_style: keepalived
                notify: "/usr/local/bin/notify.sh --site 'north east'"
                notify_master: /usr/local/bin/to-master.sh
                notify_backup: "/usr/local/bin/state.sh backup"
                notify_fault: /usr/local/bin/state.sh fault
                notify_stop: /usr/local/bin/state.sh stop

            """), file: "t")
        let web = try #require(config.instance(named: "web"))
        #expect(web.notifyStyle == .keepalived)
        #expect(web.notify == "/usr/local/bin/notify.sh")
        #expect(web.notifyArguments == ["--site", "north east"])
        #expect(web.stateCommands == StateCommands(master: ["/usr/local/bin/to-master.sh"],
                                                   backup: ["/usr/local/bin/state.sh", "backup"],
                                                   fault: ["/usr/local/bin/state.sh", "fault"],
                                                   stop: ["/usr/local/bin/state.sh", "stop"]))
        #expect(web.stateCommands.command(for: "BACKUP") == ["/usr/local/bin/state.sh", "backup"])
        #expect(web.stateCommands.command(for: "TAKEOVER_PENDING") == nil)
        let again = try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "rendered")
        #expect(again == config)
    }

    @Test func vipdStyleIsTheDefaultAndNotifyStaysAPath() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("    notify: /etc/vipd/my notify.sh\n"), file: "t")
        let web = try #require(config.instance(named: "web"))
        #expect(web.notifyStyle == .vipd)
        #expect(web.notify == "/etc/vipd/my notify.sh")
        #expect(web.notifyArguments.isEmpty)
        #expect(web.stateCommands.isEmpty)
        #expect(try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "r") == config)
    }

    /// Writes `yaml` to a file of its own and loads it with the real loader (check-config, run).
    private func load(_ yaml: String, checkingScripts: Bool = true) -> Result<VIPDConfiguration, ConfigError> {
        let path = "/tmp/vipd-notify-config-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml"
        defer { unlink(path) }
        guard (try? yaml.write(toFile: path, atomically: false, encoding: .utf8)) != nil else {
            return .failure(ConfigError(file: path, line: 0, column: 0, message: "test setup: cannot write"))
        }
        do throws(ConfigError) { return .success(try VIPDConfiguration.load(path: path, checkingScripts: checkingScripts)) } catch { return .failure(error) }
    }

    private let userScripts = """
            track:
              scripts:
                - { name: chk, run: /bin/true, user: "root:nogroup" }
                - { name: other, run: /bin/true }

        """

    @Test func scriptUserIsLookedUpByTheLoader() throws {
        let yaml = "script_user: nobody\nenable_script_security: false\n" + minimal(userScripts)
        let config = try load(yaml).get()
        #expect(config.scriptUser == ScriptUser(name: "nobody", user: "nobody", group: nil, uid: 65534, gid: 65534))
        let scripts = try #require(config.instance(named: "web")).track.scripts
        #expect(scripts[0].user == ScriptUser(name: "root:nogroup", user: "root", group: "nogroup", uid: 0, gid: 65534))
        #expect(scripts[1].user == nil)
        // Text only: parse keeps the names and leaves the ids to the loader.
        let parsed = try VIPDConfiguration.parse(yaml: yaml, file: "t")
        #expect(parsed.scriptUser == ScriptUser(name: "nobody", user: "nobody", group: nil))
        #expect(try VIPDConfiguration.parse(yaml: parsed.renderYAML(), file: "r") == parsed)
    }

    static let unknownUsers: [(String, Int, Int, String)] = [
        ("script_user: no-such-user-vipd\n", 1, 14, "script_user: there is no user 'no-such-user-vipd' on this system"),
        ("script_user: \"nobody:no-such-group-vipd\"\n", 1, 14, "script_user: there is no group 'no-such-group-vipd'"),
        ("script_user: nobody\n", 8, 49, "user of track script '1': there is no user 'ghost-vipd'"),
    ]

    @Test(arguments: unknownUsers)
    func unknownUsersAreRefusedByTheLoaderAtTheirLine(_ head: String, _ line: Int, _ column: Int, _ fragment: String) {
        let tail = head == "script_user: nobody\n"
            ? minimal("    track: { scripts: [ { run: /bin/true, user: ghost-vipd } ] }\n") : minimal()
        let yaml = head + "enable_script_security: false\n" + tail
        // Reading only the control socket (`checkingScripts: false`) does not look users up.
        #expect(throws: Never.self) { try load(yaml, checkingScripts: false).get() }
        guard case .failure(let e) = load(yaml) else {
            Issue.record("\(fragment) was accepted")
            return
        }
        #expect(e.line == line, "\(e)")
        #expect(e.column == column, "\(e)")
        #expect(e.message.contains(fragment), "\(e.message)")
    }

    @Test func syncGroupNotifyKeysParse() throws {
        let config = try VIPDConfiguration.parse(yaml: minimal("""
            sync_groups:
              - name: g1
                instances: [web]
                notify: /usr/local/bin/group.sh
                notify_master: "/usr/local/bin/g.sh 'is master'"
                notify_stop: /usr/local/bin/g.sh stop

            """), file: "t")
        let group = try #require(config.syncGroups.first)
        #expect(group.notify == ["/usr/local/bin/group.sh"])
        #expect(group.stateCommands.master == ["/usr/local/bin/g.sh", "is master"])
        #expect(group.stateCommands.stop == ["/usr/local/bin/g.sh", "stop"])
        #expect(group.stateCommands.backup == nil)
        #expect(try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "r") == config)
    }

    static let refused: [ErrorCase] = [
        ErrorCase(name: "script_user with two colons", yaml: "script_user: \"a:b:c\"\n" + minimal(), line: 1, column: 14,
                  fragment: "must be USER or USER:GROUP"),
        ErrorCase(name: "empty group", yaml: "script_user: \"nobody:\"\n" + minimal(), line: 1, column: 14,
                  fragment: "must be USER or USER:GROUP"),
        ErrorCase(name: "notify_master relative", yaml: minimal("    notify_master: to-master.sh\n"), line: 6, column: 20,
                  fragment: "notify_master of instance 'web' 'to-master.sh' must start with the absolute path"),
        ErrorCase(name: "notify_fault unterminated quote", yaml: minimal("    notify_fault: \"/bin/x 'a\"\n"), line: 6, column: 19,
                  fragment: "notify_fault of instance 'web': the quote ' is never closed"),
        ErrorCase(name: "control character in a command line", yaml: minimal("    notify_stop: \"/bin/x a\\u0007\"\n"), line: 6, column: 18,
                  fragment: "notify_stop of instance 'web' must not contain control or invisible formatting characters other than tabs"),
        ErrorCase(name: "unknown notify_style", yaml: minimal("    notify_style: bash\n"), line: 6, column: 19,
                  fragment: "notify_style must be one of vipd, keepalived, got 'bash'"),
        ErrorCase(name: "keepalived notify relative",
                  yaml: minimal("    notify_style: keepalived\n    notify: \"notify.sh x\"\n"), line: 7, column: 13,
                  fragment: "notify 'notify.sh x' must start with the absolute path"),
        ErrorCase(name: "group notify_backup relative",
                  yaml: minimal("sync_groups: [ { name: g, instances: [web], notify_backup: b.sh } ]\n"), line: 6, column: 60,
                  fragment: "notify_backup of sync group 'g' 'b.sh' must start with the absolute path"),
    ]

    @Test(arguments: refused)
    func refusedWithPosition(_ c: ErrorCase) {
        guard case .failure(let e) = parseResult(c.yaml) else {
            Issue.record("\(c.name) was accepted")
            return
        }
        #expect(e.line == c.line && e.column == c.column, "\(c.name): \(e)")
        #expect(e.message.contains(c.fragment), "\(c.name): \(e.message)")
    }
}
