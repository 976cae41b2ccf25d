/* The kernel's floor for a Master's idle cost (docs/benchmarks.md, "The send floor").
 *
 * Sends what a Master of N VRRPv3 instances sends — one advertisement per instance (VRID 1..N,
 * priority 200, one IPv4 address each: the VIPs of scripts/bench's idle-255) every interval — from
 * a raw socket like vipd's and keepalived's, with nothing else in user space, and prints the CPU it
 * used (utime + stime: the kernel's per-packet send path, charged to the sender, and this loop).
 *
 *   cc -O2 -o /tmp/send-floor scripts/bench_send_floor.c
 *   ip netns exec NS /tmp/send-floor eth0 SECONDS MODE [N [INTERVAL_MS]]
 *
 * MODE: spread  — one wakeup and one sendmsg per advert, adverts evenly spread over the interval
 *       burst   — one wakeup per interval, one sendmsg per advert
 *       mmsg    — one wakeup per interval, one sendmmsg for all N adverts (batches of 64)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXN 1024
#define BATCH 64

static uint16_t checksum(const uint8_t *pseudo, size_t plen, const uint8_t *msg, size_t mlen) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < plen; i += 2) sum += (pseudo[i] << 8) | pseudo[i + 1];
    for (size_t i = 0; i + 1 < mlen; i += 2) sum += (msg[i] << 8) | msg[i + 1];
    if (mlen & 1) sum += msg[mlen - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void sleep_until(struct timespec *t) {
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR) {}
}

static void advance(struct timespec *t, long ns) {
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) { t->tv_nsec -= 1000000000L; t->tv_sec++; }
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s IFACE SECONDS spread|burst|mmsg [N [INTERVAL_MS]]\n", argv[0]); return 2; }
    const char *ifname = argv[1];
    double seconds = atof(argv[2]);
    const char *mode = argv[3];
    int n = argc > 4 ? atoi(argv[4]) : 255;
    int interval_ms = argc > 5 ? atoi(argv[5]) : 100;
    if (n < 1 || n > 255 || interval_ms < 10) { fprintf(stderr, "N must be 1..255, INTERVAL_MS >= 10\n"); return 2; }

    int fd = socket(AF_INET, SOCK_RAW, 112);
    if (fd < 0) { perror("socket"); return 1; }
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0) { perror("SO_BINDTODEVICE"); return 1; }
    int ttl = 255, loop = 0;
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    struct ip_mreqn mif = { .imr_ifindex = (int)if_nametoindex(ifname) };
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif);

    /* The source the kernel will pick: the interface's primary IPv4 (for the checksum). */
    struct sockaddr_in dst = { .sin_family = AF_INET };
    inet_pton(AF_INET, "224.0.0.18", &dst.sin_addr);
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(probe, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1);
    setsockopt(probe, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif);
    struct sockaddr_in tmp = dst; tmp.sin_port = htons(9);
    if (connect(probe, (struct sockaddr *)&tmp, sizeof tmp) < 0) { perror("connect"); return 1; }
    struct sockaddr_in src; socklen_t sl = sizeof src;
    getsockname(probe, (struct sockaddr *)&src, &sl);
    close(probe);

    static uint8_t pkt[MAXN][12];
    for (int i = 0; i < n; i++) {
        int vrid = i + 1;
        uint8_t *m = pkt[i];
        m[0] = 0x31; m[1] = (uint8_t)vrid; m[2] = 200; m[3] = 1;
        m[4] = (interval_ms / 10) >> 8 & 0x0f; m[5] = (interval_ms / 10) & 0xff; m[6] = m[7] = 0;
        if (vrid <= 127) { m[8] = 198; m[9] = 51; m[10] = 100; m[11] = (uint8_t)vrid; }
        else { m[8] = 203; m[9] = 0; m[10] = 113; m[11] = (uint8_t)(vrid - 127); }
        uint8_t pseudo[12];
        memcpy(pseudo, &src.sin_addr, 4); memcpy(pseudo + 4, &dst.sin_addr, 4);
        pseudo[8] = 0; pseudo[9] = 112; pseudo[10] = 0; pseudo[11] = 12;
        uint16_t c = checksum(pseudo, 12, m, 12);
        m[6] = c >> 8; m[7] = c & 0xff;
    }
    static struct iovec iov[MAXN];
    static struct mmsghdr msgs[MAXN];
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = pkt[i]; iov[i].iov_len = 12;
        msgs[i].msg_hdr.msg_name = &dst; msgs[i].msg_hdr.msg_namelen = sizeof dst;
        msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    }

    long interval_ns = interval_ms * 1000000L;
    int spread = strcmp(mode, "spread") == 0, mmsg = strcmp(mode, "mmsg") == 0;
    if (!spread && !mmsg && strcmp(mode, "burst") != 0) { fprintf(stderr, "unknown mode %s\n", mode); return 2; }
    long step = spread ? interval_ns / n : interval_ns;
    struct timespec next, start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    next = start;
    double cpu0 = cpu_seconds();
    long sent = 0, errors = 0, wakeups = 0, syscalls = 0;
    int i = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= seconds) break;
        if (spread) {
            struct msghdr *h = &msgs[i].msg_hdr;
            if (sendmsg(fd, h, 0) < 0) errors++; else sent++;
            syscalls++;
            i = (i + 1) % n;
        } else if (mmsg) {
            for (int off = 0; off < n; off += BATCH) {
                int k = n - off < BATCH ? n - off : BATCH;
                int r = sendmmsg(fd, msgs + off, k, 0);
                syscalls++;
                if (r < 0) errors += k; else { sent += r; errors += k - r; }
            }
        } else {
            for (int j = 0; j < n; j++) {
                if (sendmsg(fd, &msgs[j].msg_hdr, 0) < 0) errors++; else sent++;
                syscalls++;
            }
        }
        wakeups++;
        advance(&next, step);
        sleep_until(&next);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    double cpu = cpu_seconds() - cpu0;
    printf("{\"mode\": \"%s\", \"instances\": %d, \"interval_ms\": %d, \"seconds\": %.2f, \"sent\": %ld, "
           "\"errors\": %ld, \"wakeups\": %ld, \"syscalls\": %ld, \"cpu_pct\": %.3f, \"us_per_advert\": %.3f}\n",
           mode, n, interval_ms, elapsed, sent, errors, wakeups, syscalls, 100.0 * cpu / elapsed,
           sent ? cpu * 1e6 / sent : 0.0);
    return 0;
}
