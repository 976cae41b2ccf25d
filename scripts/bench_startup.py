#!/usr/bin/env python3
"""Start-up benchmark (scenario `startup` of scripts/bench): vipd against keepalived, same run.

How long after the exec of the daemon its first VRRP advertisement is on the wire, for
  owner-1     an address owner (priority 255: Master at once), 1 instance
  owner-255   the same with idle-255's 255 instances (VRIDs 1-255, one /32 each, 100 ms adverts);
              also the time until every VRID has sent its first advert
  backup-1    a non-owner (priority 100) alone on the link, 1 instance: it waits
              Master_Down_Interval (3 x 100 ms + Skew_Time = 360.9 ms) before it advertises
  backup-255  the same with the 255 instances
plus the RSS of the daemon (all its processes) as soon as it holds every VIP, and the binary sizes.

Method (docs/benchmarks.md, "Start-up time"): the daemon is started exactly as bench.py starts it
(`ip netns exec NS <daemon command>`, keepalived with -G), with one step in between: a bash that
writes $EPOCHREALTIME (CLOCK_REALTIME, microseconds) to a file and then `exec`s the daemon in the
same process. The adverts are captured on the switch's bridge by tcpdump with nanosecond
timestamps, which the kernel also takes from CLOCK_REALTIME when the frame enters the bridge port.
Each trial builds its own lab (one router) and takes it down again.

Run through scripts/bench (BENCH_SCENARIOS=startup); standalone:
  sudo python3 scripts/bench_startup.py --reps 5 --tag TAG --vipd .build/release/vipd
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (bench.py: the lab, both daemons' configurations and command lines)

CASES = [
    # key, priority, instances
    ("owner-1", 255, 1),
    ("owner-255", 255, bench.IDLE_INSTANCES),
    ("backup-1", 100, 1),
    ("backup-255", 100, bench.IDLE_INSTANCES),
]
INTERVAL_MS = bench.IDLE_INTERVAL_MS
ROUTER = 1                       # the lab's r1; bench.py's generators give it priority 200, rewritten


def instances(count):
    if count == 1:
        return [bench.Instance(bench.VRID, bench.VIP, bench.VIP_PREFIX)]
    return bench.idle_instances()


class Stamped:
    """Mixin for bench.py's Vipd / Keepalived: the configured priority replaced, and the command run
    through a bash that records the exec instant (same pid: `ip netns exec` and bash both exec)."""
    priority = 100
    stamp_path = ""

    def write_config(self):
        super().write_config()
        path = self.config_path()
        with open(path) as f:
            text = f.read()
        # Both generators write the priority as "priority: N" (vipd) or "priority N" (keepalived).
        text, n = re.subn(r"(\bpriority:?) \d+\b", rf"\g<1> {self.priority}", text)
        if n != len(self.instances):
            raise bench.TrialError(f"{path}: {n} priorities rewritten for {len(self.instances)} instances")
        text = self.adjust(text)
        with open(path, "w") as f:
            f.write(text)

    def command(self):
        return ["bash", "-c", 'printf "%s\\n" "$EPOCHREALTIME" > "$0"; exec "$@"', self.stamp_path] \
            + super().command()


    def adjust(self, text):
        return text


class StampedVipd(Stamped, bench.Vipd):
    pass


class StampedKeepalived(Stamped, bench.Keepalived):
    def adjust(self, text):
        # An owner is written `state MASTER` for keepalived: with bench.py's `state BACKUP` keepalived
        # 2.2.7 starts an owner in Backup and waits for a receive timeout (3 intervals) first.
        return text.replace("state BACKUP", "state MASTER") if self.priority == 255 else text


CLASSES = {"vipd": StampedVipd, "keepalived": StampedKeepalived}


class Run:
    """What bench.py's daemon classes expect of their `bench`: args, vipd, procs."""

    def __init__(self, args):
        self.args = args
        self.vipd = args.vipd
        self.lab = bench.Lab(args.tag)
        self.procs = bench.Processes(self.lab.piddir)
        self.results = {key: {d: [] for d in bench.DAEMONS} for key, _, _ in CASES}

    def lab_up(self):
        bench.run([bench.LAB, "up", "--tag", self.lab.tag, "--routers", "1"])
        self.lab.is_up = True

    def start_capture(self, workdir):
        pcap = os.path.join(workdir, "switch.pcap")
        err = os.path.join(workdir, "tcpdump.err")
        self.procs.start("tcpdump", ["ip", "netns", "exec", self.lab.sw, "tcpdump", "-i", "br0", "-n", "-U",
                                     "-B", "8192", "--time-stamp-precision=nano", "-w", pcap,
                                     "arp or ip proto 112"], os.devnull, err)

        def listening():
            with open(err, errors="replace") as f:
                return "listening on" in f.read()
        if not bench.wait_until(10, listening, every=0.01):
            raise bench.TrialError("tcpdump did not start")
        return pcap

    def trial(self, key, priority, count, daemon, rep):
        workdir = os.path.join(self.args.outdir, "raw", f"{key}-{daemon}-{rep}")
        os.makedirs(workdir, exist_ok=True)
        inst = instances(count)
        vips = [i.placed for i in inst]
        mdi = bench.master_down_interval_s(priority, INTERVAL_MS / 1000.0) if priority < 255 else 0.0
        d = None
        try:
            self.lab_up()
            pcap = self.start_capture(workdir)
            d = CLASSES[daemon](self, self.lab, ROUTER, workdir, inst, INTERVAL_MS)
            d.priority = priority
            d.stamp_path = os.path.join(workdir, "exec-stamp")
            t_popen = time.time()
            d.start()
            # RSS as soon as every VIP is held (every instance Master), polled every 20 ms.
            if not bench.wait_until(20 + mdi, lambda: not d.alive() or self.lab.holds(ROUTER, vips), every=0.02) \
                    or not d.alive():
                raise bench.TrialError(f"{daemon} did not take every VIP: {d.log_text()[-2000:]}")
            t_holds = time.time()
            pids = d.pids()
            rss = bench.rss_kib(pids)
            # Every VRID's first advert is on the wire well within a second of the last VIP.
            time.sleep(1.0)
        finally:
            self.procs.stop("tcpdump", signal.SIGINT, timeout=3.0)
            if d is not None:
                d.stop()
            self.procs.stop_all()
            self.lab.down()
        try:
            with open(d.stamp_path) as f:
                t_exec = float(f.read().strip())
        except (OSError, ValueError):
            raise bench.TrialError("no exec stamp")
        adverts, arps = bench.parse_pcap(pcap)
        mine = [a for a in adverts if a["src_ip"] == bench.ROUTER_IP[ROUTER] and a["priority"] > 0
                and a["t"] >= t_exec]
        if not mine:
            raise bench.TrialError("no advertisement on the wire")
        first = {}
        for a in mine:
            first.setdefault(a["vrid"], a["t"])
        wanted = {i.vrid for i in inst}
        res = {"rep": rep, "processes": len(pids), "rss_mib": rss / 1024.0,
               "popen_to_exec_ms": (t_exec - t_popen) * 1e3,
               "exec_to_first_advert_ms": (mine[0]["t"] - t_exec) * 1e3,
               "first_advert_priority": mine[0]["priority"],
               "vrids_advertised": len(set(first) & wanted),
               "exec_to_holds_polled_ms": (t_holds - t_exec) * 1e3}
        if set(first) >= wanted:
            res["exec_to_all_adverts_ms"] = (max(first[v] for v in wanted) - t_exec) * 1e3
        if mdi:
            res["mdi_ms"] = mdi * 1e3
            res["overhead_ms"] = res["exec_to_first_advert_ms"] - mdi * 1e3
        mac = router_mac(adverts)
        garps = [a for a in arps if a["src_mac"] == mac and a["spa"] == a["tpa"] and a["t"] >= t_exec]
        if garps:
            res["exec_to_first_garp_ms"] = (garps[0]["t"] - t_exec) * 1e3
        if not self.args.keep_raw:
            bench.gzip_file(pcap)
        return res

    def run(self):
        for rep in range(1, self.args.reps + 1):
            for key, priority, count in CASES:
                if key not in self.args.cases:
                    continue
                for daemon in self.args.daemons:        # alternating: vipd, keepalived, vipd, ...
                    bench.log(f"startup rep {rep}/{self.args.reps} {key} {daemon}")
                    try:
                        res = self.trial(key, priority, count, daemon, rep)
                    except bench.TrialError as e:
                        bench.log(f"  trial failed: {e}")
                        res = {"rep": rep, "error": str(e)[:2000]}
                    self.results[key][daemon].append(res)
                    bench.log("  " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in res.items()))


