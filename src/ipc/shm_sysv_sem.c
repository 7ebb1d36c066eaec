/* shm_sysv_sem.c - a shared-memory ring per direction (anonymous MAP_SHARED), slots
 * counted by a System V semaphore set (semget(2) IPC_PRIVATE, mode 0600): per channel an
 * "empty" and a "full" semaphore. Unlike POSIX semaphores every semop(2) is a system call.
 * The set is a kernel object that outlives us: it is registered with il_cleanup_add so an
 * error, SIGINT/SIGTERM or the watchdog still removes it. Waits are semtimedop(2) with a
 * ~50 ms timeout, looping on il_link_peer_gone() so a killed peer gives EPIPE. */
#include "transport.h"
#include "shm_common.h"
#include "../core/cleanup.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/spawn.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* Semaphore numbers in the set. */
#define SEM_EMPTY(c) ((unsigned short)(2 * (c)))
#define SEM_FULL(c) ((unsigned short)(2 * (c) + 1))

struct ssem {
	struct il_ring r; /* first: geometry and mapping length */
	int semid;
	int cleanup;   /* il_cleanup handle of the set */
	struct {
		_Alignas(IL_CACHELINE) uint64_t head; /* messages put (sender only) */
		_Alignas(IL_CACHELINE) uint64_t tail; /* messages taken (receiver only) */
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

static void ssem_free(struct il_link *l)
{
	struct ssem *p = l->priv;
	if (!p)
		return;
	if (p->cleanup >= 0)
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
	const unsigned slots = p->r.slots;
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
	unsigned short init[4] = { (unsigned short)slots, 0, (unsigned short)slots, 0 };
	if (semctl(p->semid, 0, SETALL, (union semun){ .array = init }) < 0) {
		il_errno("semctl(SETALL) failed");
		int rc = il_exit_for_errno(errno);
		ssem_free(l);
		return rc;
	}
	return 0;
}

static int ssem_attach(struct il_link *l, int side)
{
	return 0;
}

/* semop(2) of delta on semaphore num: a post (delta > 0) never blocks; a wait blocks for
 * at most IL_PEER_CHECK_NS at a time, checking for a dead peer in between. 0, or -1 with
 * errno (EPIPE: the peer is gone, or the set was removed). */
static int ssem_op(struct il_link *l, int side, unsigned short num, short delta)
{
	struct ssem *p = l->priv;
	struct sembuf op = { .sem_num = num, .sem_op = delta, .sem_flg = 0 };
	const struct timespec to = { 0, (long)IL_PEER_CHECK_NS };
	for (;;) {
		if ((delta > 0 ? semop(p->semid, &op, 1) : semtimedop(p->semid, &op, 1, &to)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EIDRM) {
			errno = EPIPE;
			return -1;
		}
		if (errno != EAGAIN)
			return -1;
		if (il_link_peer_gone(l, side)) {
			/* The peer may have posted just before it left: drain first. */
			op.sem_flg = IPC_NOWAIT;
			if (semop(p->semid, &op, 1) == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
	}
}

static int ssem_send(struct il_link *l, int side, const void *buf)
{
	struct ssem *p = l->priv;
	if (ssem_op(l, side, SEM_EMPTY(side), -1) < 0)
		return -1;
	memcpy(slot(p, side, p->ch[side].head++), buf, l->size);
	return ssem_op(l, side, SEM_FULL(side), 1);
}

static int ssem_recv(struct il_link *l, int side, void *buf)
{
	struct ssem *p = l->priv;
	const int c = 1 - side;
	if (ssem_op(l, side, SEM_FULL(c), -1) < 0)
		return -1;
	memcpy(buf, slot(p, c, p->ch[c].tail++), l->size);
	return ssem_op(l, side, SEM_EMPTY(c), 1);
}

static void ssem_detach(struct il_link *l, int side)
{
}

static void ssem_teardown(struct il_link *l)
{
	ssem_free(l);
}

const struct il_transport il_transport_shm_sysv_sem = {
	.name = "shm-sysv-sem",
	.summary = "shared-memory ring, System V semaphore set (semop(2) full/empty)",
	.setup = ssem_setup,
	.attach = ssem_attach,
	.send = ssem_send,
	.recv = ssem_recv,
	.detach = ssem_detach,
	.teardown = ssem_teardown,
};
