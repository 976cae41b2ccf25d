// The per-virtual-router state machine: RFC 9568 §6.4 (VRRPv3) and RFC 3768 §6.4 (VRRPv2), plus
// vipd's extensions (Fault, graceful release, planned handover, manual takeover, preempt delay).
//
// Sans-I/O: no clock, no sockets. The caller feeds `RouterInput`s with the current time, performs
// the returned `RouterAction`s in order, and calls `handle(.timeout, now:)` once `nextDeadline` has
// passed (or up to `nextDeadlineSlack` before). Calling `.timeout` earlier is a harmless no-op;
// calling it late fires each due timer once and re-arms it from `now`.
//
// Every state change goes through `transition(to:reason:now:)`, which also performs the entry and
// exit duties of the states (address add/remove, timers), so they cannot be forgotten on one path.
//
// Why one file of ~600 lines: the router's state and `transition` are `private`, so that nothing
// outside this file — not even another file of this module — can change the state except through
// the inputs. Splitting it would make them module-visible; the MARK sections are the chapters.
//
// Deviations from the RFC text, each chosen on purpose:
// - A Backup with preempt on that hears a lower-priority Master preempts at once (after
//   `preemptDelay` since it first heard that Master) instead of discarding the advertisement and
//   waiting for Master_Down_Interval (RFC 9568 §6.4.2 discards it). A Master lowered by tracking
//   therefore loses at its next advertisement, not three intervals later.
// - A Master that hears a lower-priority advertisement re-announces its addresses besides
//   advertising at once (RFC 9568 §6.4.3 only advertises), so ARP caches poisoned during a split
//   brain are corrected when it heals.
// - A Master that hears a higher priority (or an equal one from a greater address) sends one more
//   advertisement at its own priority before becoming Backup (RFC 9568 §6.4.3 only steps down;
//   keepalived does this with `vrrp_higher_prio_send_advert`). The winner then hears a lower
//   priority and re-announces even when its own advertisement was the first to cross a healed
//   partition.
// - A Backup hearing priority 0 sets Master_Down_Timer to Skew_Time only if that is earlier than
//   the armed timer (RFC 9568 §6.4.2 always sets it): a releasing vipd Master repeats priority 0
//   every interval, and at low priorities Skew_Time is nearly an interval, so re-arming on every
//   repeat would postpone the takeover indefinitely (found by the simulator).
// - A Master may send an advertisement up to `nextDeadlineSlack` before its Adver_Timer expires,
//   when the daemon is awake anyway (RFC 9568 §6.4.3 sends on expiry). Below 100 ms intervals that
//   is 1 % of the interval and the cadence is kept; from 100 ms on it is 5 ms and the next timer is
//   set one interval from that send, so routers sent together stay together and a daemon's adverts
//   go out in one burst per interval. Either way the gap a Backup sees between two adverts is never
//   longer than the interval plus the slack (plus the host's lateness).
// - Fault is not an RFC state (keepalived's FAULT). Graceful release (shutdown, handover) keeps the
//   addresses until the new Master is heard, where RFC 9568 §6.4.3 removes them right after the
//   priority-0 advertisement.

/// One state change, as remembered for status output.
public struct RouterTransition: Hashable, Sendable {
    public var at: Instant
    public var from: RouterState
    public var to: RouterState
    public var reason: TransitionReason

    public init(at: Instant, from: RouterState, to: RouterState, reason: TransitionReason) {
        self.at = at; self.from = from; self.to = to; self.reason = reason
    }
}

