/* gil_lock.c - the emulated global interpreter lock (gil_lock.h). */
#include "gil_lock.h"
#include "../core/clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int gil_init(struct gil *g, uint64_t interval_ns)
{
	memset(g, 0, sizeof(*g));
	g->holder = -1;
	g->interval_ns = interval_ns;
	pthread_condattr_t ca;
	int e = pthread_condattr_init(&ca);
	if (!e)
		e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!e)
		e = pthread_mutex_init(&g->m, NULL);
	if (!e)
		e = pthread_cond_init(&g->cond, &ca);
	if (!e)
		e = pthread_cond_init(&g->switch_cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	return -e;
}

void gil_destroy(struct gil *g)
{
	(void)pthread_cond_destroy(&g->cond);
	(void)pthread_cond_destroy(&g->switch_cond);
	(void)pthread_mutex_destroy(&g->m);
}

/* take_gil(): wait for the lock; after a whole interval without a switch, ask the holder
 * to drop it. */
void gil_take(struct gil *g, int me)
{
	(void)pthread_mutex_lock(&g->m);
	while (g->locked) {
		uint64_t sw = g->switch_number, t = il_now_ns() + g->interval_ns;
		struct timespec dl = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
		int r = pthread_cond_timedwait(&g->cond, &g->m, &dl);
		if (r == ETIMEDOUT && g->locked && g->switch_number == sw && !g->drop_request) {
			g->drop_request = 1;
			g->drop_requests++;
		}
	}
	g->locked = 1;
	if (g->holder != me)
		g->switches++;
	g->holder = me;
	g->switch_number++;
	g->drop_request = 0;
	(void)pthread_cond_signal(&g->switch_cond);
	(void)pthread_mutex_unlock(&g->m);
}

/* drop_gil(): release; when asked to (forced), wait until another thread has taken it, so
 * the releasing thread cannot grab it straight back. */
void gil_drop(struct gil *g, int me, bool forced)
{
	(void)pthread_mutex_lock(&g->m);
	g->locked = 0;
	(void)pthread_cond_signal(&g->cond);
	if (forced)
		while (g->holder == me)
			(void)pthread_cond_wait(&g->switch_cond, &g->m);
	(void)pthread_mutex_unlock(&g->m);
}

