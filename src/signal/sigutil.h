/* sigutil.h - small helpers shared by the signal experiments (latency, coalesce, alarm):
 * one send call for both process and thread peers, signal names, the SigQ counter,
 * a forked child whose raw wait status the caller gets, and the lateness schedule. */
#ifndef IPCLAB_SIGUTIL_H
#define IPCLAB_SIGUTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a signal goes: a process (process-directed: kill/sigqueue) or one thread of
 * ours (thread-directed: tgkill/pthread_sigqueue). */
struct sigu_target {
	int mode;          /* enum il_mode */
	pid_t pid;         /* the process (thread mode: our own) */
	pid_t tid;         /* thread mode: the thread's kernel id (for tgkill and traces) */
	pthread_t thread;  /* thread mode: for pthread_sigqueue */
};

/* The calling thread as a target (pid, tid, pthread_self). */
void sigu_target_self(struct sigu_target *t, int mode);
/* What a trace should name as the target: pid in process mode, tid in thread mode. */
int sigu_target_id(const struct sigu_target *t);

/* Sends sig. queue=false: kill(2) (process) or tgkill(2) (thread), no payload;
 * queue=true: sigqueue(3) / pthread_sigqueue(3) carrying value in si_value.sival_ptr.
 * Returns 0 or -1 with errno (EAGAIN: RLIMIT_SIGPENDING reached, for queued signals). */
int sigu_send(const struct sigu_target *t, int sig, bool queue, uint64_t value);
/* Name of the send call sigu_send uses: "kill", "sigqueue", "tgkill", "pthread_sigqueue". */
const char *sigu_send_call(int mode, bool queue);

/* "SIGUSR1", "SIGRTMIN+2", "SIGCHLD"... into buf; returns buf. */
const char *sigu_name(int sig, char *buf, size_t len);
/* The expected si_code of a signal sent by sigu_send (SI_USER, SI_TKILL or SI_QUEUE). */
int sigu_expected_code(int mode, bool queue);
/* "SI_USER", "SI_QUEUE", "SI_TKILL", "SI_TIMER", ... or "si_code N" in buf. */
const char *sigu_code_name(int code, char *buf, size_t len);

/* Reads "SigQ: pending/limit" of the calling process from /proc/self/status: signals
 * queued for our real uid (all its processes) and our RLIMIT_SIGPENDING. 0 or -1. */
int sigu_sigq(long *pending, long *limit);

/* Runs fn(arg) in a forked child (guard reset, dies with us, pinned to cpu if >= 0) and
 * waits for it; the raw wait status goes to *wstatus. Returns 0, or an exit code if the
 * child could not be forked or waited for (message printed). */
int sigu_run_child(int cpu, int (*fn)(void *), void *arg, int *wstatus);
/* Describes a wait status: "exited with 0", "killed by signal 14 (Alarm clock)". */
const char *sigu_wstatus(int st, char *buf, size_t len);

/* Sets all of set's signals' mask in the calling thread (how: SIG_BLOCK...). */
void sigu_mask(int how, const sigset_t *set);
/* Discards every pending instance of the signals in set (they must be blocked). */
unsigned sigu_drain(const sigset_t *set);

/* Periodic-timer bookkeeping over an absolute schedule start + k * period. */
struct sigu_sched {
	uint64_t start, period;  /* ns; expiry k is due at start + k * period, k >= 1 */
	uint64_t k;              /* index of the expiry the next observation belongs to */
	uint64_t early;          /* observations before their ideal time (clamped to 0) */
	uint64_t missed;         /* expirations skipped (overruns, counted or estimated) */
	uint64_t guessed;        /* of s->missed, how many the last estimate added */
};
void sigu_sched_init(struct sigu_sched *s, uint64_t start, uint64_t period);
/* Lateness of an observation at time t of expiry s->k; then advances s->k past this
 * expiry and the `overrun` further ones that merged into it (overrun < 0: estimate
 * them from t, for timers that keep no count, like ITIMER_REAL). */
uint64_t sigu_sched_observe(struct sigu_sched *s, uint64_t t, long overrun);

#endif
