/* queue_posix.c - the POSIX half of "ipc queue" (mq_overview(7)): capacity, the size
 * after every put and get, EAGAIN and ETIMEDOUT when empty or full, FIFO order,
 * priorities, EMSGSIZE, and unlink: the name is removed as soon as both descriptors
 * are open (the queue lives on through them), so a killed run leaves no queue behind. */
#include "queue.h"
#include "transport/transport.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TIMED_WAIT_NS (20 * 1000 * 1000L) /* mq_timedsend/receive deadline */
#define PRIO_MSGS 4

/* One run's queue: two descriptors (blocking and O_NONBLOCK) of one unnamed queue. */
struct pq {
	struct il_qlog *q;
	unsigned N;
	size_t S;
	char name[64];
	mqd_t mq, mqn;
	unsigned char *buf;  /* S + 1 bytes */
	char op[128], exp[128], act[160], note[128];
};

/* Creates a queue (O_EXCL, 0600), registered until its name is removed. 0 or an exit code. */
static int mq_make(char *name, size_t nlen, long maxmsg, size_t size, mqd_t *q, int *h)
{
	struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = (long)size };
	il_object_name(name, (unsigned)nlen, "queue");
	*q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
	if (*q == (mqd_t)-1)
		return il_mq_open_error(maxmsg, size);
	if ((*h = il_cleanup_add(IL_OBJ_MQ, name, 0)) < 0) {
		il_errno("cannot register %s for cleanup", name);
		(void)mq_close(*q);
		(void)mq_unlink(name);
		*q = (mqd_t)-1;
		return IL_NORES;
	}
	return 0;
}

static long curmsgs(mqd_t q)
{
	struct mq_attr a;
	return mq_getattr(q, &a) == 0 ? a.mq_curmsgs : -1;
}

static struct timespec deadline(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += TIMED_WAIT_NS;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	return ts;
}

/* "ETIMEDOUT" when the call failed so and waited the whole deadline; the note says how long. */
static void timed_outcome(struct pq *p, int r, int e, uint64_t waited)
{
	if (r >= 0)
		(void)snprintf(p->act, sizeof(p->act), "ok (did not block)");
	else if (e == ETIMEDOUT && waited + 1000000 < (uint64_t)TIMED_WAIT_NS)
		(void)snprintf(p->act, sizeof(p->act), "ETIMEDOUT early");
	else
		(void)snprintf(p->act, sizeof(p->act), "%s", il_ename(e));
	(void)snprintf(p->note, sizeof(p->note), "blocked %.1f ms of a %ld ms deadline", (double)waited / 1e6,
		       TIMED_WAIT_NS / 1000000);
}

