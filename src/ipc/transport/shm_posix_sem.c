/* shm_posix_sem.c - a shared-memory ring per direction, slots counted by two unnamed
 * process-shared POSIX semaphores (sem_init(3) pshared=1): "empty" (free slots) and
 * "full" (messages waiting). The mapping is anonymous MAP_SHARED: nothing is named, so
 * nothing can leak. Waits are sem_clockwait(3) on CLOCK_MONOTONIC (glibc >= 2.30) with a
 * ~50 ms deadline, looping on il_link_peer_gone() so a killed peer gives EPIPE. */
#include "transport.h"
#include "ring.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <semaphore.h>
#include <string.h>

struct psem_chan {
	sem_t empty;   /* free slots, initially `slots` */
	sem_t full;    /* messages waiting, initially 0 */
	_Alignas(IL_CACHELINE) uint64_t head;  /* messages put (sender only) */
	_Alignas(IL_CACHELINE) uint64_t tail;  /* messages taken (receiver only) */
};

struct psem {
	struct il_ring r; /* first: geometry and mapping length */
	int inited;      /* semaphores initialised (0..4), for teardown */
	struct psem_chan ch[2];
	_Alignas(IL_CACHELINE) unsigned char data[]; /* [channel][slot][stride] */
};

static unsigned char *slot(struct psem *p, int c, uint64_t n)
{
	return il_ring_slot(&p->r, p->data, c, n);
}

static void psem_free(struct il_link *l)
{
	struct psem *p = l->priv;
	if (!p)
		return;
	/* sem_destroy is a no-op on Linux, and safe even with a dead waiter. */
	for (int i = 0; i < p->inited; i++)
		(void)sem_destroy(i & 1 ? &p->ch[i / 2].full : &p->ch[i / 2].empty);
	il_shared_free(p, p->r.map_len);
	l->priv = NULL;
}

static int psem_setup(struct il_link *l)
{
	struct psem *p = il_ring_alloc(sizeof(struct psem), l->size);
	if (!p)
		return il_exit_for_errno(errno);
	const unsigned slots = p->r.slots;
	l->priv = p;
	for (int i = 0; i < 4; i++) {
		sem_t *s = i & 1 ? &p->ch[i / 2].full : &p->ch[i / 2].empty;
		if (sem_init(s, 1, i & 1 ? 0 : slots) < 0) {
			il_errno("sem_init failed");
			int rc = il_exit_for_errno(errno);
			psem_free(l);
			return rc;
		}
		p->inited++;
	}
	return 0;
}

static int psem_attach(struct il_link *l, int side)
{
	return 0;
}

/* Takes one unit of s, checking for a dead peer every IL_PEER_CHECK_NS. 0, or -1 with
 * errno (EPIPE: the peer is gone and s stayed at zero). */
static int psem_wait(struct il_link *l, int side, sem_t *s)
{
	if (sem_trywait(s) == 0) /* fast path: no clock read, no syscall */
		return 0;
	for (;;) {
		struct timespec dl = il_peer_check_deadline();
		if (sem_clockwait(s, CLOCK_MONOTONIC, &dl) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			return -1;
		if (il_link_peer_gone(l, side)) {
			/* The peer may have posted just before it left: drain first. */
			if (sem_trywait(s) == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
	}
}

static int psem_send(struct il_link *l, int side, const void *buf)
{
	struct psem *p = l->priv;
	struct psem_chan *ch = &p->ch[side];
	if (psem_wait(l, side, &ch->empty) < 0)
		return -1;
	memcpy(slot(p, side, ch->head++), buf, l->size);
	return sem_post(&ch->full); /* release: the copy is visible before the count */
}

static int psem_recv(struct il_link *l, int side, void *buf)
{
	struct psem *p = l->priv;
	struct psem_chan *ch = &p->ch[1 - side];
	if (psem_wait(l, side, &ch->full) < 0)
		return -1;
	memcpy(buf, slot(p, 1 - side, ch->tail++), l->size);
	return sem_post(&ch->empty);
}

static void psem_detach(struct il_link *l, int side)
{
	/* Nothing to close: the peer notices through il_link_peer_gone(). */
}

static void psem_teardown(struct il_link *l)
{
	psem_free(l);
}

const struct il_transport il_transport_shm_posix_sem = {
	.name = "shm-posix-sem",
	.summary = "shared-memory ring, unnamed process-shared POSIX semaphores (full/empty)",
	.setup = psem_setup,
	.attach = psem_attach,
	.send = psem_send,
	.recv = psem_recv,
	.detach = psem_detach,
	.teardown = psem_teardown,
};
