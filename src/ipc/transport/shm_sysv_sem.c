/* shm_sysv_sem.c - a shared-memory ring per direction (anonymous MAP_SHARED) and a System
 * V semaphore set (semget(2) IPC_PRIVATE, mode 0600): per channel a "full" semaphore that
 * counts the messages (the receiver waits on it, the sender posts it) and a "room"
 * semaphore that wakes a sender waiting for a free slot. Unlike POSIX semaphores every
 * semop(2) is a system call, so the fast path has exactly svsematest's two: the sender's
 * post and the receiver's wait. The sender sees the free slots in shared memory (the
 * receiver's count), and only a sender that finds the ring full sleeps on "room", after
 * raising a flag the receiver looks at when it frees a slot.
 * The set is a kernel object that outlives us: it is registered with il_cleanup_add so an
 * error, SIGINT/SIGTERM or the watchdog still removes it.
 *
 * Waits are plain blocking semop(2), as svsematest's: a semtimedop would arm a kernel
 * timer on every wait. A departure is announced instead: the departing side sets
 * left[side] and posts the peer's two semaphores (its "full" on our channel, its
 * "room" on its own), so a peer asleep in either wakes; a woken receive that finds no
 * message behind the post, or a send whose peer has left, reports EPIPE. A killed peer
 * cannot announce anything: the lifeline watcher (il_link_watch) removes the set, and a
 * semop blocked on it fails with EIDRM (EPIPE), as sysv-msg does. */
#include "transport.h"
#include "ring.h"
#include "../../core/cleanup.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* Semaphore numbers in the set. */
#define SEM_ROOM(c) ((unsigned short)(2 * (c)))
#define SEM_FULL(c) ((unsigned short)(2 * (c) + 1))

struct ssem {
	struct il_ring r; /* first: geometry and mapping length */
	int semid;
	int cleanup;   /* il_cleanup handle of the set */
	int removed;   /* the set is (being) removed: claimed by set_remove */
	int left[2];   /* side s has gone (detached, or killed: set by the other's watcher) */
	struct il_link_watch watch[2];
	struct {
		_Alignas(IL_CACHELINE) uint64_t head; /* messages put (sender only) */
		_Alignas(IL_CACHELINE) uint64_t tail; /* messages taken (receiver writes) */
		int waiting;                          /* the sender sleeps (or is about to) on room */
	} ch[2];
	_Alignas(IL_CACHELINE) unsigned char data[];
};

/* semctl(2) wants the caller to define this. */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static unsigned char *slot(struct ssem *p, int c, uint64_t n)
{
	return il_ring_slot(&p->r, p->data, c, n);
}

/* Removes the set unless someone else did or does: a semop blocked on it fails with
 * EIDRM. The cleanup registry forgets it (a no-op in a forked peer). */
static void set_remove(struct ssem *p)
{
	if (p->semid < 0 || __atomic_exchange_n(&p->removed, 1, __ATOMIC_ACQ_REL))
		return;
	(void)semctl(p->semid, 0, IPC_RMID);
	il_cleanup_forget(p->cleanup);
}

static void ssem_free(struct il_link *l)
{
	struct ssem *p = l->priv;
	if (!p)
		return;
	il_link_watch_stop(&p->watch[0]);
	if (__atomic_exchange_n(&p->removed, 1, __ATOMIC_ACQ_REL))
		il_cleanup_forget(p->cleanup);
	else if (p->cleanup >= 0)
		il_cleanup_remove(p->cleanup); /* semctl(IPC_RMID) */
	else if (p->semid >= 0)
		(void)semctl(p->semid, 0, IPC_RMID);
	il_shared_free(p, p->r.map_len);
	l->priv = NULL;
}

static int ssem_setup(struct il_link *l)
{
	struct ssem *p = il_ring_alloc(sizeof(struct ssem), l->size);
	if (!p)
		return il_exit_for_errno(errno);
	p->cleanup = -1;
	p->semid = semget(IPC_PRIVATE, 4, IPC_CREAT | 0600);
	l->priv = p;
	if (p->semid < 0) {
		il_errno("semget failed");
		int rc = il_exit_for_errno(errno);
		ssem_free(l);
		return rc;
	}
	p->cleanup = il_cleanup_add(IL_OBJ_SYSV_SEM, NULL, p->semid);
	if (p->cleanup < 0) {
		il_errno("cannot register semaphore set %d for removal", p->semid);
		ssem_free(l);
		return IL_NORES;
	}
	unsigned short init[4] = { 0, 0, 0, 0 };
	if (semctl(p->semid, 0, SETALL, (union semun){ .array = init }) < 0) {
		il_errno("semctl(SETALL) failed");
		int rc = il_exit_for_errno(errno);
		ssem_free(l);
		return rc;
	}
	return 0;
}