public struct Router: Sendable {
    public private(set) var config: RouterConfig
    public private(set) var state: RouterState = .initialize
    /// `config.priority` adjusted by `priorityChanged` (tracking). Always 255 for the address owner,
    /// otherwise 1...254.
    public private(set) var effectivePriority: UInt8
    /// Master_Adver_Interval (RFC 9568 §6.1): learned from the Master's advertisements (v3) or the
    /// configured Advertisement_Interval (v2, and whenever no Master has been heard).
    public private(set) var masterAdvertInterval: AdvertInterval
    /// Source address of the router believed Master (our own primary address when we are Master).
    public private(set) var currentMaster: IPAddress?
    public private(set) var currentMasterPriority: UInt8?
    /// True from `.addAddresses` to `.removeAddresses`.
    public private(set) var holdsAddresses = false
    /// Planned handover hold: while true this Backup does not preempt (it still takes over when the
    /// Master_Down_Timer expires).
    public private(set) var handoverHold = false
    /// When the hold ends by itself; nil with `handoverHold` means until `.cancelHandover`.
    public private(set) var handoverHoldUntil: Instant?
    /// Manual takeover mode: this Backup would take over and waits for `.approveTakeover`.
    public private(set) var takeoverPending = false
    public private(set) var lastTransition: RouterTransition?
    public private(set) var transitionCount = 0
    /// Active fault reasons; the router is in Fault (once started) while this is not empty.
    public private(set) var activeFaults: Set<String> = []

    /// Adver_Timer (RFC 9568 §6.2), armed only as Master.
    private var adverTimer: Instant?
    /// Master_Down_Timer (RFC 9568 §6.2), armed only as Backup (nil while a manual takeover waits).
    private var masterDownTimer: Instant?
    /// When this Backup first heard the current lower-priority Master (for `preemptDelay`).
    private var lowerMasterSeenAt: Instant?
    /// The Master's last word was priority 0: the takeover it asked for is automatic even in manual
    /// takeover mode.
    private var masterStopped = false
    /// Set while a Master steps aside (shutdown or handover) still holding its addresses.
    private var release: Release?

    private enum ReleaseGoal: Sendable { case stop, handover }

    private struct Release: Sendable {
        var goal: ReleaseGoal
        /// Give up waiting for a new Master at this time.
        var deadline: Instant
        /// Remove the addresses at this time (set once a new Master has been heard).
        var completeAt: Instant?
        var newMaster: IPAddress?
        var newMasterPriority: UInt8 = 0
        var newMasterInterval: AdvertInterval
    }

    public init(config: RouterConfig) {
        self.config = config
        effectivePriority = Router.basePriority(config)
        masterAdvertInterval = config.advertInterval
    }

    /// Stepping aside (shutdown or handover) and still holding the addresses.
    public var isReleasing: Bool { release != nil }

    /// Master_Down_Interval for our effective priority and the current Master_Adver_Interval.
    public var masterDownInterval: Duration {
        ProtocolTimers.masterDownInterval(priority: effectivePriority, masterAdvertInterval: masterAdvertInterval,
                                          version: config.version)
    }

    /// How long a releasing Master waits for a new Master before giving up: the Master_Down_Interval
    /// of the slowest possible Backup (priority 1) at our own interval. Backups shorten their timer
    /// to Skew_Time on our priority-0 adverts, so this is conservative even if the first ones are lost.
    public var releaseTimeout: Duration {
        ProtocolTimers.masterDownInterval(priority: Router.lowestBackupPriority, masterAdvertInterval: config.advertInterval,
                                          version: config.version)
    }

    /// The earliest pending timer, or nil when nothing is scheduled.
    public var nextDeadline: Instant? {
        func earlier(_ a: Instant?, _ b: Instant?) -> Instant? {
            guard let a else { return b }
            guard let b else { return a }
            return b < a ? b : a
        }
        // Once the new Master is heard, `completeAt` ends the release and the deadline no longer applies.
        let releaseDue = release.map { $0.newMaster == nil ? earlier($0.completeAt, $0.deadline) : $0.completeAt } ?? nil
        return earlier(earlier(earlier(adverTimer, masterDownTimer), releaseDue),
                       handoverHold ? handoverHoldUntil : nil)
    }

