/* queue_sysv.c - the System V half of "ipc queue" (msgop(2)): capacity in bytes
 * (msg_qbytes = N*S), the size after every put and get, ENOMSG/EAGAIN with IPC_NOWAIT, a
 * get that blocks until a put and a put that blocks until a get (each seen asleep in
 * another thread first), FIFO order, E2BIG and MSG_NOERROR truncation, and IPC_RMID
 * waking a blocked get. The queue is registered for removal at once and removed (the
 * IPC_RMID step) when the run ends. */
#include "queue.h"
#include "transport/transport.h"
#include "../core/cleanup.h"
#include "../core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>

struct sysv_msg {
	long mtype;
	unsigned char mtext[];
};

/* One run's queue and buffers. */
struct sq {
	struct il_qlog *q;
	unsigned N;
	size_t S;
	int id, h;                 /* the queue and its cleanup handle (-1: removed) */
	struct sysv_msg *m, *bm;   /* ours, and the blocked thread's */
	char op[128], exp[160], act[200], st[96], note[128];
};

static int do_msgsnd(struct il_blocker *b)
{
	return msgsnd(b->id, b->buf, b->len, 0);
}

static int do_msgrcv(struct il_blocker *b)
{
	return (int)msgrcv(b->id, b->buf, b->len, 0, 0);
}

/* "qnum=N cbytes=B" of the queue, into s->st. */
static void stat_str(struct sq *s)
{
	struct msqid_ds ds;
	if (msgctl(s->id, IPC_STAT, &ds) < 0)
		(void)snprintf(s->st, sizeof(s->st), "IPC_STAT %s", il_ename(errno));
	else
		(void)snprintf(s->st, sizeof(s->st), "qnum=%lu cbytes=%lu", (unsigned long)ds.msg_qnum,
			       (unsigned long)ds.__msg_cbytes);
}

/* Removes the queue now (a blocked thread must not wait forever). */
static void remove_queue(struct sq *s)
{
	if (s->h >= 0)
		il_cleanup_remove(s->h);
	s->h = s->id = -1;
}

/* msgget (0600, registered), then msg_qbytes = N*S (msgsnd(2): a message fits while
 * cbytes + size <= qbytes). 0 or an exit code after one line. */
