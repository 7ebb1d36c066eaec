/* sysv_msg.c - one System V message queue (msgget(2), IPC_PRIVATE, 0600) carrying both
 * directions: channel c is message type c + 1, so each side msgrcv()s only its own type.
 * Registered for removal (IPC_RMID) right after creation.
 *
 * Limits: one message may not exceed kernel.msgmax (msgsnd(2): EINVAL, even for root),
 * and the queue must hold it (msg_qbytes, from kernel.msgmnb; raised with IPC_SET when
 * permitted). Both are checked in setup: exit 3 naming the sysctl.
 *
 * Dead peer - the choice: msgrcv(2) has no timeout, and the alternatives are worse for
 * the measurement: IPC_NOWAIT polling spins (or sleeps, adding latency), and a periodic
 * timer signal interrupting msgrcv puts wake-ups into the very path being measured.
 * So the fast path stays one blocking msgsnd/msgrcv, and a departure wakes both
 * directions without a syscall on that path:
 * - A side that detaches (is done, or failed) sets left[side], then drains the messages
 *   of its own type (sent to it, never to be read) so a peer blocked in msgsnd on a full
 *   queue gets its room, and puts a zero-length message of the peer's type in the queue
 *   (a "goodbye", read as EPIPE; it always fits: it adds no bytes). A send checks the
 *   peer's left flag (a load) before msgsnd, so it blocks at most once after the peer
 *   left, and the drain releases that one. The goodbye queues behind any real message of
 *   that type, so nothing sent before a clean departure is lost.
 * - A killed process cannot do that. When a lifeline hangs up before that side's detach
 *   was complete, the other side's lifeline watcher thread (il_link_watch, asleep in
 *   poll(2) on the lifeline, costing nothing until then) removes the queue (IPC_RMID): a
 *   msgsnd or msgrcv blocked on it fails with EIDRM, a later one with EINVAL, both read
 *   as EPIPE. Detection takes microseconds, not a timeout. Whoever removes the queue
 *   first (watcher, teardown) claims it in shared memory, so it is removed only once,
 *   and the cleanup registry forgets it. */
#include "transport.h"
#include "../../core/cleanup.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct sysv_buf {
	long mtype;
	char mtext[];
};

/* In MAP_SHARED memory; each side uses only its own staging buffer and watch slot. */
struct sysv_priv {
	int id;
	int h;                       /* cleanup handle */
	int removed;                 /* the queue is (being) removed: claimed by queue_remove */
	int left[2];                 /* side s has detached (set before it drains) */
	struct sysv_buf *stage[2];   /* side s: mtype + l->size bytes (msgsnd wants them together) */
	struct il_link_watch watch[2];
};

static long mtype_of(int chan)
{
	return chan + 1;
}

static const char *sysv_unsupported(void)
{
	struct msginfo mi;
	if (msgctl(0, MSG_INFO, (struct msqid_ds *)&mi) < 0 && errno == ENOSYS)
		return "System V message queues not available (CONFIG_SYSVIPC)";
	return NULL;
}

static size_t stage_bytes(size_t size)
{
	return sizeof(struct sysv_buf) + size;
}

int il_msgget_error(void)
{
	int e = errno;
	if (e == ENOSPC)
		il_err("msgget failed: kernel.msgmni (%ld queues) reached; raise /proc/sys/kernel/msgmni",
		       il_read_long("/proc/sys/kernel/msgmni"));
	else
		il_errno("msgget failed");
	return il_exit_for_errno(e);
}

static int sysv_setup(struct il_link *l)
{
	struct sysv_priv *p = il_shared_alloc(sizeof(*p));
	if (!p) {
		il_errno("cannot map the queue state");
		return IL_NORES;
	}
	l->priv = p;
	p->id = p->h = -1;
	long msgmax = il_read_long("/proc/sys/kernel/msgmax");
	if (msgmax >= 0 && l->size > (size_t)msgmax) {
		il_err("--size %zu exceeds kernel.msgmax (%ld bytes per message; raise "
		       "/proc/sys/kernel/msgmax, and /proc/sys/kernel/msgmnb for the queue)", l->size, msgmax);
		return IL_NORES;
	}
	for (int s = 0; s < 2; s++) {
		if (!(p->stage[s] = il_shared_alloc(stage_bytes(l->size)))) {
			il_errno("cannot map a %zu-byte message buffer", l->size);
			return IL_NORES;
		}
	}
	if ((p->id = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600)) < 0)
		return il_msgget_error();
	if ((p->h = il_cleanup_add(IL_OBJ_SYSV_MSG, NULL, p->id)) < 0) {
		il_errno("cannot register queue %d for cleanup", p->id);
		(void)msgctl(p->id, IPC_RMID, NULL);
		p->id = -1;
		return IL_NORES;
	}
	/* One message is in the queue at a time; it must fit in msg_qbytes. */
	struct msqid_ds ds;
	if (msgctl(p->id, IPC_STAT, &ds) < 0) {
		il_errno("msgctl IPC_STAT failed");
		return IL_FAIL;
	}
	if (ds.msg_qbytes < l->size) {
		msglen_t old = ds.msg_qbytes;
		ds.msg_qbytes = l->size;
		if (msgctl(p->id, IPC_SET, &ds) < 0) { /* above msgmnb needs CAP_SYS_RESOURCE */
			il_errno("--size %zu exceeds the queue size of %lu bytes (kernel.msgmnb; raise "
				 "/proc/sys/kernel/msgmnb) and it could not be raised", l->size, (unsigned long)old);
			return IL_NORES;
		}
	}
	return 0;
}