    /// How much before `nextDeadline` a `.timeout` still fires it: when the next deadline is a
    /// Master's Adver_Timer, `advertSlack`; otherwise zero. A daemon running many routers sends the
    /// advertisements that fall due within that window in the wakeup of the first.
    ///
    /// - Intervals below 100 ms: 1 % of the interval (at most 1 ms), keeping the cadence — the
    ///   next advertisement is due one interval after the deadline, not after the early `now`.
    /// - From 100 ms on: `maximumAdvertSlack` (5 ms), and the early advertisement re-phases — the
    ///   next one is due one interval after it was sent. Routers sent in one wakeup are then due
    ///   together and go out together again: one burst per interval instead of a wakeup every few
    ///   routers, on the Master and on every Backup (docs/benchmarks.md, "Timer batching"). An early
    ///   send shortens a gap by at most 5 ms and never lengthens the next one. Not below 100 ms: a
    ///   burst of every router's advertisement is several milliseconds of sending (255 routers: 3–6
    ///   ms on the benchmark machine), which at 10 ms intervals made the Master late (measured).
    public var nextDeadlineSlack: Duration {
        guard state == .master, let due = adverTimer, due == nextDeadline else { return .zero }
        return advertSlack
    }

    /// True when a `.timeout` at `now` would act on an expired Master_Down_Timer: a Backup would
    /// take over (or, in manual mode, ask for approval). The node layer's `DrainBeforeExpiry` asks
    /// this before the timeout is given, so that advertisements already received can be read first.
    public func masterDownExpired(at now: Instant) -> Bool {
        guard state == .backup, let due = masterDownTimer else { return false }
        return due <= now
    }

    /// 1 % of the advertisement interval (100 µs per centisecond) below 100 ms, `maximumAdvertSlack`
    /// from 100 ms on. Looked up, not computed: dividing a `Duration` is a 128-bit division, and
    /// this runs twice for every advertisement a Master sends (it was 15 % of the send path's
    /// instructions).
    private var advertSlack: Duration {
        let centiseconds = Int(config.advertInterval.centiseconds)
        return centiseconds < Self.shortIntervalSlack.count ? Self.shortIntervalSlack[centiseconds] : Self.maximumAdvertSlack
    }
    /// True when an early advertisement sets the next one an interval from the send (100 ms and
    /// longer intervals; see `nextDeadlineSlack`).
    private var advertRephases: Bool { Int(config.advertInterval.centiseconds) >= Self.rephasingCentiseconds }
    /// The shortest interval (in centiseconds) whose early advertisements re-phase.
    private static let rephasingCentiseconds = 10
    public static let maximumAdvertSlack: Duration = .milliseconds(5)
    /// `advertSlack` of intervals below `rephasingCentiseconds`: 1 % of the interval.
    private static let shortIntervalSlack: [Duration] = (0..<rephasingCentiseconds).map { .microseconds($0 * 100) }

    /// Lowest priority a Backup can have (RFC 9568 §5.2.4: 1...254 for Backups).
    static let lowestBackupPriority: UInt8 = 1
    /// Highest priority a non-owner can have (RFC 9568 §5.2.4).
    static let highestBackupPriority: UInt8 = 254

    private static func basePriority(_ config: RouterConfig) -> UInt8 {
        config.isAddressOwner ? ProtocolConstants.ownerPriority : clampBackup(Int(config.priority))
    }

    /// A priority a non-owner can have: `value` clamped to 1...254 (RFC 9568 §5.2.4). The one
    /// clamp for every priority computed outside the configuration (tracking, sync groups).
    public static func clampBackup(_ value: Int) -> UInt8 {
        UInt8(min(max(value, Int(lowestBackupPriority)), Int(highestBackupPriority)))
    }

    // MARK: - Inputs