/* The watcher's wake: a peer killed before its detach completed cannot announce it. */
static void ssem_wake(struct il_link *l, int side)
{
	if (!__atomic_load_n(&l->ls->closed[1 - side], __ATOMIC_ACQUIRE))
		set_remove(l->priv);
}

/* A forked side watches its peer's lifeline. */
static int ssem_attach(struct il_link *l, int side)
{
	struct ssem *p = l->priv;
	if (il_link_watch_start(&p->watch[side], l, side, ssem_wake) < 0) {
		il_errno("cannot start the lifeline watcher");
		return IL_NORES;
	}
	return 0;
}

static bool gone(const struct ssem *p, int side)
{
	return __atomic_load_n(&p->left[side], __ATOMIC_SEQ_CST) != 0;
}

/* semop(2) of delta on semaphore num, blocking, EINTR retried. 0, or -1 with errno
 * (EPIPE: the set was removed because the peer died). */
static int ssem_op(struct ssem *p, unsigned short num, short delta)
{
	struct sembuf op = { .sem_num = num, .sem_op = delta, .sem_flg = 0 };
	while (semop(p->semid, &op, 1) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EIDRM || (errno == EINVAL && __atomic_load_n(&p->removed, __ATOMIC_ACQUIRE)))
			errno = EPIPE;
		return -1;
	}
	return 0;
}

/* EPIPE, leaving the post that woke us for any later wait. */
static int departed(struct ssem *p, unsigned short num)
{
	(void)ssem_op(p, num, 1);
	errno = EPIPE;
	return -1;
}

/* The ring of channel `side` is full: sleep on its room semaphore until the receiver
 * frees a slot (or leaves). 0, or -1 with errno (EPIPE). */
static int wait_room(struct ssem *p, int side)
{
	const uint64_t head = p->ch[side].head;
	for (;;) {
		__atomic_store_n(&p->ch[side].waiting, 1, __ATOMIC_SEQ_CST);
		if (head - __atomic_load_n(&p->ch[side].tail, __ATOMIC_SEQ_CST) < p->r.slots)
			return 0;
		if (ssem_op(p, SEM_ROOM(side), -1) < 0)
			return -1;
		if (gone(p, 1 - side)) /* woken by the departure, not by a free slot */
			return departed(p, SEM_ROOM(side));
	}
}

static int ssem_send(struct il_link *l, int side, const void *buf)
{
	struct ssem *p = l->priv;
	const uint64_t head = p->ch[side].head;
	if (gone(p, 1 - side)) {
		errno = EPIPE;
		return -1;
	}
	if (head - __atomic_load_n(&p->ch[side].tail, __ATOMIC_ACQUIRE) >= p->r.slots && wait_room(p, side) < 0)
		return -1;
	memcpy(slot(p, side, head), buf, l->size);
	__atomic_store_n(&p->ch[side].head, head + 1, __ATOMIC_RELEASE);
	return ssem_op(p, SEM_FULL(side), 1);
}

static int ssem_recv(struct il_link *l, int side, void *buf)
{
	struct ssem *p = l->priv;
	const int c = 1 - side;
	if (ssem_op(p, SEM_FULL(c), -1) < 0)
		return -1;
	uint64_t tail = p->ch[c].tail;
	if (__atomic_load_n(&p->ch[c].head, __ATOMIC_ACQUIRE) == tail) /* a departure's post */
		return departed(p, SEM_FULL(c));
	memcpy(buf, slot(p, c, tail), l->size);
	__atomic_store_n(&p->ch[c].tail, tail + 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->ch[c].waiting, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&p->ch[c].waiting, 0, __ATOMIC_SEQ_CST);
		return ssem_op(p, SEM_ROOM(c), 1);
	}
	return 0;
}

/* Stops our watcher (before the lifelines close); announces the departure and wakes
 * the peer wherever it waits: for a message from us, or for room to send to us. */
static void ssem_detach(struct il_link *l, int side)
{
	struct ssem *p = l->priv;
	il_link_watch_stop(&p->watch[side]);
	__atomic_store_n(&p->left[side], 1, __ATOMIC_SEQ_CST);
	(void)ssem_op(p, SEM_FULL(side), 1);
	(void)ssem_op(p, SEM_ROOM(1 - side), 1);
}

static void ssem_teardown(struct il_link *l)
{
	ssem_free(l);
}

const struct il_transport il_transport_shm_sysv_sem = {
	.name = "shm-sysv-sem",
	.summary = "shared-memory ring, System V semaphore set (semop(2): one post, one wait per message)",
	.setup = ssem_setup,
	.attach = ssem_attach,
	.send = ssem_send,
	.recv = ssem_recv,
	.detach = ssem_detach,
	.teardown = ssem_teardown,
};