/* Sends a zero-length message of type chan+1, never blocking: a departure notice. */
static void goodbye(int id, int chan)
{
	struct sysv_buf b = { .mtype = mtype_of(chan) };
	while (msgsnd(id, &b, 0, IPC_NOWAIT) < 0 && errno == EINTR)
		;
}

static bool removed(struct sysv_priv *p)
{
	return __atomic_load_n(&p->removed, __ATOMIC_ACQUIRE) != 0;
}

/* Removes the queue unless someone else did or does: blocked msgsnd/msgrcv calls fail
 * with EIDRM. The cleanup registry forgets it (a no-op in a forked peer, which never
 * removes registered objects), so its id is never removed twice. */
static void queue_remove(struct sysv_priv *p)
{
	if (p->id < 0 || __atomic_exchange_n(&p->removed, 1, __ATOMIC_ACQ_REL))
		return;
	(void)msgctl(p->id, IPC_RMID, NULL);
	il_cleanup_forget(p->h);
}

/* errno of a failed msgsnd/msgrcv: EIDRM (removed while we waited) or, once removed,
 * EINVAL (no such queue) mean the peer is gone: EPIPE. */
static void map_gone(struct sysv_priv *p)
{
	if (errno == EIDRM || (errno == EINVAL && removed(p)))
		errno = EPIPE;
}

/* The watcher's wake: the peer's lifeline hung up. A peer that completed its detach
 * has drained and said goodbye; one that did not (killed, even halfway through it)
 * cannot: remove the queue, waking this side's msgsnd or msgrcv, whichever it sleeps in. */
static void sysv_wake(struct il_link *l, int side)
{
	if (!l->ls->closed[1 - side])
		queue_remove(l->priv);
}

/* One queue for both: nothing to drop; a forked side watches its peer's lifeline. */
static int sysv_attach(struct il_link *l, int side)
{
	struct sysv_priv *p = l->priv;
	p->stage[side]->mtype = mtype_of(side);
	if (il_link_watch_start(&p->watch[side], l, side, sysv_wake) < 0) {
		il_errno("cannot start the lifeline watcher");
		return il_exit_for_errno(errno);
	}
	return 0;
}

static int sysv_send(struct il_link *l, int side, const void *buf)
{
	struct sysv_priv *p = l->priv;
	struct sysv_buf *b = p->stage[side];
	b->mtype = mtype_of(side);
	memcpy(b->mtext, buf, l->size);
	/* A peer that has left reads no more: EPIPE instead of filling the queue (its
	 * detach drains what it left unread, so a msgsnd that passed this check and blocks
	 * is released). */
	if (__atomic_load_n(&p->left[1 - side], __ATOMIC_ACQUIRE)) {
		errno = EPIPE;
		return -1;
	}
	while (msgsnd(p->id, b, l->size, 0) < 0) {
		if (errno == EINTR)
			continue;
		map_gone(p);
		return -1;
	}
	return 0;
}

static int sysv_recv(struct il_link *l, int side, void *buf)
{
	struct sysv_priv *p = l->priv;
	struct sysv_buf *b = p->stage[side];
	ssize_t n;
	while ((n = msgrcv(p->id, b, l->size, mtype_of(1 - side), 0)) < 0) {
		if (errno == EINTR)
			continue;
		map_gone(p);
		return -1;
	}
	if (n == 0) { /* goodbye: put it back for any later receive, report the departure */
		goodbye(p->id, 1 - side);
		errno = EPIPE;
		return -1;
	}
	if ((size_t)n != l->size) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(buf, b->mtext, l->size);
	return 0;
}

/* Stops our watcher (before the lifelines close); then, unless the queue is gone:
 * announces the departure, drains what was sent to us (so a peer blocked in msgsnd on a
 * full queue gets room) and says goodbye to the peer's receive. */
static void sysv_detach(struct il_link *l, int side)
{
	struct sysv_priv *p = l->priv;
	il_link_watch_stop(&p->watch[side]);
	__atomic_store_n(&p->left[side], 1, __ATOMIC_SEQ_CST);
	if (removed(p))
		return;
	struct sysv_buf *b = p->stage[side];
	for (;;) {
		ssize_t n = msgrcv(p->id, b, l->size, mtype_of(1 - side), IPC_NOWAIT | MSG_NOERROR);
		if (n < 0 && errno != EINTR)
			break; /* ENOMSG: drained; EIDRM/EINVAL: removed */
	}
	goodbye(p->id, side);
}

/* Parent, after the join: the queue goes unless a watcher removed it already. */
static void sysv_teardown(struct il_link *l)
{
	struct sysv_priv *p = l->priv;
	if (!p)
		return;
	il_link_watch_stop(&p->watch[0]);
	if (__atomic_exchange_n(&p->removed, 1, __ATOMIC_ACQ_REL))
		il_cleanup_forget(p->h);
	else
		il_cleanup_remove(p->h);
	for (int s = 0; s < 2; s++)
		il_shared_free(p->stage[s], stage_bytes(l->size));
	il_shared_free(p, sizeof(*p));
	l->priv = NULL;
}

const struct il_transport il_transport_sysv_msg = {
	.name = "sysv-msg",
	.summary = "one System V message queue (msgget), a message type per direction",
	.unsupported = sysv_unsupported,
	.setup = sysv_setup,
	.attach = sysv_attach,
	.send = sysv_send,
	.recv = sysv_recv,
	.detach = sysv_detach,
	.teardown = sysv_teardown,
};
