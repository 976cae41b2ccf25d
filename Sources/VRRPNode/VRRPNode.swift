// VRRPNode: everything one vipd node decides besides the protocol itself, pure like `VRRP` below
// it (no sockets, no clock, no Glibc, no logging). The daemon passes facts in — a received packet
// with its TTL and source, the interface's addresses, a tracked item's state, a check's result, an
// operator's request — and performs the returned values:
//   - Receive.swift           receive filtering (RFC 9568 §7.1, unicast peers, unicast TTL check)
//                             with typed drop reasons, and checksum-form following
//   - UnicastTTLCheck.swift   `unicast.ttl_check` and what "a connected peer" means
//   - Tracking.swift          weights, the 1...254 clamp (`Router.clampBackup`), weight 0 = fault,
//                             rise/fall counting
//   - SyncGroups.swift        sync-group penalty and fault propagation
//   - FaultReason.swift       why a router is in Fault, as an enum
//   - Control.swift           handover, cancellation and approval results as values
//   - DrainBeforeExpiry.swift read the socket before an expired Master_Down_Timer counts
// It must not do I/O or keep time: `now` is always passed in.
