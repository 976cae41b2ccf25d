import KeepalivedImport
import Testing
import VIPDConfig

/// `vrrp_rlimit_rttime` (microseconds) → `realtime_cpu_limit`, at the edges of vipd's range. The
/// corpus (keepalived/realtime-cpu-limit*) shows whole files with their notes.
@Suite struct RealtimeCPULimitImportTests {
    static func convert(_ limit: String, realTime: String = "vrrp_rt_priority 10") throws -> (line: String?, notes: [String]) {
        let conf = """
            global_defs {
                \(realTime)
                vrrp_rlimit_rttime \(limit)
            }
            vrrp_instance web {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    192.0.2.100/24
                }
            }

            """
        let result = try KeepalivedImport.convert(file: "/etc/keepalived/keepalived.conf", configID: "r1",
                                                  fileSystem: .inMemory(["/etc/keepalived/keepalived.conf": conf]))
        let config = try VIPDConfiguration.parse(yaml: result.yaml, file: "converted")
        let line = result.yaml.split(separator: "\n").first { $0.hasPrefix("realtime_cpu_limit:") }
        #expect((line == nil) == (config.realtimeCPULimit == nil), "\(result.yaml)")
        // Each line ends in a comment naming the keepalived line: "key: value  # file:line".
        return (line.map { $0.components(separatedBy: "  #")[0] }, result.notes.map { "\($0)" })
    }

    @Test(arguments: [("1", "realtime_cpu_limit: 10ms", "below vipd's smallest"), ("9999", "realtime_cpu_limit: 10ms", "below vipd's smallest"),
                      ("10001", "realtime_cpu_limit: 10.001ms", nil), ("250000", "realtime_cpu_limit: 250ms", nil),
                      ("60000000", "realtime_cpu_limit: 60s", nil), ("60000001", "realtime_cpu_limit: 60s", "above vipd's largest"),
                      ("4294967295", "realtime_cpu_limit: 60s", "above vipd's largest")])
    func convertedWithinVipdsRange(_ limit: String, _ expected: String, _ note: String?) throws {
        let (line, notes) = try Self.convert(limit)
        #expect(line == expected)
        if let note {
            #expect(notes.count == 1 && notes[0].contains(note), "\(notes)")
        } else {
            #expect(notes.isEmpty, "\(notes)")
        }
    }

    /// keepalived's default, 10 ms, killed keepalived under load: vipd's default (1 s) applies.
    @Test func keepalivedsDefaultIsNotCarriedOver() throws {
        let (line, notes) = try Self.convert("10000")
        #expect(line == nil)
        #expect(notes.count == 1 && notes[0].contains("keepalived's default") && notes[0].contains("1s"), "\(notes)")
    }

    @Test(arguments: ["0", "-5", "4294967296", "10ms"])
    func aValueKeepalivedRefusesIsNotConverted(_ limit: String) throws {
        let (line, notes) = try Self.convert(limit)
        #expect(line == nil)
        #expect(notes.count == 1 && notes[0].contains("1–4294967295 microseconds"), "\(notes)")
    }

    @Test(arguments: ["max_auto_priority 5", "max_auto_priority"])
    func maxAutoPriorityAloneIsRealTimeEnough(_ realTime: String) throws {
        #expect(try Self.convert("300000", realTime: realTime).line == "realtime_cpu_limit: 300ms")
    }

    @Test(arguments: ["", "max_auto_priority 0", "max_auto_priority -1"])
    func withoutRealTimeSchedulingItIsNotConverted(_ realTime: String) throws {
        let (line, notes) = try Self.convert("300000", realTime: realTime)
        #expect(line == nil)
        #expect(notes.contains { $0.contains("vrrp_rlimit_rttime 300000 is not converted") }, "\(notes)")
    }
}
