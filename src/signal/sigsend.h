/* sigsend.h - sending signals, for the signal experiments (latency, coalesce, alarm):
 * where a signal goes (a process or one thread), one send call for both, the si_code the
 * receiver then sees, and what is pending (the uid's SigQ count, draining). Signal names
 * and wait statuses are core's (sys.h). */
#ifndef IPCLAB_SIGNAL_SIGSEND_H
#define IPCLAB_SIGNAL_SIGSEND_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a signal goes: a process (process-directed: kill/sigqueue) or one thread of
 * ours (thread-directed: tgkill/pthread_sigqueue). */
struct sig_target {
	int mode;          /* enum il_mode */
	pid_t pid;         /* the process (thread mode: our own) */
	pid_t tid;         /* thread mode: the thread's kernel id (for tgkill and traces) */
	pthread_t thread;  /* thread mode: for pthread_sigqueue */
};

/* The calling thread as a target (pid, tid, pthread_self). */
void sig_target_self(struct sig_target *t, int mode);
/* What a trace should name as the target: pid in process mode, tid in thread mode. */
int sig_target_id(const struct sig_target *t);

/* Sends sig. queue=false: kill(2) (process) or tgkill(2) (thread), no payload;
 * queue=true: sigqueue(3) / pthread_sigqueue(3) carrying value in si_value.sival_ptr.
 * Returns 0 or -1 with errno (EAGAIN: RLIMIT_SIGPENDING reached, for queued signals). */
int sig_send(const struct sig_target *t, int sig, bool queue, uint64_t value);
/* Name of the send call sig_send uses: "kill", "sigqueue", "tgkill", "pthread_sigqueue". */
const char *sig_send_call(int mode, bool queue);

/* The expected si_code of a signal sent by sig_send (SI_USER, SI_TKILL or SI_QUEUE). */
int sig_expected_code(int mode, bool queue);
/* "SI_USER", "SI_QUEUE", "SI_TKILL", "SI_TIMER", ... or "si_code N" in buf. */
const char *sig_code_name(int code, char *buf, size_t len);

/* Reads "SigQ: pending/limit" of the calling process from /proc/self/status: signals
 * queued for our real uid (all its processes) and our RLIMIT_SIGPENDING. 0 or -1. */
int sig_queue_count(long *pending, long *limit);

/* Discards every pending instance of the signals in set (they must be blocked). */
unsigned sig_drain(const sigset_t *set);

#endif