    public mutating func handle(_ input: RouterInput, now: Instant) -> [RouterAction] {
        switch input {
        case .start: start(now: now)
        case .advertisement(let advert, let source): receive(advert, from: source, now: now)
        case .timeout: fireTimers(now: now)
        case .fault(let active, let reason, let linkDown):
            active ? raiseFault(reason, linkDown: linkDown, now: now) : clearFault(reason, now: now)
        case .priorityChanged(let priority): changePriority(to: priority, now: now)
        case .shutdown: shutdown(now: now)
        case .handover(let holdUntil): beginHandover(holdUntil: holdUntil, now: now)
        case .cancelHandover: cancelHandover(now: now)
        case .approveTakeover: approveTakeover(now: now)
        }
    }

    /// Startup event (RFC 9568 §6.4.1).
    private mutating func start(now: Instant) -> [RouterAction] {
        guard state == .initialize else { return [] }
        masterAdvertInterval = config.advertInterval
        if let fault = activeFaults.sorted().first {
            return transition(to: .fault, reason: .fault(fault), now: now)
        }
        if config.isAddressOwner {
            return transition(to: .master, reason: .addressOwner, now: now)
        }
        return transition(to: .backup, reason: .startup, now: now)
    }

    /// The virtual router's own checks on a decoded advertisement (RFC 9568 §7.1, RFC 3768 §7.1).
    /// The v3 address list is not compared: RFC 9568 §7.1 makes that check optional and vipd does
    /// not drop on it (the daemon may log a difference).
    private func dropReason(_ advert: Advertisement, from source: IPAddress) -> DropReason? {
        if advert.vrid != config.vrid { return .unknownVRID }
        if advert.version != config.version { return .versionMismatch }
        if source.family != config.family || advert.addresses.contains(where: { $0.family != config.family }) {
            return .familyMismatch
        }
        if advert.interval.centiseconds == 0 { return .malformed(.zeroInterval) }
        if source == config.primaryAddress { return .ownPacket }
        if config.version == .v2 {
            if advert.authentication != config.authentication { return .authenticationMismatch }
            if advert.interval != config.advertInterval { return .intervalMismatch }
        }
        return nil
    }

    private mutating func receive(_ advert: Advertisement, from source: IPAddress, now: Instant) -> [RouterAction] {
        if let reason = dropReason(advert, from: source) { return [.dropped(reason)] }
        switch state {
        case .initialize, .fault: return []
        case .backup: return backupReceive(advert, from: source, now: now)
        case .master: return release == nil ? masterReceive(advert, from: source, now: now)
                                            : releasingReceive(advert, from: source, now: now)
        }
    }

    /// RFC 9568 §6.4.2, Backup receiving an ADVERTISEMENT.
    private mutating func backupReceive(_ advert: Advertisement, from source: IPAddress, now: Instant) -> [RouterAction] {
        if advert.priority == ProtocolConstants.stopPriority {
            // The Master is stopping: take over after Skew_Time, so the highest Backup goes first.
            currentMaster = source
            currentMasterPriority = advert.priority
            masterStopped = true
            lowerMasterSeenAt = nil
            // A releasing vipd Master repeats priority 0 every interval; at low priority Skew_Time is
            // almost an interval, so re-setting the timer on each repeat would postpone the takeover
            // forever. Never move an armed timer later.
            let skewDeadline = now + ProtocolTimers.skewTime(priority: effectivePriority, masterAdvertInterval: masterAdvertInterval,
                                                              version: config.version)
            masterDownTimer = min(masterDownTimer ?? skewDeadline, skewDeadline)
            return []
        }
        // The owner always preempts (RFC 9568 §6.1, Preempt_Mode); a handover hold never does.
        let mayPreempt = (config.preempt || config.isAddressOwner) && !handoverHold
        guard advert.priority < effectivePriority, mayPreempt else {
            lowerMasterSeenAt = nil
            return acceptMaster(advert, from: source, now: now, clearPending: true)
        }
        // vipd: preempt a lower-priority Master once it has been seen for `preemptDelay`.
        let firstSeen = lowerMasterSeenAt ?? now
        lowerMasterSeenAt = firstSeen
        guard now - firstSeen >= config.preemptDelay else {
            return acceptMaster(advert, from: source, now: now, clearPending: false)
        }
        if config.takeover == .manual {
            return acceptMaster(advert, from: source, now: now, clearPending: false) + requestTakeover()
        }
        return transition(to: .master, reason: .preempting(lowerPriority: advert.priority), now: now)
    }