static int create_phase(struct sq *s)
{
	long msgmax = il_read_long("/proc/sys/kernel/msgmax");
	if (msgmax >= 0 && s->S > (size_t)msgmax) {
		il_err("--size %zu exceeds kernel.msgmax (%ld bytes per message; raise /proc/sys/kernel/msgmax)", s->S,
		       msgmax);
		return IL_NORES;
	}
	if ((s->id = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600)) < 0)
		return il_msgget_error();
	if ((s->h = il_cleanup_add(IL_OBJ_SYSV_MSG, NULL, s->id)) < 0) {
		il_errno("cannot register queue %d for cleanup", s->id);
		(void)msgctl(s->id, IPC_RMID, NULL);
		s->id = -1;
		return IL_NORES;
	}
	const size_t bytes = s->N * s->S;
	struct msqid_ds ds;
	if (msgctl(s->id, IPC_STAT, &ds) < 0) {
		il_errno("msgctl IPC_STAT failed");
		return IL_FAIL;
	}
	ds.msg_qbytes = (msglen_t)bytes;
	if (msgctl(s->id, IPC_SET, &ds) < 0) {
		int e = errno;
		if (e == EPERM)
			il_err("msgctl IPC_SET msg_qbytes=%zu refused: above kernel.msgmnb (%ld bytes; raise "
			       "/proc/sys/kernel/msgmnb, or run with CAP_SYS_RESOURCE)", bytes,
			       il_read_long("/proc/sys/kernel/msgmnb"));
		else
			il_errno("msgctl IPC_SET msg_qbytes=%zu failed", bytes);
		return e == EPERM ? IL_NORES : il_exit_for_errno(e);
	}
	if (msgctl(s->id, IPC_STAT, &ds) < 0)
		(void)snprintf(s->act, sizeof(s->act), "IPC_STAT %s", il_ename(errno));
	else
		(void)snprintf(s->act, sizeof(s->act), "qbytes=%lu qnum=%lu cbytes=%lu", (unsigned long)ds.msg_qbytes,
			       (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
	(void)snprintf(s->op, sizeof(s->op), "msgget 0600, IPC_SET msg_qbytes=%u*%zu", s->N, s->S);
	(void)snprintf(s->exp, sizeof(s->exp), "qbytes=%zu qnum=0 cbytes=0", bytes);
	il_qstep(s->q, s->op, s->exp, s->act, -1, NULL);
	return 0;
}

/* Empty: IPC_NOWAIT, then a get (in another thread) that blocks until our put. */
static int empty_phase(struct sq *s)
{
	int rc;
	ssize_t n = msgrcv(s->id, s->m, s->S, 0, IPC_NOWAIT);
	il_qstep(s->q, "get on empty, IPC_NOWAIT", "ENOMSG", n < 0 ? il_ename(errno) : "ok", -1, NULL);
	struct il_blocker b = { .fn = do_msgrcv, .sysno = SYS_msgrcv, .id = s->id, .buf = s->bm, .len = s->S };
	if ((rc = il_blocker_start(&b)) != 0)
		return rc;
	bool asleep = il_blocker_asleep(&b);
	s->m->mtype = 1;
	il_qfill(s->m->mtext, s->S, 1000);
	if (msgsnd(s->id, s->m, s->S, 0) < 0)
		remove_queue(s);
	(void)pthread_join(b.th, NULL);
	(void)snprintf(s->act, sizeof(s->act), "%s, then %s seq=%" PRIu64, asleep ? "asleep" : "never asleep",
		       b.ret < 0 ? il_ename(b.err) : "ok", b.ret < 0 ? 0 : il_qseq(s->bm->mtext));
	(void)snprintf(s->note, sizeof(s->note), "receiver blocked %.1f us", (double)(b.t1 - b.t0) / 1e3);
	il_qstep(s->q, "get on empty blocks until put seq=1000", "asleep, then ok seq=1000", s->act, -1, s->note);
	return s->id < 0 ? IL_FAIL : 0;
}

/* Fill (the size after each put), then full with IPC_NOWAIT. */
static void fill_phase(struct sq *s)
{
	for (unsigned i = 0; i <= s->N; i++) {
		s->m->mtype = 1;
		il_qfill(s->m->mtext, s->S, i);
		int r = msgsnd(s->id, s->m, s->S, IPC_NOWAIT), e = errno;
		stat_str(s);
		if (i < s->N) {
			(void)snprintf(s->op, sizeof(s->op), "put seq=%u", i);
			(void)snprintf(s->exp, sizeof(s->exp), "ok qnum=%u cbytes=%zu", i + 1, (i + 1) * s->S);
		} else {
			(void)snprintf(s->op, sizeof(s->op), "put on full, IPC_NOWAIT");
			(void)snprintf(s->exp, sizeof(s->exp), "EAGAIN qnum=%u cbytes=%zu", s->N, s->N * s->S);
		}
		(void)snprintf(s->act, sizeof(s->act), "%s %s", r < 0 ? il_ename(e) : "ok", s->st);
		il_qstep(s->q, s->op, s->exp, s->act, -1, NULL);
	}
}

/* Full: a put (in another thread) that blocks until our get. */
static int blocked_put_phase(struct sq *s)
{
	int rc;
	const unsigned N = s->N;
	s->bm->mtype = 1;
	il_qfill(s->bm->mtext, s->S, N);
	struct il_blocker bs = { .fn = do_msgsnd, .sysno = SYS_msgsnd, .id = s->id, .buf = s->bm, .len = s->S };
	if ((rc = il_blocker_start(&bs)) != 0)
		return rc;
	bool asleep = il_blocker_asleep(&bs);
	ssize_t n = msgrcv(s->id, s->m, s->S, 0, IPC_NOWAIT);
	int e = errno;
	if (n < 0)
		remove_queue(s);
	(void)pthread_join(bs.th, NULL);
	if (s->id >= 0)
		stat_str(s);
	(void)snprintf(s->op, sizeof(s->op), "put seq=%u on full blocks until a get", N);
	(void)snprintf(s->exp, sizeof(s->exp), "asleep, get seq=0, then ok qnum=%u", N);
	(void)snprintf(s->act, sizeof(s->act), "%s, get %s%" PRIu64 ", then %s qnum=%s",
		       asleep ? "asleep" : "never asleep", n < 0 ? il_ename(e) : "seq=", n < 0 ? 0 : il_qseq(s->m->mtext),
		       bs.ret < 0 ? il_ename(bs.err) : "ok", s->id >= 0 ? strchr(s->st, '=') + 1 : "?");
	char *cb = strstr(s->act, " cbytes="); /* compare only "qnum=N" */
	if (cb)
		*cb = 0;
	(void)snprintf(s->note, sizeof(s->note), "sender blocked %.1f us", (double)(bs.t1 - bs.t0) / 1e3);
	il_qstep(s->q, s->op, s->exp, s->act, -1, s->note);
	return s->id < 0 ? IL_FAIL : 0;
}

/* Drain: FIFO, the released message last. */
static void drain_phase(struct sq *s)
{
	for (unsigned i = 1; i <= s->N; i++) {
		ssize_t n = msgrcv(s->id, s->m, s->S, 0, IPC_NOWAIT);
		int e = errno;
		stat_str(s);
		(void)snprintf(s->exp, sizeof(s->exp), "seq=%u qnum=%u cbytes=%zu", i, s->N - i, (s->N - i) * s->S);
		if (n < 0)
			(void)snprintf(s->act, sizeof(s->act), "%s %s", il_ename(e), s->st);
		else
			(void)snprintf(s->act, sizeof(s->act), "seq=%" PRIu64 " %s", il_qseq(s->m->mtext), s->st);
		il_qstep(s->q, "get (FIFO)", s->exp, s->act, -1, NULL);
	}
}

/* Too large for the receive buffer: E2BIG, unless MSG_NOERROR truncates. */
static void size_phase(struct sq *s)
{
	size_t half = s->S / 2;
	s->m->mtype = 1;
	il_qfill(s->m->mtext, s->S, 7);
	int r = msgsnd(s->id, s->m, s->S, IPC_NOWAIT);
	ssize_t n = msgrcv(s->id, s->bm, half, 0, IPC_NOWAIT);
	int e = errno;
	stat_str(s);
	(void)snprintf(s->op, sizeof(s->op), "put %zu bytes, get into %zu bytes", s->S, half);
	(void)snprintf(s->exp, sizeof(s->exp), "E2BIG qnum=1 cbytes=%zu", s->S);
	(void)snprintf(s->act, sizeof(s->act), "%s %s", r < 0 ? "put failed" : n < 0 ? il_ename(e) : "ok", s->st);
	il_qstep(s->q, s->op, s->exp, s->act, -1, NULL);
	n = msgrcv(s->id, s->bm, half, 0, IPC_NOWAIT | MSG_NOERROR);
	e = errno;
	stat_str(s);
	(void)snprintf(s->op, sizeof(s->op), "get into %zu bytes, MSG_NOERROR", half);
	(void)snprintf(s->exp, sizeof(s->exp), "%zu bytes seq=7 qnum=0 cbytes=0", half);
	if (n < 0)
		(void)snprintf(s->act, sizeof(s->act), "%s %s", il_ename(e), s->st);
	else
		(void)snprintf(s->act, sizeof(s->act), "%zd bytes seq=%" PRIu64 " %s", n, il_qseq(s->bm->mtext), s->st);
	il_qstep(s->q, s->op, s->exp, s->act, -1, NULL);
}

/* IPC_RMID wakes a blocked get with EIDRM; the id is then invalid. */
static int rmid_phase(struct sq *s)
{
	int rc;
	struct il_blocker br = { .fn = do_msgrcv, .sysno = SYS_msgrcv, .id = s->id, .buf = s->bm, .len = s->S };
	if ((rc = il_blocker_start(&br)) != 0)
		return rc;
	bool asleep = il_blocker_asleep(&br);
	int r = msgctl(s->id, IPC_RMID, NULL), e = errno;
	if (r == 0)
		il_cleanup_forget(s->h);
	else
		il_cleanup_remove(s->h);
	s->h = -1;
	(void)pthread_join(br.th, NULL);
	(void)snprintf(s->act, sizeof(s->act), "%s, IPC_RMID %s, get %s", asleep ? "asleep" : "never asleep",
		       r < 0 ? il_ename(e) : "ok", br.ret < 0 ? il_ename(br.err) : "ok");
	il_qstep(s->q, "IPC_RMID while a get blocks", "asleep, IPC_RMID ok, get EIDRM", s->act, -1, NULL);
	s->m->mtype = 1;
	r = msgsnd(s->id, s->m, s->S, IPC_NOWAIT);
	e = errno;
	il_qstep(s->q, "put after IPC_RMID", "EINVAL|EIDRM", r < 0 ? il_ename(e) : "ok",
		 r < 0 && (e == EINVAL || e == EIDRM), NULL);
	s->id = -1;
	return 0;
}

int il_queue_sysv(struct il_qlog *q, unsigned N, size_t S)
{
	size_t mlen = sizeof(struct sysv_msg) + S;
	struct sq s = { .q = q, .N = N, .S = S, .id = -1, .h = -1, .m = calloc(1, mlen), .bm = calloc(1, mlen) };
	int rc;
	q->kind = "sysv";
	if (!s.m || !s.bm) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	if ((rc = create_phase(&s)) != 0 || (rc = empty_phase(&s)) != 0)
		goto out;
	fill_phase(&s);
	if ((rc = blocked_put_phase(&s)) != 0)
		goto out;
	drain_phase(&s);
	size_phase(&s);
	rc = rmid_phase(&s);
out:
	remove_queue(&s);
	free(s.m);
	free(s.bm);
	return rc;
}
