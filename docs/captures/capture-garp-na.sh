#!/bin/bash
# Reproduces a capture used by docs/linux-plane.md (run as root; files go to $OUT).
OUT=${OUT:-/tmp/vipd-capture}; mkdir -p "$OUT"
set -u
T=kc$$
cleanup() { [ -n "${KP:-}" ] && kill $KP 2>/dev/null; [ -n "${TP:-}" ] && kill $TP 2>/dev/null; for i in $(seq 50); do kill -0 ${KP:-0} 2>/dev/null || break; sleep 0.1; done; ip netns del $T-a 2>/dev/null; ip netns del $T-b 2>/dev/null; }
trap cleanup EXIT
ip netns add $T-a; ip netns add $T-b
ip link add va netns $T-a type veth peer name vb netns $T-b
ip -n $T-a link set va address 02:00:00:00:00:0a
ip -n $T-b link set vb address 02:00:00:00:00:0b
ip -n $T-a addr add 192.0.2.1/24 dev va; ip -n $T-a addr add 2001:db8::1/64 dev va nodad
ip -n $T-b addr add 192.0.2.2/24 dev vb
ip -n $T-a link set va up; ip -n $T-b link set vb up; ip -n $T-a link set lo up
cat > $OUT/ka.conf <<C
global_defs { router_id kc }
vrrp_instance V4 { state MASTER
 interface va
 virtual_router_id 51
 priority 200
 advert_int 1
 virtual_ipaddress { 192.0.2.100/24 }
}
vrrp_instance V6 { state MASTER
 interface va
 virtual_router_id 52
 priority 200
 advert_int 1
 virtual_ipaddress { 2001:db8::100/64 }
}
C
ip netns exec $T-b tcpdump -i vb -w $OUT/ka.pcap -U 'arp or icmp6' 2>$OUT/td.err & TP=$!
for i in $(seq 50); do grep -q listening $OUT/td.err && break; sleep 0.1; done
# wait for link-local
for i in $(seq 50); do ip -n $T-a -6 addr show dev va | grep -q 'fe80.*scope link' && ! ip -n $T-a -6 addr show dev va | grep -q tentative && break; sleep 0.1; done
ip netns exec $T-a keepalived -n -l -D -f $OUT/ka.conf -p $OUT/ka.pid -r $OUT/kav.pid -c $OUT/kac.pid > $OUT/ka.log 2>&1 & KP=$!
for i in $(seq 120); do [ $(tcpdump -r $OUT/ka.pcap 2>/dev/null | grep -c -E 'ARP|neighbor adv') -ge 20 ] && break; sleep 0.1; done
kill $KP; wait $KP 2>/dev/null; KP=
