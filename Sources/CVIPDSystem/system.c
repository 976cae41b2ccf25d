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