    /// Accept the sender as Master: learn its interval (v3), restart Master_Down_Timer.
    private mutating func acceptMaster(_ advert: Advertisement, from source: IPAddress, now: Instant,
                                       clearPending: Bool) -> [RouterAction] {
        masterAdvertInterval = learnedInterval(advert)
        currentMaster = source
        currentMasterPriority = advert.priority
        masterStopped = false
        masterDownTimer = now + masterDownInterval
        guard clearPending, takeoverPending else { return [] }
        takeoverPending = false
        return [.takeoverPending(false)]
    }

    /// RFC 9568 §6.4.2: a v3 Backup sets Master_Adver_Interval from the advertisement. v2 drops any
    /// advertisement whose interval differs from ours (RFC 3768 §7.1), so ours is the Master's.
    private func learnedInterval(_ advert: Advertisement) -> AdvertInterval {
        config.version == .v3 ? advert.interval : config.advertInterval
    }

    /// RFC 9568 §6.4.3, Master receiving an ADVERTISEMENT.
    private mutating func masterReceive(_ advert: Advertisement, from source: IPAddress, now: Instant) -> [RouterAction] {
        if advert.priority == ProtocolConstants.stopPriority {
            // Another Master is stopping: advertise at once so its Backups keep following us.
            adverTimer = now + config.advertInterval.duration
            return [.sendAdvertisement(priority: effectivePriority)]
        }
        let reason: TransitionReason
        if advert.priority > effectivePriority {
            reason = .higherPriorityMaster(priority: advert.priority, from: source)
        } else if advert.priority == effectivePriority && source > config.primaryAddress {
            reason = .equalPriorityHigherAddress(from: source)
        } else {
            // RFC 9568 §6.4.3: advertise at once; vipd also re-announces (split-brain heal).
            adverTimer = now + config.advertInterval.duration
            return [.sendAdvertisement(priority: effectivePriority), .announce]
        }
        masterAdvertInterval = learnedInterval(advert)
        currentMaster = source
        currentMasterPriority = advert.priority
        // vipd (keepalived's `vrrp_higher_prio_send_advert`): one last advertisement at our own
        // priority before stepping down. After a split brain heals, the winner may never have heard
        // us (its advertisement reached us first); this one makes it hear a lower priority and
        // re-announce, so neighbours that followed us move back at once instead of after their ARP
        // entry goes stale.
        return [.sendAdvertisement(priority: effectivePriority)] + transition(to: .backup, reason: reason, now: now)
    }

    /// A releasing Master waits for any other router advertising with priority > 0: the new Master.
    private mutating func releasingReceive(_ advert: Advertisement, from source: IPAddress, now: Instant) -> [RouterAction] {
        guard var current = release, advert.priority != ProtocolConstants.stopPriority else { return [] }
        current.newMaster = source
        current.newMasterPriority = advert.priority
        current.newMasterInterval = learnedInterval(advert)
        let completeAt = current.completeAt ?? now + config.handoverReleaseDelay
        current.completeAt = completeAt
        release = current
        return completeAt <= now ? completeRelease(now: now) : []
    }

    // MARK: - Timers

