#!/usr/bin/env python3
"""VRRP packet injector for vipd's end-to-end tests (run inside a lab namespace with `ip netns exec`).

Builds one VRRP message field by field, so that each RFC check can be violated on its own, and sends
it `--repeat` times from a raw IP socket (protocol 112) bound to `--src` on `--ifname`. The kernel
builds the IP header (and fragments oversize datagrams); TTL / Hop Limit come from --ttl.

Only for the namespace lab: documentation addresses, nothing routed.
"""
import argparse
import hashlib
import hmac
import ipaddress
import select
import socket
import struct
import sys
import time

VRRP_PROTO = 112


def internet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo_header(src, dst, length: int) -> bytes:
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, VRRP_PROTO, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, VRRP_PROTO)


def build(args, src, dst) -> bytes:
    addrs = [ipaddress.ip_address(a) for a in args.addr]
    count = len(addrs) if args.count is None else args.count
    first = ((args.version & 0x0F) << 4) | (args.type & 0x0F)
    if args.version == 2:
        auth_type = args.auth_type if args.auth_type is not None else (1 if args.auth else 0)
        interval = struct.pack("!BB", auth_type, args.interval & 0xFF)
    else:
        interval = struct.pack("!H", args.interval & 0x0FFF)
    body = struct.pack("!BBBB", first, args.vrid, args.priority, count) + interval + b"\0\0"
    body += b"".join(a.packed for a in addrs)
    if args.version == 2:
        body += args.auth.encode().ljust(8, b"\0")[:8]
    if args.pad:
        body += b"\0" * args.pad
    if args.hmac_key is not None:
        # keepalived's auth_hmac trailer (docs/design.md): ext_type 1, key id, 2 zero bytes, the
        # sequence (UTC seconds, 1/65536 fraction, counter), then HMAC-SHA256/128 over a 20-byte
        # pseudo-header, the message with a zero checksum, the trailer head and 16 zero bytes.
        now = time.time() + args.seq_offset
        head = struct.pack("!BBHIHH", 1, args.key_id, 0, int(now) & 0xFFFFFFFF,
                           int((now % 1) * 65536) & 0xFFFF, args.seq_counter)
        pseudo = struct.pack("!BBBB", src.version, args.version, args.vrid, 0) + src.packed.ljust(16, b"\0")
        mac = hmac.new(bytes.fromhex(args.hmac_key), pseudo + body + head + b"\0" * 16, hashlib.sha256).digest()[:16]
        trailer = head + mac
    else:
        trailer = b""
    if args.checksum == "pseudo":
        total = internet_checksum(pseudo_header(src, dst, len(body)) + body)
    elif args.checksum == "group-pseudo":
        group = ipaddress.ip_address("224.0.0.18" if src.version == 4 else "ff02::12")
        total = internet_checksum(pseudo_header(src, group, len(body)) + body)
    elif args.checksum == "plain":
        total = internet_checksum(body)
    elif args.checksum == "auto":
        # What a correct sender does: v2 and v3/IPv4 per RFC 3768 / keepalived, v3/IPv6 RFC 9568.
        total = internet_checksum(body) if args.version == 2 else \
            internet_checksum(pseudo_header(src, dst, len(body)) + body)
    else:  # "bad": a correct checksum, flipped
        good = internet_checksum(body) if args.version == 2 else \
            internet_checksum(pseudo_header(src, dst, len(body)) + body)
        total = good ^ 0x5A5A
    body = body[:6] + struct.pack("!H", total) + body[8:] + trailer
    if args.truncate is not None:
        body = body[:args.truncate]
    return body


