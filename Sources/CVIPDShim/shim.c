#define _GNU_SOURCE
#include "CVIPDShim.h"
#include <string.h>

struct cmsghdr *vipd_cmsg_firsthdr(struct msghdr *msg) { return CMSG_FIRSTHDR(msg); }
struct cmsghdr *vipd_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg) { return CMSG_NXTHDR(msg, cmsg); }
unsigned char *vipd_cmsg_data(struct cmsghdr *cmsg) { return CMSG_DATA(cmsg); }
size_t vipd_cmsg_space(size_t len) { return CMSG_SPACE(len); }
size_t vipd_cmsg_len(size_t len) { return CMSG_LEN(len); }

int vipd_recv_batch(int fd, unsigned char *data, size_t slot_size, unsigned char *control, size_t control_size,
                    struct sockaddr_storage *peers, size_t *lengths, size_t *control_lengths, int *flags,
                    unsigned count) {
    enum { max_batch = 64 };
    struct mmsghdr messages[max_batch];
    struct iovec vectors[max_batch];
    if (count > max_batch) count = max_batch;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = data + i * slot_size;
        vectors[i].iov_len = slot_size;
        messages[i].msg_hdr.msg_name = &peers[i];
        messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_control = control + i * control_size;
        messages[i].msg_hdr.msg_controllen = control_size;
    }
    int n = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        lengths[i] = messages[i].msg_len;
        control_lengths[i] = messages[i].msg_hdr.msg_controllen;
        flags[i] = messages[i].msg_hdr.msg_flags;
    }
    return n;
}