    private mutating func fireTimers(now: Instant) -> [RouterAction] {
        var actions: [RouterAction] = []
        if handoverHold, let until = handoverHoldUntil, until <= now {
            handoverHold = false
            handoverHoldUntil = nil
        }
        if let current = release {
            if let completeAt = current.completeAt, completeAt <= now {
                actions += completeRelease(now: now)
            } else if current.newMaster == nil, current.deadline <= now {
                // Once the new Master is heard, only `completeAt` ends the release: a release delay
                // longer than what is left of the deadline (routed VIPs' `release_delay`) must not
                // turn a completed handover into a timeout.
                actions += releaseTimedOut(now: now)
            }
        }
        if state == .master, let due = adverTimer, due <= now + advertSlack {
            // Adver_Timer expiry (RFC 9568 §6.4.3); a releasing Master keeps repeating priority 0.
            // Late: the next one is one interval from now. Early (within `nextDeadlineSlack`): from
            // 100 ms on, one interval from now too (re-phasing: routers sent together stay
            // together); below, one interval after the deadline (the cadence is kept).
            adverTimer = (advertRephases ? now : max(due, now)) + config.advertInterval.duration
            actions.append(.sendAdvertisement(priority: release == nil ? effectivePriority : ProtocolConstants.stopPriority))
        }
        if state == .backup, let due = masterDownTimer, due <= now {
            actions += masterDownExpired(now: now)
        }
        return actions
    }

    /// Master_Down_Timer expiry (RFC 9568 §6.4.2).
    private mutating func masterDownExpired(now: Instant) -> [RouterAction] {
        masterDownTimer = nil
        if masterStopped { return transition(to: .master, reason: .masterStopped, now: now) }
        if config.takeover == .manual { return requestTakeover() }
        return transition(to: .master, reason: .masterDown, now: now)
    }

    private mutating func requestTakeover() -> [RouterAction] {
        guard !takeoverPending else { return [] }
        takeoverPending = true
        return [.takeoverPending(true)]
    }

    private mutating func approveTakeover(now: Instant) -> [RouterAction] {
        guard state == .backup, takeoverPending else { return [] }
        return transition(to: .master, reason: .takeoverApproved, now: now)
    }

    // MARK: - Faults and priority

    private mutating func raiseFault(_ reason: String, linkDown: Bool, now: Instant) -> [RouterAction] {
        guard activeFaults.insert(reason).inserted else { return [] }
        switch state {
        case .initialize, .fault:
            return []
        case .backup:
            return transition(to: .fault, reason: .fault(reason), now: now)
        case .master:
            // Tell the Backups to take over after Skew_Time, if the link can still carry it.
            var actions: [RouterAction] = linkDown ? [] : [.sendAdvertisement(priority: ProtocolConstants.stopPriority)]
            // A fault during a shutdown release finishes the shutdown; the daemon waits for Initialize.
            let target: RouterState = release?.goal == .stop ? .initialize : .fault
            actions += transition(to: target, reason: .fault(reason), now: now)
            return actions
        }
    }

    private mutating func clearFault(_ reason: String, now: Instant) -> [RouterAction] {
        guard activeFaults.remove(reason) != nil, state == .fault, activeFaults.isEmpty else { return [] }
        if config.isAddressOwner && !handoverHold {
            return transition(to: .master, reason: .faultCleared, now: now)
        }
        masterAdvertInterval = config.advertInterval
        return transition(to: .backup, reason: .faultCleared, now: now)
    }

    private mutating func changePriority(to priority: UInt8, now: Instant) -> [RouterAction] {
        // The owner's priority is fixed (RFC 9568 §5.2.4); 0 is reserved for stopping (use a fault).
        guard !config.isAddressOwner else { return [] }
        let clamped = Router.clampBackup(Int(priority))
        guard clamped != effectivePriority else { return [] }
        effectivePriority = clamped
        guard state == .master, release == nil else { return [] }
        // Tell the Backups at once so a better one can preempt without waiting an interval.
        currentMasterPriority = clamped
        adverTimer = now + config.advertInterval.duration
        return [.sendAdvertisement(priority: clamped)]
    }