def capture(args, src, dst) -> int:
    """Prints the VRRP payloads of --capture packets whose source is --src (IPv4, joined to --dst)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, VRRP_PROTO)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.ifname.encode())
    if dst.is_multicast:
        # struct ip_mreqn: the group, any local address, the interface's index (no route needed).
        mreqn = dst.packed + b"\0\0\0\0" + struct.pack("=i", socket.if_nametoindex(args.ifname))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    deadline = time.time() + args.timeout
    seen = 0
    while seen < args.capture and time.time() < deadline:
        ready, _, _ = select.select([s], [], [], max(0.0, deadline - time.time()))
        if not ready:
            break
        packet, (sender, _) = s.recvfrom(65535)
        if ipaddress.ip_address(sender) != src:
            continue
        header = (packet[0] & 0x0F) * 4
        print(packet[header:].hex(), flush=True)
        seen += 1
    return 0 if seen == args.capture else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ifname", default="eth0")
    p.add_argument("--src", required=True, help="our address on ifname (IPv6: link-local or global)")
    p.add_argument("--dst", help="default: the VRRP group of the family")
    p.add_argument("--ttl", type=int, default=255)
    p.add_argument("--version", type=int, default=3)
    p.add_argument("--type", type=int, default=1)
    p.add_argument("--vrid", type=int, default=51)
    p.add_argument("--priority", type=int, default=100)
    p.add_argument("--count", type=int, help="Count IPvX Addr field (default: number of --addr)")
    p.add_argument("--interval", type=int, default=100, help="centiseconds (v3) or seconds (v2)")
    p.add_argument("--addr", action="append", default=[])
    p.add_argument("--auth", default="", help="v2 simple password (auth type 1 when given)")
    p.add_argument("--auth-type", type=int)
    p.add_argument("--checksum", choices=["auto", "bad", "pseudo", "plain", "group-pseudo"], default="auto")
    p.add_argument("--truncate", type=int, help="cut the message to this many bytes after the checksum")
    p.add_argument("--pad", type=int, default=0, help="zero bytes appended before the checksum")
    p.add_argument("--hmac-key", help="append an auth_hmac trailer signed with this key (hex); IPv4 checksum rules")
    p.add_argument("--key-id", type=int, default=1)
    p.add_argument("--seq-offset", type=float, default=0, help="seconds added to the clock for the sequence")
    p.add_argument("--seq-counter", type=int, default=0)
    p.add_argument("--payload", help="send these bytes (hex) as the VRRP message, as they are (a replay)")
    p.add_argument("--capture", type=int, default=0,
                   help="instead of sending: print the payloads (hex) of this many VRRP packets from --src")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--gap-ms", type=float, default=20)
    p.add_argument("--spoof", action="store_true",
                   help="IPv4: write the IP header ourselves (IP_HDRINCL), so --src may be any address "
                        "(a forged peer), not only one of ours")
    args = p.parse_args()

    src = ipaddress.ip_address(args.src)
    dst = ipaddress.ip_address(args.dst or ("224.0.0.18" if src.version == 4 else "ff02::12"))
    if args.capture:
        return capture(args, src, dst)
    payload = bytes.fromhex(args.payload) if args.payload else build(args, src, dst)
    ifindex = socket.if_nametoindex(args.ifname)

    if args.spoof:
        if src.version != 4:
            p.error("--spoof is IPv4 only")
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # implies IP_HDRINCL
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.ifname.encode())
        # Version 4, IHL 5, no options; the kernel fills the header checksum and an ID of 0.
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, args.ttl, VRRP_PROTO, 0,
                             src.packed, dst.packed)
        payload = header + payload
        target = (str(dst), 0)
    elif src.version == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, VRRP_PROTO)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.ifname.encode())
        s.bind((str(src), 0))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, args.ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, args.ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, src.packed)
        target = (str(dst), 0)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, VRRP_PROTO)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.ifname.encode())
        scope = ifindex if src.is_link_local else 0
        s.bind((str(src), 0, 0, scope))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, args.ttl)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, args.ttl)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        target = (str(dst), 0, 0, ifindex if (dst.is_link_local or dst.is_multicast) else 0)
    for i in range(args.repeat):
        s.sendto(payload, target)
        if i + 1 < args.repeat:
            time.sleep(args.gap_ms / 1000)
    print("sent %d x %d bytes %s -> %s" % (args.repeat, len(payload), src, dst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
