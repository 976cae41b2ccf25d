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
// recvmmsg(2) into `count` caller-owned slots (`slot_size` bytes of data and `control_size` bytes of
// ancillary data each, peers[i] for the source address). Never blocks (MSG_DONTWAIT). Returns how many
// arrived, or -1 with errno; lengths[i], control_lengths[i] and flags[i] (msg_flags) per message.
int vipd_recv_batch(int fd, unsigned char *data, size_t slot_size, unsigned char *control, size_t control_size,
                    struct sockaddr_storage *peers, size_t *lengths, size_t *control_lengths, int *flags,
                    unsigned count);
#endif
