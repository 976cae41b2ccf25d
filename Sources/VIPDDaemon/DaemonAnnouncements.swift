// Gratuitous ARP / unsolicited NA after a takeover, repeated and refreshed as the garp settings say.

import VIPDLinux
import VRRP

extension Daemon {
    func stopAnnouncements(_ runtime: RouterRuntime) {
        runtime.announceTimers.forEach { loop.cancel($0) }
        runtime.announceTimers.removeAll()
    }

    /// Gratuitous ARP / unsolicited NA: the first frames now, the rest as loop timers (garp settings).
    func scheduleAnnouncements(_ runtime: RouterRuntime) {
        stopAnnouncements(runtime)
        let garp = runtime.instance.garp
        let plan = AnnouncementPlan(count: garp.count, interval: garp.interval, repeatAfter: garp.repeatAfter,
                                    refresh: garp.refresh)
        let frames = runtime.announcementFrames()
        let start = loop.now()
        for offset in plan.transitionOffsets {
            if offset == .zero {
                sendAnnouncement(runtime, frames)
            } else {
                runtime.announceTimers.append(loop.schedule(at: start + offset) { [unowned self, runtime] in
                    guard runtime.router.holdsAddresses else { return }
                    self.sendAnnouncement(runtime, frames)
                })
            }
        }
        if let refresh = plan.refresh {
            scheduleRefresh(runtime, every: refresh, offsets: plan.refreshOffsets, frames: frames)
        }
    }

    private func scheduleRefresh(_ runtime: RouterRuntime, every period: Duration, offsets: [Duration], frames: [[UInt8]]) {
        let periodStart = loop.now() + period
        for offset in offsets {
            runtime.announceTimers.append(loop.schedule(at: periodStart + offset) { [unowned self, runtime] in
                guard runtime.router.holdsAddresses else { return }
                self.sendAnnouncement(runtime, frames)
            })
        }
        runtime.announceTimers.append(loop.schedule(at: periodStart) { [unowned self, runtime] in
            guard runtime.router.holdsAddresses else { return }
            self.scheduleRefresh(runtime, every: period, offsets: offsets, frames: frames)
        })
    }

    func sendAnnouncement(_ runtime: RouterRuntime, _ frames: [[UInt8]]) {
        guard !frames.isEmpty else { return }
        do {
            try plane.announce(frames, interfaceIndex: runtime.addressInterfaceIndex)
            runtime.counters.announcements += 1
            runtime.metricHandles?.announcements.increment()
        } catch {
            logger.warning("announcement failed: \(error)", metadata: ["router": "\(runtime.key)"])
        }
    }
}
