/* event.h - the course's Event (Python threading.Event: wait [timeout], set, clear,
 * is_set) four ways behind one small ops struct, usable between threads and between
 * processes (the state lives in il_shared_alloc memory; descriptors are created before
 * the fork and inherited). Semantics shared by all four: set is idempotent and wakes every
 * waiter; wait does not consume the event; a timed wait never returns before its
 * deadline (CLOCK_MONOTONIC) and returns the flag as it was then. */
#ifndef IPCLAB_SYNC_EVENT_H
#define IPCLAB_SYNC_EVENT_H

#include <pthread.h>
#include <stdint.h>

struct ev {
	int mode;               /* enum il_mode */
	uint32_t word;          /* futex: 0 clear, 1 set */
	int flag;               /* condvar: guarded by m */
	pthread_mutex_t m;      /* condvar */
	pthread_cond_t cv;      /* condvar (CLOCK_MONOTONIC) */
	int fd[2];              /* eventfd: fd[0]; pipe: read end, write end */
};

struct ev_ops {
	const char *name;
	const char *how;        /* one line for the output */
	int (*init)(struct ev *e, int mode);            /* 0 or -errno */
	void (*destroy)(struct ev *e);
	/* 1 set, 0 timed out (still clear), -1 error (errno); timeout_ns < 0: no timeout. */
	int (*wait)(struct ev *e, int64_t timeout_ns);
	int (*set)(struct ev *e);                       /* 0 or -1 (errno) */
	int (*clear)(struct ev *e);                     /* 0 or -1 (errno) */
	int (*is_set)(struct ev *e);                    /* 1, 0, or -1 (errno) */
};

extern const struct ev_ops ev_condvar, ev_eventfd, ev_futex, ev_pipe;

#endif
