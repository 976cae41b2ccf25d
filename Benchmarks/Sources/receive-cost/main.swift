// Instructions per received advert, for callgrind (docs/benchmarks.md):
//   valgrind --tool=callgrind --toggle-collect='*ReceivePathRig*measure*' .build/release/receive-cost 25500
// Without valgrind it prints the wall time per advert.

import ReceivePath

let adverts = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 25_500 : 25_500
let rig = try ReceivePathRig()
let before = rig.transitions
let (set0, fired0) = (rig.plane.rigLoop.timersSet, rig.plane.rigLoop.timersFired)
let elapsed = ContinuousClock().measure { rig.measure(adverts: adverts) }
let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
let perAdvert = { (n: Int) in Double(n) / Double(max(adverts, 1)) }
print("\(adverts) adverts, \(ns / Double(max(adverts, 1))) ns per advert, transitions \(rig.transitions - before), "
      + "timers set \(perAdvert(rig.plane.rigLoop.timersSet - set0)) and fired \(perAdvert(rig.plane.rigLoop.timersFired - fired0)) per advert")
