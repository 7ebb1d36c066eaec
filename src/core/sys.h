/* sys.h - every OS idiom once, with its EINTR policy (like stress-ng's core-shim.c).
 * Syscall-level helpers (log.h, "error convention"): they return -errno on failure,
 * never log, never exit; the caller decides what the failure means. */
#ifndef IPCLAB_SYS_H
#define IPCLAB_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ---- CPU */

/* One poll of a spin loop: lets the sibling hyperthread run and saves power. */
static inline void il_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/* The first n CPUs the caller may run on (its sched_getaffinity mask), lowest first, in
 * cpu[0..min(n, allowed) - 1]; the rest of cpu[] is left alone. Returns how many CPUs
 * the mask allows in all (may be more than n), or -errno. */
int il_allowed_cpus(int cpu[], int n);

/* ---- processes */

/* waitpid(2), retried on EINTR. The pid, 0 (WNOHANG: still running), or -errno. */
pid_t il_waitpid(pid_t pid, int *status, int flags);
/* Reaps every child (waitpid(-1, __WALL)) until ECHILD; returns how many were reaped.
 * Blocks while a child runs: kill them first. Async-signal-safe. */
int il_reap_all(void);
/* waitid(WEXITED | WNOWAIT): the pid of a child that has ended, left unreaped (pid -1:
 * any child), 0 when none has (only with block false), or -errno (-ECHILD: no such
 * child). block: wait for one to end (EINTR retried). */
pid_t il_child_ended(pid_t pid, bool block);
/* A wait status in words: "exited with status 3", "killed by signal 9 (SIGKILL)",
 * "killed by signal 11 (SIGSEGV, core dumped)", "stopped by signal 19 (SIGSTOP)". */
const char *il_wait_status_text(int status, char *buf, size_t len);

/* ---- /proc/PID/stat */

struct il_proc_stat {
	char state;       /* R S D Z T t X I ... */
	pid_t ppid;
	uint64_t utime, stime;  /* clock ticks */
	unsigned long minflt, majflt;
	long num_threads;
	uint64_t starttime; /* clock ticks after boot: with the pid, a process's identity */
	int processor;    /* CPU it last ran on */
};
/* Parses one /proc/PID/stat line ("pid (comm) S ppid ..."; comm may hold ')' and
 * spaces: the fields start after the last ')'). 0 or -EINVAL. */
int il_proc_stat_parse(const char *line, struct il_proc_stat *st);
/* Reads and parses /proc/<pid>/stat (a thread id works too). 0, or -errno (-ENOENT:
 * the task is gone). */
int il_proc_stat(pid_t pid, struct il_proc_stat *st);
/* The same from an already open stat file (pread at 0: for polling loops). */
int il_proc_stat_fd(int fd, struct il_proc_stat *st);

/* ---- futex(2) on a 32-bit word. shared: the word may be in MAP_SHARED memory seen by
 * other processes; false adds FUTEX_PRIVATE_FLAG (one process only: cheaper). */

/* Sleeps while *word == val, at most rel (NULL: no limit). 0 when woken (or a spurious
 * wake-up: recheck the word), -EAGAIN (word already differs), -ETIMEDOUT, -EINTR. */
int il_futex_wait(uint32_t *word, uint32_t val, const struct timespec *rel, bool shared);
/* The same with an absolute CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET). */
int il_futex_wait_until(uint32_t *word, uint32_t val, const struct timespec *deadline, bool shared);
/* Wakes up to n waiters (INT_MAX: all). The number woken, or -errno. */
int il_futex_wake(uint32_t *word, int n, bool shared);

/* ---- signals */

/* "SIGUSR1", "SIGIO", "SIGRTMIN", "SIGRTMIN+3"; "SIG32" for a number glibc keeps for
 * itself; "signal 99" out of range. Returns buf. */
const char *il_signal_name(int sig, char *buf, size_t len);
#define IL_SIGNAME_MAX 16

/* ---- file descriptors */

/* Writes all len bytes (EINTR and short writes retried). 0 or -errno. */
int il_write_full(int fd, const void *buf, size_t len);
/* Reads exactly len bytes (EINTR and short reads retried). 0, -EPIPE at end of file
 * before len bytes, or -errno. */
int il_read_full(int fd, void *buf, size_t len);
/* Reads a small file (/proc, /sys) whole into buf, NUL-terminated (truncated to len - 1
 * bytes). Its length, or -errno. */
ssize_t il_read_file(const char *path, char *buf, size_t len);

#endif
