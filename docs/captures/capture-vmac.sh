#!/bin/bash
# Reproduces a capture used by docs/linux-plane.md (run as root; files go to $OUT).
OUT=${OUT:-/tmp/vipd-capture}; mkdir -p "$OUT"
T=kw$$
cleanup() { [ -n "${TP:-}" ] && kill $TP 2>/dev/null; [ -n "${KP:-}" ] && kill $KP 2>/dev/null; for i in $(seq 50); do kill -0 $KP 2>/dev/null || break; sleep 0.1; done; ip netns del $T-a 2>/dev/null; ip netns del $T-b 2>/dev/null; }
trap cleanup EXIT
ip netns add $T-a; ip netns add $T-b
ip link add va netns $T-a type veth peer name vb netns $T-b
ip -n $T-a link set va address 02:00:00:00:00:0a
ip -n $T-a addr add 192.0.2.1/24 dev va; ip -n $T-a link set va up; ip -n $T-b link set vb up
cat > $OUT/kw.conf <<C
vrrp_instance V4 { state MASTER
 interface va
 use_vmac
 virtual_router_id 51
 priority 200
 advert_int 1
 virtual_ipaddress { 192.0.2.100/24 }
}
vrrp_instance V6 { state MASTER
 interface va
 use_vmac
 virtual_router_id 52
 priority 200
 advert_int 1
 virtual_ipaddress { 2001:db8::100/64 }
}
C
for i in $(seq 50); do ip -n $T-a -6 addr show dev va | grep -q 'fe80.*scope link' && ! ip -n $T-a -6 addr show dev va | grep -q tentative && break; sleep 0.1; done
ip netns exec $T-b tcpdump -i vb -w $OUT/kw.pcap -U 'arp or icmp6 or proto 112' 2>$OUT/tw.err & TP=$!
for i in $(seq 50); do grep -q listening $OUT/tw.err && break; sleep 0.1; done
ip netns exec $T-a keepalived -n -l -D -f $OUT/kw.conf -p $OUT/kw1.pid -r $OUT/kw2.pid -c $OUT/kw3.pid > $OUT/kw.log 2>&1 & KP=$!
for i in $(seq 100); do ip -n $T-a addr show | grep -q 2001:db8::100 && ip -n $T-a addr show | grep -q 192.0.2.100 && break; sleep 0.1; done
for i in $(seq 100); do [ $(tcpdump -r $OUT/kw.pcap 2>/dev/null | grep -c -E 'ARP|neighbor adv') -ge 10 ] && break; sleep 0.1; done
ip -n $T-a -d link show > $OUT/links6.txt
ip -n $T-a addr show > $OUT/addrs6.txt
ip netns exec $T-a bash -c 'for f in /proc/sys/net/ipv6/conf/vrrp*/{accept_dad,disable_ipv6,accept_ra,autoconf} /proc/sys/net/ipv4/conf/vrrp*/{arp_ignore,accept_local,rp_filter,arp_filter}; do echo "$f $(cat $f)"; done' > $OUT/sys6.txt 2>&1
