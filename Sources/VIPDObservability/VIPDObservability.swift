// VIPDObservability: how vipd is watched and run.
//
// Owns: the Prometheus metrics (`VIPDMetrics`), the `/metrics` HTTP endpoint (`MetricsHTTPServer`,
// its own thread), the sd_notify(3) protocol (`SystemdNotifier`) and the stderr log handler that
// speaks journald's priority prefix (`VIPDLogging`, `StderrLogHandler`, `LogFormat`).
//
// Must not: block the daemon's event-loop thread (every call from it is a lock-protected update or
// a non-blocking send), hold router state, or depend on anything but the VRRP value types and
// VIPDSystem (system calls, clocks, threads).
// docs/observability.md lists every metric and message; docs/systemd.md explains the units.