/* The queue with both descriptors, its attributes, then its name removed. 0 or an exit code. */
static int open_phase(struct pq *p)
{
	int h, rc;
	if ((rc = mq_make(p->name, sizeof(p->name), (long)p->N, p->S, &p->mq, &h)) != 0)
		return rc;
	/* the same queue through a second, non-blocking descriptor */
	if ((p->mqn = mq_open(p->name, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == (mqd_t)-1) {
		rc = il_mq_open_error((long)p->N, p->S);
		il_cleanup_remove(h);
		return rc;
	}
	struct mq_attr a;
	if (mq_getattr(p->mq, &a) < 0)
		(void)snprintf(p->act, sizeof(p->act), "%s", il_ename(errno));
	else
		(void)snprintf(p->act, sizeof(p->act), "maxmsg=%ld msgsize=%ld curmsgs=%ld", a.mq_maxmsg,
			       a.mq_msgsize, a.mq_curmsgs);
	(void)snprintf(p->exp, sizeof(p->exp), "maxmsg=%u msgsize=%zu curmsgs=0", p->N, p->S);
	il_qstep(p->q, "mq_open O_CREAT|O_EXCL 0600, mq_getattr", p->exp, p->act, -1, NULL);
	/* unlink: the name goes, the open descriptors keep working (every later step) */
	int r = mq_unlink(p->name);
	il_qstep(p->q, "mq_unlink", "ok", r < 0 ? il_ename(errno) : "ok", -1, NULL);
	if (r == 0)
		il_cleanup_forget(h);
	else
		il_cleanup_remove(h);
	mqd_t again = mq_open(p->name, O_RDWR | O_CLOEXEC);
	il_qstep(p->q, "mq_open the name after unlink", "ENOENT", again == (mqd_t)-1 ? il_ename(errno) : "ok", -1,
		 NULL);
	if (again != (mqd_t)-1)
		(void)mq_close(again);
	return 0;
}

/* Empty: a non-blocking get, then a timed one. */
static void empty_phase(struct pq *p)
{
	unsigned prio;
	ssize_t n = mq_receive(p->mqn, (char *)p->buf, p->S, &prio);
	il_qstep(p->q, "get on empty, O_NONBLOCK", "EAGAIN", n < 0 ? il_ename(errno) : "ok", -1, NULL);
	struct timespec ts = deadline();
	uint64_t t0 = il_now_ns();
	n = mq_timedreceive(p->mq, (char *)p->buf, p->S, &prio, &ts);
	int e = errno;
	timed_outcome(p, (int)n, e, il_now_ns() - t0);
	il_qstep(p->q, "get on empty, mq_timedreceive", "ETIMEDOUT", p->act, -1, p->note);
}

/* Fill (the size after each put), then full: a non-blocking put, then a timed one. */
static void fill_phase(struct pq *p)
{
	for (unsigned i = 0; i < p->N; i++) {
		il_qfill(p->buf, p->S, i);
		int r = mq_send(p->mq, (const char *)p->buf, p->S, 0);
		(void)snprintf(p->op, sizeof(p->op), "put seq=%u prio=0", i);
		(void)snprintf(p->exp, sizeof(p->exp), "ok curmsgs=%u", i + 1);
		(void)snprintf(p->act, sizeof(p->act), "%s curmsgs=%ld", r < 0 ? il_ename(errno) : "ok", curmsgs(p->mq));
		il_qstep(p->q, p->op, p->exp, p->act, -1, NULL);
	}
	il_qfill(p->buf, p->S, p->N);
	int r = mq_send(p->mqn, (const char *)p->buf, p->S, 0);
	(void)snprintf(p->exp, sizeof(p->exp), "EAGAIN curmsgs=%u", p->N);
	(void)snprintf(p->act, sizeof(p->act), "%s curmsgs=%ld", r < 0 ? il_ename(errno) : "ok", curmsgs(p->mq));
	il_qstep(p->q, "put on full, O_NONBLOCK", p->exp, p->act, -1, NULL);
	struct timespec ts = deadline();
	uint64_t t0 = il_now_ns();
	r = mq_timedsend(p->mq, (const char *)p->buf, p->S, 0, &ts);
	int e = errno;
	timed_outcome(p, r, e, il_now_ns() - t0);
	il_qstep(p->q, "put on full, mq_timedsend", "ETIMEDOUT", p->act, -1, p->note);
}

/* Drain: FIFO order and the size after each get. */
static void drain_phase(struct pq *p)
{
	unsigned prio;
	for (unsigned i = 0; i < p->N; i++) {
		ssize_t n = mq_receive(p->mq, (char *)p->buf, p->S, &prio);
		(void)snprintf(p->exp, sizeof(p->exp), "seq=%u curmsgs=%u", i, p->N - 1 - i);
		if (n < 0)
			(void)snprintf(p->act, sizeof(p->act), "%s curmsgs=%ld", il_ename(errno), curmsgs(p->mq));
		else
			(void)snprintf(p->act, sizeof(p->act), "seq=%" PRIu64 " curmsgs=%ld", il_qseq(p->buf),
				       curmsgs(p->mq));
		il_qstep(p->q, "get (FIFO)", p->exp, p->act, -1, NULL);
	}
}

/* Priorities, on a queue of their own (unnamed at once): highest first, FIFO within. */
static int prio_phase(struct pq *p)
{
	static const unsigned prios[PRIO_MSGS] = { 1, 5, 1, 5 };
	static const unsigned order[PRIO_MSGS] = { 1, 3, 0, 2 };
	char pname[64];
	mqd_t pq;
	int h, bad = 0, rc;
	unsigned prio;
	if ((rc = mq_make(pname, sizeof(pname), PRIO_MSGS, p->S, &pq, &h)) != 0)
		return rc;
	il_cleanup_remove(h); /* the descriptor is all we need */
	for (unsigned i = 0; i < PRIO_MSGS; i++) {
		il_qfill(p->buf, p->S, i);
		if (mq_send(pq, (const char *)p->buf, p->S, prios[i]) < 0 && !bad)
			bad = errno;
	}
	(void)snprintf(p->act, sizeof(p->act), "%s curmsgs=%ld", bad ? il_ename(bad) : "ok", curmsgs(pq));
	il_qstep(p->q, "put seq=0,1,2,3 prio=1,5,1,5", "ok curmsgs=4", p->act, -1, NULL);
	for (unsigned i = 0; i < PRIO_MSGS; i++) {
		ssize_t n = mq_receive(pq, (char *)p->buf, p->S, &prio);
		(void)snprintf(p->exp, sizeof(p->exp), "seq=%u prio=%u", order[i], prios[order[i]]);
		if (n < 0)
			(void)snprintf(p->act, sizeof(p->act), "%s", il_ename(errno));
		else
			(void)snprintf(p->act, sizeof(p->act), "seq=%" PRIu64 " prio=%u", il_qseq(p->buf), prio);
		il_qstep(p->q, "get (highest priority first, FIFO within)", p->exp, p->act, -1, NULL);
	}
	(void)mq_close(pq);
	return 0;
}

/* Too large: a put over msgsize, a get into a buffer under it. */
static void size_phase(struct pq *p)
{
	unsigned prio;
	il_qfill(p->buf, p->S + 1, 0);
	int r = mq_send(p->mq, (const char *)p->buf, p->S + 1, 0);
	(void)snprintf(p->op, sizeof(p->op), "put %zu bytes (msgsize %zu)", p->S + 1, p->S);
	il_qstep(p->q, p->op, "EMSGSIZE", r < 0 ? il_ename(errno) : "ok", -1, NULL);
	ssize_t n = mq_receive(p->mqn, (char *)p->buf, p->S - 1, &prio);
	(void)snprintf(p->op, sizeof(p->op), "get into a %zu-byte buffer", p->S - 1);
	il_qstep(p->q, p->op, "EMSGSIZE", n < 0 ? il_ename(errno) : "ok", -1, NULL);
}

/* The unnamed queue still works through its descriptors; closing them ends it. */
static void close_phase(struct pq *p)
{
	unsigned prio;
	il_qfill(p->buf, p->S, 42);
	int r = mq_send(p->mq, (const char *)p->buf, p->S, 0);
	(void)snprintf(p->act, sizeof(p->act), "%s curmsgs=%ld", r < 0 ? il_ename(errno) : "ok", curmsgs(p->mq));
	il_qstep(p->q, "put seq=42 on the open descriptor", "ok curmsgs=1", p->act, -1, NULL);
	ssize_t n = mq_receive(p->mq, (char *)p->buf, p->S, &prio);
	if (n < 0)
		(void)snprintf(p->act, sizeof(p->act), "%s", il_ename(errno));
	else
		(void)snprintf(p->act, sizeof(p->act), "seq=%" PRIu64 " curmsgs=%ld", il_qseq(p->buf), curmsgs(p->mq));
	il_qstep(p->q, "get on the open descriptor", "seq=42 curmsgs=0", p->act, -1, NULL);
	r = mq_close(p->mq);
	if (mq_close(p->mqn) < 0 && r == 0)
		r = -1;
	il_qstep(p->q, "mq_close both descriptors", "ok", r < 0 ? il_ename(errno) : "ok", -1, NULL);
	r = mq_send(p->mq, (const char *)p->buf, p->S, 0);
	p->mq = p->mqn = (mqd_t)-1;
	il_qstep(p->q, "put on the closed descriptor", "EBADF", r < 0 ? il_ename(errno) : "ok", -1, NULL);
}

int il_queue_posix(struct il_qlog *q, unsigned N, size_t S)
{
	struct pq p = { .q = q, .N = N, .S = S, .mq = (mqd_t)-1, .mqn = (mqd_t)-1, .buf = calloc(1, S + 1) };
	int rc = IL_OK;
	q->kind = "posix";
	if (!p.buf) {
		il_err("out of memory");
		return IL_NORES;
	}
	if ((rc = open_phase(&p)) != 0)
		goto out;
	empty_phase(&p);
	fill_phase(&p);
	drain_phase(&p);
	if ((rc = prio_phase(&p)) != 0)
		goto out;
	size_phase(&p);
	close_phase(&p);
out:
	if (p.mq != (mqd_t)-1)
		(void)mq_close(p.mq);
	if (p.mqn != (mqd_t)-1)
		(void)mq_close(p.mqn);
	free(p.buf);
	return rc;
}
