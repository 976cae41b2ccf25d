// Functions wrapping C macros that Swift cannot import directly (CMSG_* from <sys/socket.h>).
// Only what vipd's Linux data plane needs; no logic lives here.
#ifndef VIPD_CVIPDSHIM_H
#define VIPD_CVIPDSHIM_H
#include <stddef.h>
#include <sys/socket.h>
#include <netpacket/packet.h>   // struct sockaddr_ll (AF_PACKET), not in the Glibc module

struct cmsghdr *vipd_cmsg_firsthdr(struct msghdr *msg);
struct cmsghdr *vipd_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg);
unsigned char *vipd_cmsg_data(struct cmsghdr *cmsg);
size_t vipd_cmsg_space(size_t len);
size_t vipd_cmsg_len(size_t len);
// SOCK_NONBLOCK / SOCK_CLOEXEC are not visible through Swift's Glibc module.
static const int vipd_sock_nonblock = SOCK_NONBLOCK;
static const int vipd_sock_cloexec = SOCK_CLOEXEC;
#endif
