/* shm_condvar.c - a shared-memory ring per direction guarded by a process-shared,
 * robust mutex and two process-shared condition variables on CLOCK_MONOTONIC
 * (pthread_mutexattr_setpshared/setrobust(3), pthread_condattr_setclock(3)).
 * The lock only guards the message count: with one producer and one consumer per ring
 * the copy itself runs outside it, so a 1 MiB copy never holds up the other side.
 * Waits are pthread_cond_timedwait with a ~50 ms deadline, looping on
 * il_link_peer_gone(); a peer that died holding the lock shows up as EOWNERDEAD, which
 * we turn into EPIPE (the ring state is not trusted after that). */
#include "transport.h"
#include "ring.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

struct cv_chan {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;  /* the receiver waits here */
	pthread_cond_t not_full;   /* the sender waits here */
	unsigned count;            /* messages in the ring; changed under lock, peeked atomically */
	_Alignas(IL_CACHELINE) uint64_t head;  /* messages put (sender only) */
	_Alignas(IL_CACHELINE) uint64_t tail;  /* messages taken (receiver only) */
};

struct cv {
	struct il_ring r; /* first: geometry and mapping length */
	struct cv_chan ch[2];
	_Alignas(IL_CACHELINE) unsigned char data[];
};

static unsigned char *slot(struct cv *p, int c, uint64_t n)
{
	return il_ring_slot(&p->r, p->data, c, n);
}

static void cv_free(struct il_link *l)
{
	struct cv *p = l->priv;
	if (!p)
		return;
	/* No pthread_cond_destroy: glibc's waits until every waiter has left, and a peer
	 * killed inside pthread_cond_timedwait never leaves (it would hang us). The condvars
	 * and mutexes hold no kernel resource: unmapping the memory is enough. */
	il_shared_free(p, p->r.map_len);
	l->priv = NULL;
}

/* Initialises one channel's robust pshared mutex and CLOCK_MONOTONIC pshared condvars.
 * 0 or an error number. */
static int chan_init(struct cv_chan *ch)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	int e = pthread_mutexattr_init(&ma);
	if (e)
		return e;
	if (!(e = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED)) &&
	    !(e = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST)))
		e = pthread_mutex_init(&ch->lock, &ma);
	(void)pthread_mutexattr_destroy(&ma);
	if (e)
		return e;
	if ((e = pthread_condattr_init(&ca)) != 0)
		return e;
	if (!(e = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED)) &&
	    !(e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) &&
	    !(e = pthread_cond_init(&ch->not_empty, &ca)))
		e = pthread_cond_init(&ch->not_full, &ca);
	(void)pthread_condattr_destroy(&ca);
	return e;
}

static int cv_setup(struct il_link *l)
{
	struct cv *p = il_ring_alloc(sizeof(struct cv), l->size);
	if (!p)
		return il_exit_for_errno(errno);
	l->priv = p;
	for (int c = 0; c < 2; c++) {
		int e = chan_init(&p->ch[c]);
		if (e) {
			errno = e;
			il_errno("cannot create a process-shared robust mutex/condvar");
			cv_free(l);
			return il_exit_for_errno(e);
		}
	}
	return 0;
}

static int cv_attach(struct il_link *l, int side)
{
	return 0;
}

/* A lock or wait returned EOWNERDEAD/ENOTRECOVERABLE: the peer died holding the lock.
 * Marks the mutex usable again (so teardown and the other channel stay sane), releases
 * it, reports EPIPE. */
static int owner_died(struct cv_chan *ch, int e)
{
	if (e == EOWNERDEAD) {
		(void)pthread_mutex_consistent(&ch->lock);
		(void)pthread_mutex_unlock(&ch->lock);
	}
	errno = EPIPE;
	return -1;
}

static int lock(struct cv_chan *ch)
{
	int e = pthread_mutex_lock(&ch->lock);
	if (e == EOWNERDEAD || e == ENOTRECOVERABLE)
		return owner_died(ch, e);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Waits until the count differs from `busy` (full for the sender, 0 for the receiver),
 * checking for a dead peer every IL_PEER_CHECK_NS. 0, or -1 with errno (EPIPE). */
static int wait_not(struct il_link *l, int side, struct cv_chan *ch, pthread_cond_t *cond, unsigned busy)
{
	if (__atomic_load_n(&ch->count, __ATOMIC_ACQUIRE) != busy) /* fast path: no lock */
		return 0;
	if (lock(ch) < 0)
		return -1;
	while (ch->count == busy) {
		struct timespec dl = il_peer_check_deadline();
		int e = pthread_cond_timedwait(cond, &ch->lock, &dl);
		if (e == EOWNERDEAD || e == ENOTRECOVERABLE)
			return owner_died(ch, e);
		if (e == ETIMEDOUT && ch->count == busy && il_link_peer_gone(l, side)) {
			(void)pthread_mutex_unlock(&ch->lock);
			errno = EPIPE;
			return -1;
		}
		if (e && e != ETIMEDOUT) {
			(void)pthread_mutex_unlock(&ch->lock);
			errno = e;
			return -1;
		}
	}
	(void)pthread_mutex_unlock(&ch->lock);
	return 0;
}

/* Adds delta to the count under the lock and wakes the other side if it waits. */
static int publish(struct cv_chan *ch, pthread_cond_t *cond, int delta)
{
	if (lock(ch) < 0)
		return -1;
	__atomic_store_n(&ch->count, ch->count + (unsigned)delta, __ATOMIC_RELEASE);
	(void)pthread_cond_signal(cond);
	(void)pthread_mutex_unlock(&ch->lock);
	return 0;
}

static int cv_send(struct il_link *l, int side, const void *buf)
{
	struct cv *p = l->priv;
	struct cv_chan *ch = &p->ch[side];
	if (wait_not(l, side, ch, &ch->not_full, p->r.slots) < 0)
		return -1;
	memcpy(slot(p, side, ch->head++), buf, l->size);
	return publish(ch, &ch->not_empty, 1);
}

static int cv_recv(struct il_link *l, int side, void *buf)
{
	struct cv *p = l->priv;
	struct cv_chan *ch = &p->ch[1 - side];
	if (wait_not(l, side, ch, &ch->not_empty, 0) < 0)
		return -1;
	memcpy(buf, slot(p, 1 - side, ch->tail++), l->size);
	return publish(ch, &ch->not_full, -1);
}

static void cv_detach(struct il_link *l, int side)
{
}

static void cv_teardown(struct il_link *l)
{
	cv_free(l);
}

const struct il_transport il_transport_shm_condvar = {
	.name = "shm-condvar",
	.summary = "shared-memory ring, process-shared robust mutex + condvars (CLOCK_MONOTONIC)",
	.setup = cv_setup,
	.attach = cv_attach,
	.send = cv_send,
	.recv = cv_recv,
	.detach = cv_detach,
	.teardown = cv_teardown,
};
