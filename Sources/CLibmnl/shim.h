// libmnl plus the kernel UAPI headers vipd's netlink code reads.
#ifndef VIPD_CLIBMNL_SHIM_H
#define VIPD_CLIBMNL_SHIM_H
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#endif
