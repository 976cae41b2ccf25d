#define _GNU_SOURCE
#include "CVIPDSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

int vipd_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int vipd_epoll_add(int epfd, int fd) {
    struct epoll_event ev = { .events = EPOLLIN, .data = { .fd = fd } };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int vipd_epoll_modify(int epfd, int fd, int writable) {
    struct epoll_event ev = { .events = writable ? EPOLLOUT : EPOLLIN, .data = { .fd = fd } };
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int vipd_epoll_del(int epfd, int fd) {
    struct epoll_event ev = { 0 };
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

int vipd_epoll_wait(int epfd, int *fds, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) fds[i] = events[i].data.fd;
    return n;
}

int vipd_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int vipd_timerfd_set_absolute(int fd, int64_t deadline_ns) {
    struct itimerspec spec = { 0 };
    spec.it_value.tv_sec = deadline_ns / 1000000000;
    spec.it_value.tv_nsec = deadline_ns % 1000000000;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int vipd_signalfd(const int *signals, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) sigaddset(&mask, signals[i]);
    int rc = pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (rc != 0) { errno = rc; return -1; }
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int vipd_block_signals(const int *signals, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) sigaddset(&mask, signals[i]);
    int rc = pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (rc != 0) { errno = rc; return -1; }
    return 0;
}

int vipd_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
    if (n < 0 && errno == EAGAIN) return 0;
    return -1;
}

int vipd_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int vipd_accept_nonblock_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int vipd_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int vipd_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

#include <grp.h>
#include <signal.h>
#include <sys/wait.h>

/// Only async-signal-safe calls between fork and exec: the parent may have other threads.
int vipd_spawn(const char *path, char *const argv[], char *const envp[], int64_t uid, int64_t gid) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]); close(report[1]);
        return -e;
    }
    if (pid == 0) {
        close(report[0]);
        struct sigaction dfl = { 0 };
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++) (void)sigaction(s, &dfl, NULL);
        sigset_t empty;
        sigemptyset(&empty);
        (void)sigprocmask(SIG_SETMASK, &empty, NULL);
        int e = 0;
        if (setpgid(0, 0) != 0) e = errno;
        if (!e) {
            int null = open("/dev/null", O_RDONLY);
            if (null < 0 || (null != 0 && (dup2(null, 0) < 0 || close(null) != 0))) e = errno;
        }
        if (!e && uid >= 0) {
            gid_t group = (gid_t)gid;
            if (setgid(group) != 0 || setgroups(1, &group) != 0 || setuid((uid_t)uid) != 0) e = errno;
        }
        if (!e) {
            execve(path, argv, envp);
            e = errno;
        }
        while (write(report[1], &e, sizeof e) < 0 && errno == EINTR) {}
        _exit(127);
    }
    close(report[1]);
    int e = 0;
    ssize_t n;
    do { n = read(report[0], &e, sizeof e); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -(e ? e : EIO);
    }
    return pid;
}

#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

// realtime_cpu_limit's SIGXCPU handler (see the header). Only async-signal-safe work in it: two
// scheduler system calls, an atomic store and a write.
static atomic_int guard_tid = 0;
static atomic_int guard_fd = -1;
static atomic_int guard_fired = 0;

static void vipd_to_normal_scheduling(pid_t tid) {
    int policy = sched_getscheduler(tid);
    if (policy < 0) return;
    policy &= ~SCHED_RESET_ON_FORK;
    if (policy != SCHED_RR && policy != SCHED_FIFO) return;
    struct sched_param normal = { .sched_priority = 0 };
    (void)sched_setscheduler(tid, SCHED_OTHER, &normal);
}

static void vipd_on_sigxcpu(int signal) {
    (void)signal;
    int saved = errno;
    // The event loop; and the thread the kernel chose, which is the one that hit the limit when
    // the kernel sent it (were any other thread real-time).
    vipd_to_normal_scheduling((pid_t)atomic_load(&guard_tid));
    vipd_to_normal_scheduling((pid_t)syscall(SYS_gettid));
    atomic_store(&guard_fired, 1);
    uint64_t one = 1;
    int fd = atomic_load(&guard_fd);
    if (fd >= 0) { ssize_t ignored = write(fd, &one, sizeof one); (void)ignored; }
    errno = saved;
}

int vipd_cpu_limit_guard_install(void) {
    atomic_store(&guard_tid, (int)syscall(SYS_gettid));
    sigset_t xcpu;
    sigemptyset(&xcpu);
    sigaddset(&xcpu, SIGXCPU);
    int rc = pthread_sigmask(SIG_UNBLOCK, &xcpu, NULL);
    if (rc != 0) { errno = rc; return -1; }
    int fd = atomic_load(&guard_fd);
    if (fd >= 0) return fd;
    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return -1;
    atomic_store(&guard_fd, fd);
    struct sigaction action = { 0 };
    action.sa_handler = vipd_on_sigxcpu;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGXCPU, &action, NULL) != 0) {
        int e = errno;
        atomic_store(&guard_fd, -1);
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int vipd_cpu_limit_guard_take(void) {
    int fd = atomic_load(&guard_fd);
    uint64_t count;
    if (fd >= 0) { while (read(fd, &count, sizeof count) > 0) {} }
    return atomic_exchange(&guard_fired, 0);
}

int vipd_set_rttime_limit(uint64_t soft_us, uint64_t hard_us) {
    struct rlimit limit = { .rlim_cur = (rlim_t)soft_us, .rlim_max = (rlim_t)hard_us };
    return setrlimit(RLIMIT_RTTIME, &limit);
}

#include <malloc.h>

int vipd_release_free_memory(void) {
    return malloc_trim(0);
}