    // MARK: - Graceful release (shutdown, handover)

    private mutating func shutdown(now: Instant) -> [RouterAction] {
        switch state {
        case .initialize:
            return []
        case .backup, .fault:
            return transition(to: .initialize, reason: .shutdown, now: now)
        case .master:
            if var current = release {
                // Already stepping aside: a handover in progress becomes a shutdown.
                current.goal = .stop
                release = current
                return []
            }
            return beginRelease(goal: .stop, now: now)
        }
    }

    private mutating func beginHandover(holdUntil: Instant?, now: Instant) -> [RouterAction] {
        guard state == .master, release == nil else { return [] }
        handoverHold = true
        handoverHoldUntil = holdUntil
        return beginRelease(goal: .handover, now: now)
    }

    /// Advertise priority 0 now and every Advertisement_Interval (covers loss), keep the addresses.
    private mutating func beginRelease(goal: ReleaseGoal, now: Instant) -> [RouterAction] {
        release = Release(goal: goal, deadline: now + releaseTimeout, newMasterInterval: config.advertInterval)
        adverTimer = now + config.advertInterval.duration
        return [.sendAdvertisement(priority: ProtocolConstants.stopPriority)]
    }

    private mutating func completeRelease(now: Instant) -> [RouterAction] {
        guard let current = release, let newMaster = current.newMaster else { return [] }
        let reason = TransitionReason.handoverComplete(newMaster: newMaster)
        switch current.goal {
        case .stop:
            return transition(to: .initialize, reason: reason, now: now)
        case .handover:
            masterAdvertInterval = current.newMasterInterval
            currentMaster = newMaster
            currentMasterPriority = current.newMasterPriority
            return transition(to: .backup, reason: reason, now: now)
        }
    }

    private mutating func releaseTimedOut(now: Instant) -> [RouterAction] {
        guard let current = release else { return [] }
        switch current.goal {
        case .stop:
            return transition(to: .initialize, reason: .handoverTimedOut, now: now)
        case .handover:
            // Nobody took over: stay Master and advertise normally again.
            return resumeMastership(announce: false, now: now)
        }
    }

    private mutating func cancelHandover(now: Instant) -> [RouterAction] {
        if state == .master, let current = release, current.goal == .handover {
            // Someone may already have announced the addresses: take them back visibly.
            return resumeMastership(announce: current.newMaster != nil, now: now)
        }
        handoverHold = false
        handoverHoldUntil = nil
        return []
    }

    private mutating func resumeMastership(announce: Bool, now: Instant) -> [RouterAction] {
        release = nil
        handoverHold = false
        handoverHoldUntil = nil
        currentMaster = config.primaryAddress
        currentMasterPriority = effectivePriority
        adverTimer = now + config.advertInterval.duration
        return [.sendAdvertisement(priority: effectivePriority)] + (announce ? [.announce] : [])
    }

    // MARK: - Reconfiguration

