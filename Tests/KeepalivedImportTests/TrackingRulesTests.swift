import Foundation
@testable import KeepalivedImport
import Testing

/// How the import reads track_interface and track_script lines, where keepalived 2.2.7's own rules
/// (its vrrp_track.c and vrrp_complete_instance) decide what is tracked: checked on small files.
@Suite struct TrackingRulesTests {
    static func convert(priority: Int = 100, tracking: String, scripts: String = "") throws -> KeepalivedImport {
        let text = """
        \(scripts)
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority \(priority)
            virtual_ipaddress {
                192.0.2.100/24
            }
        \(tracking)
        }
        """
        return try KeepalivedImport.convert(file: "/k.conf", configID: "r1", fileSystem: .inMemory(["/k.conf": text]))
    }

    static let check = """
    vrrp_script chk {
        script /bin/true
        weight -20
    }
    """

    @Test func anAddressOwnerDoesNotTrackAWeightedScriptOrInterface() throws {
        let result = try Self.convert(priority: 255, tracking: """
            track_script {
                chk
            }
            track_interface {
                eth1 weight -10
                eth2
            }
        """, scripts: Self.check)
        #expect(!result.yaml.contains("chk"))
        #expect(!result.yaml.contains("eth1"))
        #expect(result.yaml.contains("name: eth2"))   // without a weight: Fault while down, as keepalived
        #expect(result.notes.contains { $0.message.contains("track_script chk: weight -20 on an instance with priority 255") && $0.message.contains("does not track it") })
        #expect(result.notes.contains { $0.message.contains("track_interface eth1 weight -10 on an instance with priority 255") && $0.message.contains("stops tracking eth1") })
        // The script is then tracked by nobody: not converted, as keepalived does not run it.
        #expect(result.notes.contains { $0.message.contains("vrrp_script chk is tracked by no instance") })
    }

    @Test func anAddressOwnerKeepsAScriptWithWeightZero() throws {
        let result = try Self.convert(priority: 255, tracking: """
            track_script {
                chk weight 0
            }
        """, scripts: Self.check)
        #expect(result.yaml.contains("name: chk"))
        #expect(result.yaml.contains("weight: 0"))
    }

    @Test func anUnknownOptionOrAWeightWithoutValueIgnoresTheLine() throws {
        let result = try Self.convert(tracking: """
            track_interface {
                eth3 something
                eth4 weight
                eth5 weight 300
            }
            track_script {
                chk tracked
            }
        """, scripts: Self.check)
        #expect(!result.yaml.contains("eth3"))
        #expect(!result.yaml.contains("eth4"))
        #expect(!result.yaml.contains("name: chk"))
        // Out of range: tracked without a weight, as keepalived does.
        #expect(result.yaml.contains("name: eth5"))
        #expect(!result.yaml.contains("weight: 300"))
        #expect(result.notes.contains { $0.message.contains("track_interface eth3 something: keepalived ignores the whole line") })
        #expect(result.notes.contains { $0.message.contains("track_interface eth4 weight without a value") })
        #expect(result.notes.contains { $0.message.contains("track_interface eth5 weight 300: not -254–254") })
        #expect(result.notes.contains { $0.message.contains("track_script chk tracked: keepalived ignores the whole line") })
    }

    @Test func reverseIsKeptUnderAWeightOverrideUnlessNoreverse() throws {
        let scripts = """
        vrrp_script chk {
            script /bin/true
            weight 10 reverse
        }
        """
        let kept = try Self.convert(tracking: "    track_script {\n        chk weight -30\n    }", scripts: scripts)
        #expect(kept.yaml.contains("weight: -30"))
        #expect(kept.notes.contains { $0.message.contains("weight -30 with reverse: keepalived changes the priority by 30 while the script fails") && $0.message.contains("write weight 30") })
        let dropped = try Self.convert(tracking: "    track_script {\n        chk weight -30 noreverse\n    }", scripts: scripts)
        #expect(dropped.yaml.contains("weight: -30"))
        #expect(!dropped.notes.contains { $0.message.contains("reverse") })
    }

    /// A sync group's own tracking: keepalived clears the weights on every member when one member
    /// is an address owner, and keeps them otherwise.
    @Test(arguments: [255, 200])
    func aSyncGroupWithAnOwnerMemberClearsItsWeights(_ ownerPriority: Int) throws {
        let text = """
        \(Self.check)
        vrrp_instance A {
            interface eth0
            virtual_router_id 51
            priority \(ownerPriority)
            virtual_ipaddress {
                192.0.2.100/24
            }
        }
        vrrp_instance B {
            interface eth0
            virtual_router_id 52
            priority 100
            virtual_ipaddress {
                192.0.2.101/24
            }
        }
        vrrp_sync_group G {
            group {
                A
                B
            }
            track_interface {
                eth1 weight -10
            }
            track_script {
                chk
            }
        }
        """
        let result = try KeepalivedImport.convert(file: "/k.conf", configID: "r1", fileSystem: .inMemory(["/k.conf": text]))
        let owner = ownerPriority == 255
        // Both members track both, with the group's weights or (with an owner) weight 0.
        #expect(result.yaml.components(separatedBy: "name: eth1").count == 3)
        #expect(result.yaml.components(separatedBy: "name: chk").count == 3)
        #expect(result.yaml.contains("weight: -10") == !owner)
        #expect(result.yaml.contains("weight: -20") == !owner)
        // One note per line (the same for both members).
        #expect(result.notes.filter { $0.message.contains("sync group with an address owner") }.count == (owner ? 2 : 0))
    }
}
