#!/usr/bin/env python3
"""Fixed-rate ICMP echo prober for scripts/bench: sends one echo request every INTERVAL seconds
whether or not the previous ones were answered, and prints each reply as `ping -D` does:

    [EPOCH.MICROS] 64 bytes from ADDR: icmp_seq=N ttl=T time=R ms

Reply times are the kernel's receive timestamps (SO_TIMESTAMPNS), so this process's own scheduling
delays do not move them. Why not iputils ping: with -i below the scheduler tick and a probe
outstanding, ping waits up to MIN_INTERVAL_MS (10 ms) for the reply before sending the next one, so
during an outage it probes only every ~10 ms and the end of the outage is seen up to 10 ms late.

Usage (as root, inside the client namespace): bench_probe.py ADDR [INTERVAL_SECONDS]
Stops on SIGINT/SIGTERM and then prints `# sent N skipped_slots M`.
"""

import os
import select
import signal
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
PAYLOAD = 56                       # like ping's default: 64 bytes of ICMP


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def read_replies(sock, ident, sent_at, out):
    """Prints every echo reply queued on the socket now."""
    while True:
        try:
            data, anc, _, _ = sock.recvmsg(2048, 256)
        except (BlockingIOError, InterruptedError):
            break
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 8:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ != 0 or rid != ident:
            continue
        ts = None
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                ts = sec + nsec / 1e9
        if ts is None:
            ts = time.time()
        sent = sent_at.pop(rseq, None)
        rtt = f" time={(time.monotonic() - sent) * 1e3:.3f} ms" if sent is not None else ""
        src = socket.inet_ntoa(data[12:16])
        out.write(f"[{ts:.6f}] {len(data) - ihl} bytes from {src}: icmp_seq={rseq} ttl={data[8]}{rtt}\n")


def main():
    addr = sys.argv[1]
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.001
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    out = sys.stdout
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    out.write(f"PROBE {addr} every {interval * 1e3:g} ms (fixed rate)\n")
    sent_at = {}                   # seq16 -> monotonic send time, for the RTT column
    seq = 0
    skipped = 0
    start = time.monotonic()
    slot = 0
    last_flush = start
    while not stop:
        now = time.monotonic()
        due = start + slot * interval
        if now >= due:
            # One request per slot; a slot missed by more than one interval (this process was not
            # scheduled) is skipped rather than sent late in a burst, and counted.
            late_slots = int((now - due) / interval)
            if late_slots:
                skipped += late_slots
                slot += late_slots
            seq16 = seq & 0xFFFF
            body = struct.pack("!d", time.time()) + bytes(PAYLOAD - 8)
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq16)
            pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + body), ident, seq16) + body
            try:
                sock.sendto(pkt, (addr, 0))
                sent_at[seq16] = time.monotonic()
            except OSError:
                pass           # no route/neighbour yet: the slot counts as sent and lost
            seq += 1
            slot += 1
            continue
        try:
            select.select([sock], [], [], max(0.0, due - now))
        except InterruptedError:
            continue
        read_replies(sock, ident, sent_at, out)
        if len(sent_at) > 4096:
            for k in list(sent_at)[:2048]:
                del sent_at[k]
        if now - last_flush > 0.02:
            out.flush()
            last_flush = now
    # The last requests' replies are still on their way when the stop comes: wait for them (50 ms,
    # far above the lab's round trip) so that they do not count as lost.
    grace_end = time.monotonic() + 0.05
    while (left := grace_end - time.monotonic()) > 0:
        try:
            select.select([sock], [], [], left)
        except InterruptedError:
            pass
        read_replies(sock, ident, sent_at, out)
    out.write(f"# sent {seq} skipped_slots {skipped}\n")
    out.flush()


if __name__ == "__main__":
    main()