def router_mac(adverts):
    """The router's MAC: the source of its adverts (r1 is the only sender of adverts in the lab)."""
    srcs = {a["src_mac"] for a in adverts if a["src_ip"] == bench.ROUTER_IP[ROUTER]}
    return srcs.pop() if len(srcs) == 1 else None


def binary_sizes(vipd):
    out = {"vipd_bytes": os.path.getsize(vipd)}
    if shutil.which("strip"):
        with tempfile.TemporaryDirectory() as tmp:
            stripped = os.path.join(tmp, "vipd")
            bench.run(["strip", "--strip-all", "-o", stripped, vipd])
            out["vipd_stripped_bytes"] = os.path.getsize(stripped)
    ka = shutil.which("keepalived")
    if ka:
        out["keepalived_bytes"] = os.path.getsize(os.path.realpath(ka))
        libs = bench.run(["ldd", ka], check=False)
        total = 0
        for m in re.finditer(r"=> (/\S+)", libs):
            try:
                total += os.path.getsize(os.path.realpath(m.group(1)))
            except OSError:
                pass
        out["keepalived_libraries_bytes"] = total
    return out


def figures():
    """(case, field, label, unit) of the report's rows."""
    out = []
    for key, priority, count in CASES:
        who = "owner" if priority == 255 else "non-owner alone"
        n = "1 instance" if count == 1 else f"{count} instances"
        out.append((key, "exec_to_first_advert_ms", f"{who}, {n}: exec → first advert", "ms"))
        if priority < 255:
            mdi = bench.master_down_interval_s(priority, INTERVAL_MS / 1000.0) * 1e3
            out.append((key, "overhead_ms", f"  minus Master_Down_Interval ({mdi:.2f} ms)", "ms"))
        if count > 1:
            out.append((key, "exec_to_all_adverts_ms", "  exec → every VRID's first advert", "ms"))
        out.append((key, "exec_to_first_garp_ms", "  exec → first gratuitous ARP", "ms"))
        out.append((key, "rss_mib", "  RSS on holding every VIP", "MiB"))
    return out


