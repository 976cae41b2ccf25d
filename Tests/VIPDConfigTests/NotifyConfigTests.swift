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

    @Test func scriptUserResolvesNamesFromTheSystem() throws {
        let config = try VIPDConfiguration.parse(yaml: "script_user: nobody\n" + minimal("""
                track:
                  scripts:
                    - { name: chk, run: /bin/true, user: "root:nogroup" }
                    - { name: other, run: /bin/true }

            """), file: "t")
        #expect(config.scriptUser == ScriptUser(name: "nobody", uid: 65534, gid: 65534))
        let scripts = try #require(config.instance(named: "web")).track.scripts
        #expect(scripts[0].user == ScriptUser(name: "root:nogroup", uid: 0, gid: 65534))
        #expect(scripts[1].user == nil)
        #expect(try VIPDConfiguration.parse(yaml: config.renderYAML(), file: "r") == config)
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
        ErrorCase(name: "unknown script_user", yaml: "script_user: no-such-user-vipd\n" + minimal(), line: 1, column: 14,
                  fragment: "script_user: there is no user 'no-such-user-vipd' on this system"),
        ErrorCase(name: "unknown script group", yaml: "script_user: \"nobody:no-such-group-vipd\"\n" + minimal(), line: 1, column: 14,
                  fragment: "there is no group 'no-such-group-vipd'"),
        ErrorCase(name: "script_user with two colons", yaml: "script_user: \"a:b:c\"\n" + minimal(), line: 1, column: 14,
                  fragment: "must be USER or USER:GROUP"),
        ErrorCase(name: "empty group", yaml: "script_user: \"nobody:\"\n" + minimal(), line: 1, column: 14,
                  fragment: "must be USER or USER:GROUP"),
        ErrorCase(name: "unknown track script user",
                  yaml: minimal("    track: { scripts: [ { run: /bin/true, user: ghost-vipd } ] }\n"), line: 6, column: 49,
                  fragment: "user of track script '1': there is no user 'ghost-vipd'"),
        ErrorCase(name: "notify_master relative", yaml: minimal("    notify_master: to-master.sh\n"), line: 6, column: 20,
                  fragment: "notify_master of instance 'web' 'to-master.sh' must start with the absolute path"),
        ErrorCase(name: "notify_fault unterminated quote", yaml: minimal("    notify_fault: \"/bin/x 'a\"\n"), line: 6, column: 19,
                  fragment: "notify_fault of instance 'web': the quote ' is never closed"),
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