    /// Applies a new configuration with the least disruption.
    /// - Same VRID, version and family: updated in place, no state change. Tracking's offset from the
    ///   configured priority is kept. A Master whose priority, interval or addresses changed
    ///   advertises at once (and announces when the addresses changed) and re-arms Adver_Timer.
    ///   Address-list changes are not turned into add/remove actions: `.addAddresses` and
    ///   `.removeAddresses` always mean "the addresses of `config`", so while `holdsAddresses` the
    ///   caller applies the difference between the old and new lists itself, then performs the
    ///   returned actions.
    /// - Manual → auto takeover while a takeover is pending: the takeover happens now.
    /// - Different VRID, version or family: a different virtual router. The old one stops abruptly
    ///   (addresses removed, → Initialize) and, if it was running, the new one starts.
    public mutating func reconfigure(_ newConfig: RouterConfig, now: Instant) -> [RouterAction] {
        let old = config
        if newConfig.vrid != old.vrid || newConfig.version != old.version || newConfig.family != old.family {
            let wasRunning = state != .initialize
            var actions = wasRunning ? transition(to: .initialize, reason: .shutdown, now: now) : []
            config = newConfig
            effectivePriority = Router.basePriority(newConfig)
            masterAdvertInterval = newConfig.advertInterval
            if wasRunning { actions += start(now: now) }
            return actions
        }
        let trackingOffset = old.isAddressOwner ? 0 : Int(effectivePriority) - Int(old.priority)
        config = newConfig
        let newPriority = newConfig.isAddressOwner ? ProtocolConstants.ownerPriority
                                                   : Router.clampBackup(Int(newConfig.priority) + trackingOffset)
        let priorityChanged = newPriority != effectivePriority
        let intervalChanged = newConfig.advertInterval != old.advertInterval
        let addressesChanged = newConfig.addresses != old.addresses
        effectivePriority = newPriority

        switch state {
        case .initialize, .fault:
            masterAdvertInterval = newConfig.advertInterval
            return []
        case .backup:
            if newConfig.version == .v2 || currentMaster == nil { masterAdvertInterval = newConfig.advertInterval }
            if takeoverPending && newConfig.takeover == .auto {
                return transition(to: .master, reason: .takeoverApproved, now: now)
            }
            return []
        case .master:
            masterAdvertInterval = newConfig.advertInterval
            currentMaster = newConfig.primaryAddress
            guard release == nil else { return [] }
            currentMasterPriority = newPriority
            guard priorityChanged || intervalChanged || addressesChanged else { return [] }
            adverTimer = now + newConfig.advertInterval.duration
            return (addressesChanged ? [.announce] : []) + [.sendAdvertisement(priority: newPriority)]
        }
    }

    // MARK: - The one place where the state changes

    /// Changes state, performs the exit and entry duties of the states, and records the change.
    /// Entering Master: `.addAddresses` (unless held), `.announce`, `.sendAdvertisement`, Adver_Timer.
    /// Entering Backup: addresses removed if held, Master_Down_Timer = Master_Down_Interval (callers
    /// set `masterAdvertInterval` first). Entering Fault or Initialize: addresses removed, nothing
    /// scheduled (Initialize also ends any handover hold).
    private mutating func transition(to new: RouterState, reason: TransitionReason, now: Instant) -> [RouterAction] {
        let old = state
        var actions: [RouterAction] = []
        release = nil
        lowerMasterSeenAt = nil
        masterStopped = false
        switch new {
        case .master:
            if !holdsAddresses {
                holdsAddresses = true
                actions.append(.addAddresses)
            }
            actions += [.announce, .sendAdvertisement(priority: effectivePriority)]
            adverTimer = now + config.advertInterval.duration
            masterDownTimer = nil
            masterAdvertInterval = config.advertInterval
            currentMaster = config.primaryAddress
            currentMasterPriority = effectivePriority
            handoverHold = false
            handoverHoldUntil = nil
        case .backup:
            actions += releaseAddresses()
            adverTimer = nil
            masterDownTimer = now + masterDownInterval
        case .fault, .initialize:
            actions += releaseAddresses()
            adverTimer = nil
            masterDownTimer = nil
            currentMaster = nil
            currentMasterPriority = nil
            if new == .initialize {
                handoverHold = false
                handoverHoldUntil = nil
            }
        }
        state = new
        transitionCount += 1
        lastTransition = RouterTransition(at: now, from: old, to: new, reason: reason)
        actions.append(.stateChanged(from: old, to: new, reason: reason))
        if takeoverPending && new != .backup {
            takeoverPending = false
            actions.append(.takeoverPending(false))
        }
        return actions
    }

    private mutating func releaseAddresses() -> [RouterAction] {
        guard holdsAddresses else { return [] }
        holdsAddresses = false
        return [.removeAddresses]
    }
}