def summary(results):
    rows = []
    for case, field, label, unit in figures():
        row = {"case": case, "figure": field, "label": label, "unit": unit}
        for d in bench.DAEMONS:
            trials = results.get(case, {}).get(d, [])
            vals = [t[field] for t in trials if t.get(field) is not None and "error" not in t]
            row[d] = {"n": len(vals), "failed": sum(1 for t in trials if "error" in t), "values": vals,
                      "median": bench.median(vals), "min": min(vals) if vals else None,
                      "max": max(vals) if vals else None}
        rows.append(row)
    return rows


def render(rows):
    def cell(s):
        if s["median"] is None:
            return "—"
        return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"
    lines = ["| figure | unit | vipd median (min–max) | keepalived median (min–max) | n (vipd/ka) |",
             "|---|---|---|---|---|"]
    for r in rows:
        v, k = r["vipd"], r["keepalived"]
        n = f"{v['n']}/{k['n']}" + (f" ({v['failed']}/{k['failed']} failed)" if v["failed"] or k["failed"] else "")
        lines.append(f"| {r['label']} | {r['unit']} | {cell(v)} | {cell(k)} | {n} |")
    return "\n".join(lines)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--tag", required=True, help="lab tag (alphanumeric, ≤ 8 characters)")
    p.add_argument("--vipd", required=True, help="path of the vipd binary")
    p.add_argument("--outdir", default=None)
    p.add_argument("--cases", default=",".join(c[0] for c in CASES))
    p.add_argument("--daemons", default="vipd,keepalived", help="development runs: only these daemons")
    p.add_argument("--keepalived-syslog", action="store_true", default=os.environ.get("BENCH_KEEPALIVED_SYSLOG") == "1")
    p.add_argument("--keep-raw", action="store_true", default=os.environ.get("BENCH_KEEP_RAW") == "1")
    p.add_argument("--command", default=" ".join(sys.argv))
    a = p.parse_args()
    a.realtime = 0                  # bench.py's daemons read it; start-up is measured at normal priority
    a.auto_priority = 0             # likewise max_auto_priority (bench.py --auto-priority): not set
    a.cases = [c for c in a.cases.split(",") if c]
    bad = [c for c in a.cases if c not in {k for k, _, _ in CASES}]
    if bad:
        p.error(f"unknown cases {bad}")
    a.daemons = [d for d in bench.DAEMONS if d in a.daemons.split(",")]
    if a.reps < 1:
        p.error("--reps must be ≥ 1")
    return a


