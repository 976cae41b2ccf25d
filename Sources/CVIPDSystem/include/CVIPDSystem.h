// Linux interfaces the Glibc module does not expose (epoll, timerfd, signalfd), wrapped as plain
// functions so Swift never touches the packed `struct epoll_event` directly.
#ifndef CVIPD_SYSTEM_H
#define CVIPD_SYSTEM_H

#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/epoll.h>

/// epoll_create1(EPOLL_CLOEXEC).
int vipd_epoll_create(void);
/// Watches fd for readability (level-triggered).
int vipd_epoll_add(int epfd, int fd);
int vipd_epoll_del(int epfd, int fd);
/// Waits like epoll_wait and writes the ready descriptors into fds; returns their number or -1.
int vipd_epoll_wait(int epfd, int *fds, int max, int timeout_ms);

/// timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC).
int vipd_timerfd_create(void);
/// Arms the timer for an absolute CLOCK_MONOTONIC time in nanoseconds (0 disarms).
int vipd_timerfd_set_absolute(int fd, int64_t deadline_ns);

/// Blocks the signals in the calling thread's mask and returns a non-blocking signalfd for them.
int vipd_signalfd(const int *signals, int count);
/// Blocks the signals in the calling thread (threads started later inherit the mask).
int vipd_block_signals(const int *signals, int count);
/// Reads one signal from a signalfd: its number, 0 when none is pending, -1 on error.
int vipd_signalfd_read(int fd);

/// pidfd_open(2): a descriptor that becomes readable when the process exits (Linux 5.3+).
int vipd_pidfd_open(int pid);

#endif
