#include "CVIPDShim.h"

struct cmsghdr *vipd_cmsg_firsthdr(struct msghdr *msg) { return CMSG_FIRSTHDR(msg); }
struct cmsghdr *vipd_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg) { return CMSG_NXTHDR(msg, cmsg); }
unsigned char *vipd_cmsg_data(struct cmsghdr *cmsg) { return CMSG_DATA(cmsg); }
size_t vipd_cmsg_space(size_t len) { return CMSG_SPACE(len); }
size_t vipd_cmsg_len(size_t len) { return CMSG_LEN(len); }
