/* sigutil.h - small helpers shared by the signal experiments (latency, coalesce, alarm):
 * one send call for both process and thread peers, signal and si_code names, the SigQ
 * counter, draining pending signals, wait-status text. */
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

/* Describes a wait status: "exited with 0", "killed by signal 14 (Alarm clock)". */
const char *sigu_wstatus(int st, char *buf, size_t len);

/* Discards every pending instance of the signals in set (they must be blocked). */
unsigned sigu_drain(const sigset_t *set);

#endif
