#!/usr/bin/env python3
"""Where a running daemon's resident memory is: its own binary's pages, by ELF section.

    sudo scripts/bench_rss_sections.py PID [BINARY]
    sudo scripts/bench_rss_sections.py --working-set SECONDS PID

Reads /proc/PID/maps and /proc/PID/pagemap and the section headers of BINARY (default: the
process's executable) with `readelf -SW`, and prints, for each section of the binary, how much of
it is resident in that process, plus the process's RssAnon and RssFile from /proc/PID/status.

--working-set is an experiment, not something vipd does: it asks the kernel to page out every
file-backed page the process maps (process_madvise MADV_PAGEOUT, Linux >= 5.10), waits SECONDS and
prints the RSS again. What came back is what the running process touches; the rest was touched
only before (start-up). Used for docs/benchmarks.md, "Footprint".
"""
import ctypes
import collections
import os
import re
import struct
import subprocess
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def working_set(seconds: float, pid: int) -> int:
    import time
    libc = ctypes.CDLL(None, use_errno=True)

    class IOVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    def rss() -> str:
        return " ".join(line.split(":", 1)[0] + " " + line.split(":", 1)[1].strip()
                        for line in open(f"/proc/{pid}/status") if line.startswith(("VmRSS", "RssAnon", "RssFile")))

    print("before:", rss())
    vectors = []
    for line in open(f"/proc/{pid}/maps"):
        parts = line.split()
        if len(parts) >= 6 and parts[5].startswith("/"):
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            vectors.append(IOVec(lo, hi - lo))
    pidfd = libc.syscall(434, pid, 0)                      # pidfd_open
    if pidfd < 0:
        print("pidfd_open:", os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    array = (IOVec * len(vectors))(*vectors)
    if libc.syscall(440, pidfd, array, len(vectors), 21, 0) < 0:   # process_madvise(MADV_PAGEOUT)
        print("process_madvise:", os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    time.sleep(seconds)
    print(f"{seconds:g} s after paging out its file pages:", rss())
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--working-set":
        return working_set(float(sys.argv[2]), int(sys.argv[3]))
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    pid = sys.argv[1]
    binary = os.path.realpath(sys.argv[2] if len(sys.argv) == 3 else f"/proc/{pid}/exe")
    maps = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == binary:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, int(parts[2], 16)))
    if not maps:
        print(f"{binary} is not mapped by process {pid}", file=sys.stderr)
        return 1
    load_base = min(lo - offset for lo, _, offset in maps)
    sections = []
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and int(m.group(2), 16) > 0:
            sections.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1)))
    resident = collections.Counter()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for lo, hi, _ in maps:
            pagemap.seek(lo // PAGE * 8)
            entries = pagemap.read((hi - lo) // PAGE * 8)
            for i in range(len(entries) // 8):
                (entry,) = struct.unpack_from("<Q", entries, i * 8)
                if not (entry >> 63) & 1:
                    continue
                address = lo + i * PAGE - load_base
                # A page shared by two sections counts for the first one that starts in it or covers it.
                name = next((n for a, s, n in sections if a <= address < a + s or address <= a < address + PAGE), "(between sections)")
                resident[name] += 1
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if line.startswith(("VmRSS", "RssAnon", "RssFile")))
    print(" ".join(f"{k} {v.strip()}" for k, v in status.items()))
    print(f"{binary}: {sum(resident.values()) * PAGE / 2**20:.2f} MiB resident")
    sizes = {n: s for _, s, n in sections}
    for name, pages in resident.most_common():
        print(f"  {name:30s} {pages * PAGE / 2**20:7.2f} MiB of {sizes.get(name, 0) / 2**20:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
