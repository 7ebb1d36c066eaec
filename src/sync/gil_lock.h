/* gil_lock.h - an emulation of CPython's global interpreter lock (ceval_gil.c), for
 * "sync gil": one lock a thread must hold to run; a waiter that has waited a switch
 * interval without a switch sets a drop request; the holder sees it between two chunks
 * of work, drops the lock and waits until another thread took it (FORCE_SWITCHING).
 * Threads of one process only. */
#ifndef IPCLAB_SYNC_GIL_LOCK_H
#define IPCLAB_SYNC_GIL_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The global interpreter lock (threads only). */
struct gil {
	pthread_mutex_t m;
	pthread_cond_t cond;         /* the lock became free */
	pthread_cond_t switch_cond;  /* another thread took it (forced switching) */
	int locked, holder;
	uint64_t switch_number;
	volatile int drop_request;
	uint64_t interval_ns;
	uint64_t switches, drop_requests;
};

/* 0 or -errno. interval_ns: the switch interval (sys.getswitchinterval() is 5 ms). */
int gil_init(struct gil *g, uint64_t interval_ns);
void gil_destroy(struct gil *g);
/* take_gil(): waits for the lock, asking the holder to drop it after an interval. */
void gil_take(struct gil *g, int me);
/* drop_gil(): releases it; forced (a drop request was seen): waits until another thread
 * has taken it, so the releasing one cannot grab it straight back. */
void gil_drop(struct gil *g, int me, bool forced);
/* True if a waiter asks the holder to drop the lock. */
static inline bool gil_drop_requested(struct gil *g)
{
	return __atomic_load_n(&g->drop_request, __ATOMIC_RELAXED);
}

#endif