def main():
    now = datetime.datetime.now(datetime.timezone.utc)
    args = parse_args()
    # Results beside bench.py's: bench-results/<UTC start>-startup unless --outdir says otherwise.
    args.outdir = args.outdir or os.path.join(bench.ROOT, "bench-results", now.strftime("%Y%m%d-%H%M%S-startup"))
    if os.geteuid() != 0:
        sys.exit("scripts/bench_startup.py: needs root (network namespaces)")
    os.makedirs(args.outdir, exist_ok=True)
    started, env_start = now.isoformat(timespec="seconds"), bench.environment(args)
    r = Run(args)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        r.run()
    except KeyboardInterrupt:
        bench.log("interrupted: cleaning up; partial results follow")
    finally:
        r.procs.stop_all()
        r.lab.down()
    with open("/proc/loadavg") as f:
        load_end = f.read().split()[:3]
    rows = summary(r.results)
    sizes = binary_sizes(args.vipd)
    doc = {"started": started, "command": args.command, "reps": args.reps, "environment_start": env_start,
           "loadavg_end": load_end, "sizes": sizes, "summary": rows, "trials": r.results}
    with open(os.path.join(args.outdir, "results.json"), "w") as f:
        json.dump(doc, f, indent=2, default=str)
    mib = 1024 * 1024
    md = [f"# vipd vs keepalived start-up — {started}", "",
          f"Command: `{args.command}`  ",
          f"Repetitions: {args.reps} (alternating vipd, keepalived); 100 ms adverts; load average at start "
          f"{' '.join(env_start['loadavg'])}, at end {' '.join(load_end)}  ",
          f"vipd {env_start['vipd_commit']}{' (Sources modified)' if env_start['vipd_dirty'] else ''}; "
          f"{env_start['keepalived']}", "", render(rows), "",
          f"Binary: vipd {sizes['vipd_bytes'] / mib:.1f} MiB"
          + (f", stripped {sizes['vipd_stripped_bytes'] / mib:.1f} MiB" if "vipd_stripped_bytes" in sizes else "")
          + (f"; keepalived {sizes['keepalived_bytes'] / mib:.2f} MiB + shared libraries "
             f"{sizes['keepalived_libraries_bytes'] / mib:.1f} MiB (ldd)" if "keepalived_bytes" in sizes else ""), ""]
    with open(os.path.join(args.outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))
    bench.log(f"results: {args.outdir}/results.json, results.md")


if __name__ == "__main__":
    main()
