// Linux interfaces the Glibc module does not expose (epoll, timerfd, signalfd, pidfd, accept4,
// SO_PEERCRED, SOCK_* flags, RLIMIT_RTTIME), wrapped as plain functions so Swift never touches the
// packed `struct epoll_event` or `struct ucred` directly, and the one signal handler a Swift program
// cannot write (SIGXCPU's). Used through the VIPDSystem module and the event loop.
#ifndef CVIPD_SYSTEM_H
#define CVIPD_SYSTEM_H

#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/// epoll_create1(EPOLL_CLOEXEC).
int vipd_epoll_create(void);
/// Watches fd for readability (level-triggered).
int vipd_epoll_add(int epfd, int fd);
/// Changes what a watched fd is waited for: writability (writable != 0) or readability.
int vipd_epoll_modify(int epfd, int fd, int writable);
int vipd_epoll_del(int epfd, int fd);
/// Waits like epoll_wait and writes the ready descriptors into fds; returns their number or -1.
int vipd_epoll_wait(int epfd, int *fds, int max, int timeout_ms);

/// timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC).
int vipd_timerfd_create(void);
/// Arms the timer for an absolute CLOCK_MONOTONIC time in nanoseconds (0 disarms).
int vipd_timerfd_set_absolute(int fd, int64_t deadline_ns);

/// Blocks the signals in the calling thread's mask (pthread_sigmask) and returns a non-blocking
/// signalfd for them.
int vipd_signalfd(const int *signals, int count);
/// Blocks the signals in the calling thread (threads started later inherit the mask).
int vipd_block_signals(const int *signals, int count);
/// Reads one signal from a signalfd: its number, 0 when none is pending, -1 on error.
int vipd_signalfd_read(int fd);

/// `realtime_cpu_limit` (RLIMIT_RTTIME). The kernel sends SIGXCPU to a real-time thread that used
/// the soft limit of CPU without sleeping; a spinning event loop would never read a signalfd, so the
/// signal gets a real handler: it moves the recorded thread, and the thread it runs on, back to
/// SCHED_OTHER at once (those that are SCHED_RR or SCHED_FIFO), sets a flag and makes a descriptor
/// readable, for the loop to report it.
///
/// Installs the handler (once per process; later calls only change the thread), records the calling
/// thread as the one to move and unblocks SIGXCPU in it. Returns the descriptor (an eventfd, the same
/// on every call), or -1 with errno.
int vipd_cpu_limit_guard_install(void);
/// 1 when SIGXCPU arrived since the last call, else 0; clears the flag and drains the descriptor.
int vipd_cpu_limit_guard_take(void);
/// setrlimit(RLIMIT_RTTIME) with soft and hard limits in microseconds: 0, or -1 with errno.
int vipd_set_rttime_limit(uint64_t soft_us, uint64_t hard_us);

/// sched_setscheduler's flag that gives threads and processes the caller starts normal scheduling
/// (<sched.h> defines it only with _GNU_SOURCE).
static const int vipd_sched_reset_on_fork = 0x40000000;

/// pipe2(2) with O_CLOEXEC.
int vipd_pipe_cloexec(int fds[2]);
/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC.
int vipd_accept_nonblock_cloexec(int fd);
/// getsockopt(SO_PEERCRED): the peer's pid, uid and gid. 0 or -1 with errno.
int vipd_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);
// SOCK_NONBLOCK / SOCK_CLOEXEC as plain ints (Swift's Glibc module types them as an enum).
static const int vipd_sock_nonblock = SOCK_NONBLOCK;
static const int vipd_sock_cloexec = SOCK_CLOEXEC;

/// pidfd_open(2): a descriptor that becomes readable when the process exits (Linux 5.3+).
int vipd_pidfd_open(int pid);

/// Starts the program `path` with `argv` and `envp` (both NULL-terminated) as a child in a process
/// group of its own, with every signal unblocked and at its default action and stdin from
/// /dev/null; stdout and stderr are inherited. When `uid` >= 0 the child, before exec, sets its
/// group to `gid`, its supplementary groups to `gid` alone and its user to `uid` (what keepalived 2.2
/// does for `script_user`; needs CAP_SETGID and CAP_SETUID). Returns the child's pid, or -errno when
/// it could not be started (fork failed, or the credentials or exec failed in the child, which is
/// then reaped).
int vipd_spawn(const char *path, char *const argv[], char *const envp[], int64_t uid, int64_t gid);

/// malloc_trim(0): gives the pages of freed heap memory (in every arena, not only at the top) back to
/// the kernel. Returns 1 when some were.
int vipd_release_free_memory(void);

#endif
