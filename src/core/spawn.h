/* spawn.h - run one worker function as a forked process or a thread (only the spawn
 * differs), shared memory both can see, a process-shared start barrier, CPU pinning. */
#ifndef IPCLAB_SPAWN_H
#define IPCLAB_SPAWN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef int (*il_worker_fn)(void *arg);

struct il_peer {
	int mode;          /* enum il_mode */
	pid_t pid;         /* process mode */
	pthread_t thread;  /* thread mode */
	bool running;
	il_worker_fn fn;
	void *arg;
	int cpu;           /* -1: unpinned */
	int ret;           /* thread mode: worker's return value */
	int wstatus;       /* process mode: the raw waitpid status, after il_join */
};

/* Anonymous MAP_SHARED memory (nothing named, nothing to leak); zeroed. NULL on error. */
void *il_shared_alloc(size_t size);
void il_shared_free(void *p, size_t size);

/* Starts fn(arg) pinned to cpu (-1: not pinned) as a child process or a thread. In a
 * child, the guard is reset, the child dies with its parent, and fn's return value is
 * its exit status. Returns 0 or an exit code (3 on EAGAIN etc). */
int il_spawn(struct il_peer *p, int mode, int cpu, il_worker_fn fn, void *arg);
/* Waits for the peer. Returns the worker's exit code, or IL_FAIL with a message when a
 * process peer was killed by a signal (its name is put in *how). */
int il_join(struct il_peer *p, char *how, size_t howlen);
/* Kills (process) and reaps a peer that must not be waited for normally. */
void il_peer_abort(struct il_peer *p);

/* Pins the calling thread to cpu (no-op for -1). Returns 0 or -errno. */
int il_pin_self(int cpu);
/* The same for an experiment's main thread: on failure prints "cannot pin WHO to CPU
 * N: reason" and returns IL_NORES; IL_OK otherwise. */
int il_pin_main(int cpu, const char *who);
/* The CPU the caller runs on now (sched_getcpu), -1 if unknown. */
int il_cpu_now(void);

/* The one start barrier (threads and processes alike; lives in il_shared_alloc memory),
 * reusable generation after generation. A waiter first polls for poll_ns (spinning when
 * there are no more participants than CPUs, else yielding: all leave within nanoseconds
 * of the last arrival), then sleeps on a shared futex in slices; between slices the
 * process that spawned the peers (il_spawn) checks that none of them ended without
 * arriving (a crash or a kill before the barrier), and then aborts the barrier instead
 * of waiting for the watchdog. A peer process needs no such check: it dies with its
 * parent (PR_SET_PDEATHSIG), and a thread cannot end alone.
 * Testing aid: IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER=1 (read once, by il_barrier_init)
 * makes every spawned peer process exit (status 1) on its first barrier wait. */
struct il_barrier {
	uint32_t count;    /* participants */
	uint32_t arrived;  /* in the current generation */
	uint32_t gen;      /* the futex word: bumped when the last one arrives, or on abort */
	uint32_t aborted;  /* il_barrier_abort: every wait returns -1 from now on */
	int32_t owner;     /* pid of the process that created it */
	uint32_t spin;     /* poll by spinning (participants <= online CPUs), else yield */
	uint32_t test_exit;
	uint64_t poll_ns;  /* how long a waiter polls before it sleeps (0: sleeps at once) */
	uint64_t t_release; /* CLOCK_MONOTONIC ns when the last one arrived */
};
/* 0, or -EINVAL for count 0. Waiters sleep at once; set b->poll_ns afterwards to have
 * them poll first (a start whose skew matters more than a CPU's worth of polling). */
int il_barrier_init(struct il_barrier *b, unsigned count);
/* 0 when all arrived; -1 when the barrier was aborted, or (after one line on stderr)
 * when a peer process ended first: the barrier is then aborted and the run must fail. */
int il_barrier_wait(struct il_barrier *b);
/* Releases every waiter with -1 (e.g. a spawn failed and the others would wait forever). */
void il_barrier_abort(struct il_barrier *b);
void il_barrier_destroy(struct il_barrier *b);

/* Names the calling task (prctl PR_SET_NAME) so traces and ps read well. */
void il_set_task_name(const char *name);

#endif
