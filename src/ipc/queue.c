/* queue.c - "ipclab ipc queue": the message-queue semantics a course teaches, shown and
 * CHECKED step by step on a POSIX queue (mq_overview(7)) and a System V queue (msgop(2)):
 * capacity, put blocking/EAGAIN when full, get blocking/EAGAIN (SysV: ENOMSG) when empty,
 * the current size after every put and get, FIFO order, POSIX priorities, oversized
 * messages (EMSGSIZE; SysV E2BIG and MSG_NOERROR truncation), unlink/IPC_RMID.
 * Every step has an expected and an actual outcome; any mismatch exits 1.
 * Blocking calls that must really block run in a second thread; the main thread acts only
 * after it has seen that thread asleep (state S in /proc/self/task/TID/stat, and in the
 * expected syscall per /proc/self/task/TID/syscall when readable), never after a sleep.
 * Queues are named/created O_EXCL 0600 and registered for removal at once. */
#include "transport.h"
#include "../core/cleanup.h"
#include "../core/sys.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TIMED_WAIT_NS (20 * 1000 * 1000L) /* mq_timedsend/receive deadline */
#define ASLEEP_LIMIT_NS (10ull * 1000 * 1000 * 1000) /* give up watching a blocker */
#define PRIO_MSGS 4

static const char *const kind_names[] = { "posix", "sysv", "both", NULL };
enum { K_POSIX, K_SYSV, K_BOTH };

/* The transcript of one run: one step per operation. */
struct qlog {
	bool human;
	json_t *steps;
	unsigned n;
	const char *kind;
	unsigned passed, failed;
};

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

/* Records one step; pass when actual == expected unless told otherwise (ok_override >= 0). */
static void step_x(struct qlog *q, const char *op, const char *expected, const char *actual, int ok_override,
		   const char *note)
{
	bool pass = ok_override >= 0 ? ok_override != 0 : strcmp(expected, actual) == 0;
	q->n++;
	if (pass)
		q->passed++;
	else
		q->failed++;
	(void)json_array_append_new(q->steps, json_pack("{sI ss ss ss ss sb so}", "n", (json_int_t)q->n, "kind",
							q->kind, "op", op, "expected", expected, "actual", actual,
							"pass", pass, "note",
							note ? json_string(note) : json_null()));
	if (q->human) {
		printf("%3u %-5s %-42s %-36s %-36s %s", q->n, q->kind, op, expected, actual,
		       pass ? "ok" : "FAIL");
		if (note)
			printf("  (%s)", note);
		putchar('\n');
	}
	if (!pass)
		il_fail("step %u (%s %s): expected %s, got %s", q->n, q->kind, op, expected, actual);
}

static void step(struct qlog *q, const char *op, const char *expected, const char *actual)
{
	step_x(q, op, expected, actual, -1, NULL);
}

/* Payload: sequence number in the first 8 bytes, then a pattern. */
static void fill(unsigned char *buf, size_t size, uint64_t seq)
{
	memset(buf, (int)(seq & 0xff), size);
	memcpy(buf, &seq, sizeof(seq));
}

static uint64_t seq_of(const unsigned char *buf)
{
	uint64_t s;
	memcpy(&s, buf, sizeof(s));
	return s;
}

/* ---- watching a thread block ---- */

struct blocker {
	int (*fn)(struct blocker *b); /* the blocking call; returns its result, errno kept */
	long sysno;                   /* the syscall it should sleep in */
	/* SysV */
	int id;
	void *buf;
	size_t len;
	/* results */
	pid_t tid;
	int started, done;
	long ret;
	int err;
	uint64_t t0, t1;
	pthread_t th;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	__atomic_store_n(&b->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	b->t0 = il_now_ns();
	__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
	int r = b->fn(b);
	b->err = r < 0 ? errno : 0;
	b->t1 = il_now_ns();
	b->ret = r;
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int do_msgsnd(struct blocker *b)
{
	return msgsnd(b->id, b->buf, b->len, 0);
}

static int do_msgrcv(struct blocker *b)
{
	return (int)msgrcv(b->id, b->buf, b->len, 0, 0);
}

/* True once thread tid sleeps (state S) in syscall sysno; false if the call returned or
 * ASLEEP_LIMIT_NS passed. Polls /proc with sched_yield in between: no sleep. */
static bool wait_asleep(struct blocker *b)
{
	char path[96];
	uint64_t end = il_now_ns() + ASLEEP_LIMIT_NS;
	while (!__atomic_load_n(&b->started, __ATOMIC_ACQUIRE))
		sched_yield();
	pid_t tid = __atomic_load_n(&b->tid, __ATOMIC_ACQUIRE);
	while (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) && il_now_ns() < end) {
		struct il_proc_stat ps;
		if (il_proc_stat(tid, &ps) == 0 && ps.state == 'S') {
			FILE *f;
			(void)snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
			long nr = -2;
			if ((f = fopen(path, "re"))) {
				if (fscanf(f, "%ld", &nr) != 1)
					nr = -1; /* "running" */
				(void)fclose(f);
			}
			if (nr == b->sysno || nr == -2) /* -2: unreadable, trust the state */
				return true;
		}
		sched_yield();
	}
	return false;
}

static int blocker_start(struct blocker *b)
{
	int e = pthread_create(&b->th, NULL, blocker_main, b);
	if (e) {
		errno = e;
		il_errno("pthread_create failed");
		return il_exit_for_errno(e);
	}
	return 0;
}

/* ---- POSIX ---- */

/* Creates a queue (O_EXCL, 0600) and registers it. Returns 0 or an exit code. */
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

/* "ETIMEDOUT" when the call failed so and waited the whole deadline. */
static void timed_outcome(char *act, size_t len, char *note, size_t nlen, int r, int e, uint64_t waited)
{
	if (r >= 0)
		(void)snprintf(act, len, "ok (did not block)");
	else if (e == ETIMEDOUT && waited + 1000000 < (uint64_t)TIMED_WAIT_NS)
		(void)snprintf(act, len, "ETIMEDOUT early");
	else
		(void)snprintf(act, len, "%s", ename(e));
	(void)snprintf(note, nlen, "blocked %.1f ms of a %ld ms deadline", (double)waited / 1e6,
		       TIMED_WAIT_NS / 1000000);
}

static int posix_run(struct qlog *q, unsigned N, size_t S)
{
	char name[64], pname[64], op[128], exp[128], act[160], note[128];
	mqd_t mq = (mqd_t)-1, mqn = (mqd_t)-1, pq = (mqd_t)-1;
	int h = -1, ph = -1, rc;
	unsigned char *buf = calloc(1, S + 1);
	unsigned prio;
	q->kind = "posix";
	if (!buf) {
		il_err("out of memory");
		return IL_NORES;
	}
	if ((rc = mq_make(name, sizeof(name), (long)N, S, &mq, &h)) != 0)
		goto out;
	/* the same queue through a second, non-blocking descriptor */
	if ((mqn = mq_open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == (mqd_t)-1) {
		rc = il_mq_open_error((long)N, S);
		goto out;
	}
	struct mq_attr a;
	if (mq_getattr(mq, &a) < 0)
		(void)snprintf(act, sizeof(act), "%s", ename(errno));
	else
		(void)snprintf(act, sizeof(act), "maxmsg=%ld msgsize=%ld curmsgs=%ld", a.mq_maxmsg, a.mq_msgsize,
			       a.mq_curmsgs);
	(void)snprintf(op, sizeof(op), "mq_open O_CREAT|O_EXCL 0600, mq_getattr");
	(void)snprintf(exp, sizeof(exp), "maxmsg=%u msgsize=%zu curmsgs=0", N, S);
	step(q, op, exp, act);

	/* empty: non-blocking get, then a timed get */
	ssize_t n = mq_receive(mqn, (char *)buf, S, &prio);
	step(q, "get on empty, O_NONBLOCK", "EAGAIN", n < 0 ? ename(errno) : "ok");
	struct timespec ts = deadline();
	uint64_t t0 = il_now_ns();
	n = mq_timedreceive(mq, (char *)buf, S, &prio, &ts);
	int e = errno;
	timed_outcome(act, sizeof(act), note, sizeof(note), (int)n, e, il_now_ns() - t0);
	step_x(q, "get on empty, mq_timedreceive", "ETIMEDOUT", act, -1, note);

	/* fill: the size after each put */
	for (unsigned i = 0; i < N; i++) {
		fill(buf, S, i);
		int r = mq_send(mq, (const char *)buf, S, 0);
		(void)snprintf(op, sizeof(op), "put seq=%u prio=0", i);
		(void)snprintf(exp, sizeof(exp), "ok curmsgs=%u", i + 1);
		(void)snprintf(act, sizeof(act), "%s curmsgs=%ld", r < 0 ? ename(errno) : "ok", curmsgs(mq));
		step(q, op, exp, act);
	}
	/* full: non-blocking put, then a timed put */
	fill(buf, S, N);
	int r = mq_send(mqn, (const char *)buf, S, 0);
	(void)snprintf(exp, sizeof(exp), "EAGAIN curmsgs=%u", N);
	(void)snprintf(act, sizeof(act), "%s curmsgs=%ld", r < 0 ? ename(errno) : "ok", curmsgs(mq));
	step(q, "put on full, O_NONBLOCK", exp, act);
	ts = deadline();
	t0 = il_now_ns();
	r = mq_timedsend(mq, (const char *)buf, S, 0, &ts);
	e = errno;
	timed_outcome(act, sizeof(act), note, sizeof(note), r, e, il_now_ns() - t0);
	step_x(q, "put on full, mq_timedsend", "ETIMEDOUT", act, -1, note);

	/* drain: FIFO order and the size after each get */
	for (unsigned i = 0; i < N; i++) {
		n = mq_receive(mq, (char *)buf, S, &prio);
		(void)snprintf(exp, sizeof(exp), "seq=%u curmsgs=%u", i, N - 1 - i);
		if (n < 0)
			(void)snprintf(act, sizeof(act), "%s curmsgs=%ld", ename(errno), curmsgs(mq));
		else
			(void)snprintf(act, sizeof(act), "seq=%" PRIu64 " curmsgs=%ld", seq_of(buf), curmsgs(mq));
		step(q, "get (FIFO)", exp, act);
	}

	/* priorities: a separate queue of PRIO_MSGS messages */
	if ((rc = mq_make(pname, sizeof(pname), PRIO_MSGS, S, &pq, &ph)) != 0)
		goto out;
	static const unsigned prios[PRIO_MSGS] = { 1, 5, 1, 5 };
	static const unsigned order[PRIO_MSGS] = { 1, 3, 0, 2 };
	int bad = 0;
	for (unsigned i = 0; i < PRIO_MSGS; i++) {
		fill(buf, S, i);
		if (mq_send(pq, (const char *)buf, S, prios[i]) < 0 && !bad)
			bad = errno;
	}
	(void)snprintf(act, sizeof(act), "%s curmsgs=%ld", bad ? ename(bad) : "ok", curmsgs(pq));
	step(q, "put seq=0,1,2,3 prio=1,5,1,5", "ok curmsgs=4", act);
	for (unsigned i = 0; i < PRIO_MSGS; i++) {
		n = mq_receive(pq, (char *)buf, S, &prio);
		(void)snprintf(exp, sizeof(exp), "seq=%u prio=%u", order[i], prios[order[i]]);
		if (n < 0)
			(void)snprintf(act, sizeof(act), "%s", ename(errno));
		else
			(void)snprintf(act, sizeof(act), "seq=%" PRIu64 " prio=%u", seq_of(buf), prio);
		step(q, "get (highest priority first, FIFO within)", exp, act);
	}
	(void)mq_close(pq);
	pq = (mqd_t)-1;
	il_cleanup_remove(ph);
	ph = -1;

	/* too large */
	fill(buf, S + 1, 0);
	r = mq_send(mq, (const char *)buf, S + 1, 0);
	(void)snprintf(op, sizeof(op), "put %zu bytes (msgsize %zu)", S + 1, S);
	step(q, op, "EMSGSIZE", r < 0 ? ename(errno) : "ok");
	n = mq_receive(mqn, (char *)buf, S - 1, &prio);
	(void)snprintf(op, sizeof(op), "get into a %zu-byte buffer", S - 1);
	step(q, op, "EMSGSIZE", n < 0 ? ename(errno) : "ok");

	/* unlink: the name goes, the open descriptor keeps working */
	r = mq_unlink(name);
	step(q, "mq_unlink", "ok", r < 0 ? ename(errno) : "ok");
	if (r == 0) {
		il_cleanup_forget(h);
		h = -1;
	}
	mqd_t again = mq_open(name, O_RDWR | O_CLOEXEC);
	step(q, "mq_open the name after unlink", "ENOENT", again == (mqd_t)-1 ? ename(errno) : "ok");
	if (again != (mqd_t)-1)
		(void)mq_close(again);
	fill(buf, S, 42);
	r = mq_send(mq, (const char *)buf, S, 0);
	(void)snprintf(act, sizeof(act), "%s curmsgs=%ld", r < 0 ? ename(errno) : "ok", curmsgs(mq));
	step(q, "put seq=42 on the open descriptor", "ok curmsgs=1", act);
	n = mq_receive(mq, (char *)buf, S, &prio);
	if (n < 0)
		(void)snprintf(act, sizeof(act), "%s", ename(errno));
	else
		(void)snprintf(act, sizeof(act), "seq=%" PRIu64 " curmsgs=%ld", seq_of(buf), curmsgs(mq));
	step(q, "get on the open descriptor", "seq=42 curmsgs=0", act);
	r = mq_close(mq);
	if (mq_close(mqn) < 0 && r == 0)
		r = -1;
	step(q, "mq_close both descriptors", "ok", r < 0 ? ename(errno) : "ok");
	r = mq_send(mq, (const char *)buf, S, 0);
	mq = mqn = (mqd_t)-1;
	step(q, "put on the closed descriptor", "EBADF", r < 0 ? ename(errno) : "ok");
	rc = IL_OK;
out:
	if (pq != (mqd_t)-1)
		(void)mq_close(pq);
	if (mq != (mqd_t)-1)
		(void)mq_close(mq);
	if (mqn != (mqd_t)-1)
		(void)mq_close(mqn);
	if (ph >= 0)
		il_cleanup_remove(ph);
	if (h >= 0)
		il_cleanup_remove(h);
	free(buf);
	return rc;
}

/* ---- System V ---- */

struct sysv_msg {
	long mtype;
	unsigned char mtext[];
};

static void stat_str(int id, char *out, size_t len)
{
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) < 0)
		(void)snprintf(out, len, "IPC_STAT %s", ename(errno));
	else
		(void)snprintf(out, len, "qnum=%lu cbytes=%lu", (unsigned long)ds.msg_qnum,
			       (unsigned long)ds.__msg_cbytes);
}

static int sysv_run(struct qlog *q, unsigned N, size_t S)
{
	char op[128], exp[160], act[200], st[96], note[128];
	int id = -1, h = -1, rc = IL_OK;
	size_t mlen = sizeof(struct sysv_msg) + S;
	struct sysv_msg *m = calloc(1, mlen), *bm = calloc(1, mlen);
	q->kind = "sysv";
	if (!m || !bm) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	long msgmax = il_read_long("/proc/sys/kernel/msgmax");
	if (msgmax >= 0 && S > (size_t)msgmax) {
		il_err("--size %zu exceeds kernel.msgmax (%ld bytes per message; raise /proc/sys/kernel/msgmax)", S,
		       msgmax);
		rc = IL_NORES;
		goto out;
	}
	if ((id = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600)) < 0) {
		int e = errno;
		if (e == ENOSPC)
			il_err("msgget failed: kernel.msgmni (%ld queues) reached; raise /proc/sys/kernel/msgmni",
			       il_read_long("/proc/sys/kernel/msgmni"));
		else
			il_errno("msgget failed");
		rc = il_exit_for_errno(e);
		goto out;
	}
	if ((h = il_cleanup_add(IL_OBJ_SYSV_MSG, NULL, id)) < 0) {
		il_errno("cannot register queue %d for cleanup", id);
		(void)msgctl(id, IPC_RMID, NULL);
		id = -1;
		rc = IL_NORES;
		goto out;
	}
	/* capacity: N messages of S bytes fill msg_qbytes = N*S (msgsnd(2): a message fits
	 * while cbytes + size <= qbytes) */
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) < 0) {
		il_errno("msgctl IPC_STAT failed");
		rc = IL_FAIL;
		goto out;
	}
	ds.msg_qbytes = (msglen_t)(N * S);
	if (msgctl(id, IPC_SET, &ds) < 0) {
		int e = errno;
		if (e == EPERM)
			il_err("msgctl IPC_SET msg_qbytes=%zu refused: above kernel.msgmnb (%ld bytes; raise "
			       "/proc/sys/kernel/msgmnb, or run with CAP_SYS_RESOURCE)", N * S,
			       il_read_long("/proc/sys/kernel/msgmnb"));
		else
			il_errno("msgctl IPC_SET msg_qbytes=%zu failed", N * S);
		rc = e == EPERM ? IL_NORES : il_exit_for_errno(e);
		goto out;
	}
	if (msgctl(id, IPC_STAT, &ds) < 0)
		(void)snprintf(act, sizeof(act), "IPC_STAT %s", ename(errno));
	else
		(void)snprintf(act, sizeof(act), "qbytes=%lu qnum=%lu cbytes=%lu", (unsigned long)ds.msg_qbytes,
			       (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
	(void)snprintf(op, sizeof(op), "msgget 0600, IPC_SET msg_qbytes=%u*%zu", N, S);
	(void)snprintf(exp, sizeof(exp), "qbytes=%zu qnum=0 cbytes=0", N * S);
	step(q, op, exp, act);

	/* empty: IPC_NOWAIT, then a get that blocks until a put */
	ssize_t n = msgrcv(id, m, S, 0, IPC_NOWAIT);
	step(q, "get on empty, IPC_NOWAIT", "ENOMSG", n < 0 ? ename(errno) : "ok");
	struct blocker b = { .fn = do_msgrcv, .sysno = SYS_msgrcv, .id = id, .buf = bm, .len = S };
	if ((rc = blocker_start(&b)) != 0)
		goto out;
	bool asleep = wait_asleep(&b);
	m->mtype = 1;
	fill(m->mtext, S, 1000);
	int r = msgsnd(id, m, S, 0);
	if (r < 0) /* the blocker must not wait forever: removing the queue wakes it */
		il_cleanup_remove(h), h = -1, id = -1;
	(void)pthread_join(b.th, NULL);
	(void)snprintf(act, sizeof(act), "%s, then %s seq=%" PRIu64, asleep ? "asleep" : "never asleep",
		       b.ret < 0 ? ename(b.err) : "ok", b.ret < 0 ? 0 : seq_of(bm->mtext));
	(void)snprintf(note, sizeof(note), "receiver blocked %.1f us", (double)(b.t1 - b.t0) / 1e3);
	step_x(q, "get on empty blocks until put seq=1000", "asleep, then ok seq=1000", act, -1, note);
	if (id < 0) {
		rc = IL_FAIL;
		goto out;
	}

	/* fill: the size after each put */
	for (unsigned i = 0; i < N; i++) {
		m->mtype = 1;
		fill(m->mtext, S, i);
		r = msgsnd(id, m, S, IPC_NOWAIT);
		int e = errno;
		stat_str(id, st, sizeof(st));
		(void)snprintf(op, sizeof(op), "put seq=%u", i);
		(void)snprintf(exp, sizeof(exp), "ok qnum=%u cbytes=%zu", i + 1, (i + 1) * S);
		(void)snprintf(act, sizeof(act), "%s %s", r < 0 ? ename(e) : "ok", st);
		step(q, op, exp, act);
	}
	fill(m->mtext, S, N);
	r = msgsnd(id, m, S, IPC_NOWAIT);
	int e = errno;
	stat_str(id, st, sizeof(st));
	(void)snprintf(exp, sizeof(exp), "EAGAIN qnum=%u cbytes=%zu", N, N * S);
	(void)snprintf(act, sizeof(act), "%s %s", r < 0 ? ename(e) : "ok", st);
	step(q, "put on full, IPC_NOWAIT", exp, act);

	/* full: a blocking put in another thread, released by our get */
	bm->mtype = 1;
	fill(bm->mtext, S, N);
	struct blocker bs = { .fn = do_msgsnd, .sysno = SYS_msgsnd, .id = id, .buf = bm, .len = S };
	if ((rc = blocker_start(&bs)) != 0)
		goto out;
	asleep = wait_asleep(&bs);
	n = msgrcv(id, m, S, 0, IPC_NOWAIT);
	e = errno;
	if (n < 0)
		il_cleanup_remove(h), h = -1, id = -1;
	(void)pthread_join(bs.th, NULL);
	if (id >= 0)
		stat_str(id, st, sizeof(st));
	else
		(void)snprintf(st, sizeof(st), "removed");
	(void)snprintf(op, sizeof(op), "put seq=%u on full blocks until a get", N);
	(void)snprintf(exp, sizeof(exp), "asleep, get seq=0, then ok qnum=%u", N);
	(void)snprintf(act, sizeof(act), "%s, get %s%" PRIu64 ", then %s qnum=%s", asleep ? "asleep" : "never asleep",
		       n < 0 ? ename(e) : "seq=", n < 0 ? 0 : seq_of(m->mtext), bs.ret < 0 ? ename(bs.err) : "ok",
		       id >= 0 ? strchr(st, '=') + 1 : "?");
	/* compare only "qnum=N": cut the cbytes part off the actual */
	char *cb = strstr(act, " cbytes=");
	if (cb)
		*cb = 0;
	(void)snprintf(note, sizeof(note), "sender blocked %.1f us", (double)(bs.t1 - bs.t0) / 1e3);
	step_x(q, op, exp, act, -1, note);
	if (id < 0) {
		rc = IL_FAIL;
		goto out;
	}
	/* drain: FIFO, the released message last */
	for (unsigned i = 1; i <= N; i++) {
		n = msgrcv(id, m, S, 0, IPC_NOWAIT);
		e = errno;
		stat_str(id, st, sizeof(st));
		(void)snprintf(exp, sizeof(exp), "seq=%u qnum=%u cbytes=%zu", i, N - i, (N - i) * S);
		if (n < 0)
			(void)snprintf(act, sizeof(act), "%s %s", ename(e), st);
		else
			(void)snprintf(act, sizeof(act), "seq=%" PRIu64 " %s", seq_of(m->mtext), st);
		step(q, "get (FIFO)", exp, act);
	}

	/* too large for the receive buffer: E2BIG, unless MSG_NOERROR truncates */
	size_t half = S / 2;
	m->mtype = 1;
	fill(m->mtext, S, 7);
	r = msgsnd(id, m, S, IPC_NOWAIT);
	n = msgrcv(id, bm, half, 0, IPC_NOWAIT);
	e = errno;
	stat_str(id, st, sizeof(st));
	(void)snprintf(op, sizeof(op), "put %zu bytes, get into %zu bytes", S, half);
	(void)snprintf(exp, sizeof(exp), "E2BIG qnum=1 cbytes=%zu", S);
	(void)snprintf(act, sizeof(act), "%s %s", r < 0 ? "put failed" : n < 0 ? ename(e) : "ok", st);
	step(q, op, exp, act);
	n = msgrcv(id, bm, half, 0, IPC_NOWAIT | MSG_NOERROR);
	e = errno;
	stat_str(id, st, sizeof(st));
	(void)snprintf(op, sizeof(op), "get into %zu bytes, MSG_NOERROR", half);
	(void)snprintf(exp, sizeof(exp), "%zu bytes seq=7 qnum=0 cbytes=0", half);
	if (n < 0)
		(void)snprintf(act, sizeof(act), "%s %s", ename(e), st);
	else
		(void)snprintf(act, sizeof(act), "%zd bytes seq=%" PRIu64 " %s", n, seq_of(bm->mtext), st);
	step(q, op, exp, act);

	/* IPC_RMID wakes a blocked get with EIDRM; the id is then invalid */
	struct blocker br = { .fn = do_msgrcv, .sysno = SYS_msgrcv, .id = id, .buf = bm, .len = S };
	if ((rc = blocker_start(&br)) != 0)
		goto out;
	asleep = wait_asleep(&br);
	r = msgctl(id, IPC_RMID, NULL);
	e = errno;
	if (r == 0)
		il_cleanup_forget(h);
	else
		il_cleanup_remove(h);
	h = -1;
	(void)pthread_join(br.th, NULL);
	(void)snprintf(act, sizeof(act), "%s, IPC_RMID %s, get %s", asleep ? "asleep" : "never asleep",
		       r < 0 ? ename(e) : "ok", br.ret < 0 ? ename(br.err) : "ok");
	step(q, "IPC_RMID while a get blocks", "asleep, IPC_RMID ok, get EIDRM", act);
	m->mtype = 1;
	r = msgsnd(id, m, S, IPC_NOWAIT);
	e = errno;
	const char *got = r < 0 ? ename(e) : "ok";
	step_x(q, "put after IPC_RMID", "EINVAL|EIDRM", got, r < 0 && (e == EINVAL || e == EIDRM), NULL);
	id = -1;
	rc = IL_OK;
out:
	if (h >= 0)
		il_cleanup_remove(h);
	free(m);
	free(bm);
	return rc;
}

/* ---- the experiment ---- */

static json_t *kind_result(const struct qlog *q, unsigned first)
{
	return json_pack("{sI sI sI sI}", "steps", (json_int_t)(q->n - first), "first_step", (json_int_t)(first + 1),
			 "passed", (json_int_t)q->passed, "failed", (json_int_t)q->failed);
}

static int queue_run(int argc, char **argv)
{
	int kind = K_BOTH;
	uint64_t cap = 4, size = 64;
	const struct il_opt opts[] = {
		{ "kind", IL_OPT_CHOICE, "K", "queue kind: posix (mq_open), sysv (msgget) or both [default both]", 0, 0,
		  kind_names, &kind },
		{ "capacity", IL_OPT_U64, "N", "messages the queue holds: POSIX mq_maxmsg, SysV msg_qbytes = N*S [default 4]",
		  1, 10, NULL, &cap },
		{ "size", IL_OPT_SIZE, "S", "message size in bytes (POSIX mq_msgsize) [default 64]", 16, 8192, NULL, &size },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Message-queue semantics, step by step, each step checked: capacity, put blocking\n"
			       "(timed: ETIMEDOUT; SysV: a blocked msgsnd released by a get) and EAGAIN when full,\n"
			       "get blocking and EAGAIN/ENOMSG when empty, size after each put/get, FIFO order,\n"
			       "POSIX priorities, oversized messages (EMSGSIZE, E2BIG, MSG_NOERROR), unlink/IPC_RMID.\n"
			       "Any step that does not go as expected exits 1.",
			       0, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	il_jset(x.params, "kind", json_string(kind_names[kind]));
	il_jset(x.params, "capacity", json_integer((json_int_t)cap));
	il_jset(x.params, "size", json_integer((json_int_t)size));
	struct qlog q = { .human = !c->json || c->json_file, .steps = json_array() };
	json_t *kinds = json_object();
	il_guard_install((unsigned)c->timeout_s);
	if (q.human) {
		printf("ipc queue: %s, capacity %" PRIu64 " messages of %" PRIu64 " bytes\n", kind_names[kind], cap, size);
		printf("%3s %-5s %-42s %-36s %-36s %s\n", "#", "kind", "operation", "expected", "actual", "result");
	}
	int rc = IL_OK;
	if (kind == K_POSIX || kind == K_BOTH) {
		unsigned first = q.n;
		rc = posix_run(&q, (unsigned)cap, (size_t)size);
		il_jset(kinds, "posix", kind_result(&q, first));
	}
	unsigned pp = q.passed, pf = q.failed;
	if (rc == IL_OK && (kind == K_SYSV || kind == K_BOTH)) {
		unsigned first = q.n;
		q.passed = q.failed = 0;
		rc = sysv_run(&q, (unsigned)cap, (size_t)size);
		il_jset(kinds, "sysv", kind_result(&q, first));
		q.passed += pp;
		q.failed += pf;
	}
	il_guard_disarm();
	if (q.human) {
		const char *k;
		json_t *v;
		json_object_foreach(kinds, k, v)
			printf("%s: %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " steps passed\n", k,
			       json_integer_value(json_object_get(v, "passed")),
			       json_integer_value(json_object_get(v, "steps")));
	}
	il_jset(x.results, "steps", q.steps);
	il_jset(x.results, "passed", json_integer((json_int_t)q.passed));
	il_jset(x.results, "failed", json_integer((json_int_t)q.failed));
	il_jset(x.results, "kinds", kinds);
	if (rc == IL_OK && q.failed)
		rc = IL_FAIL;
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_queue = {
	.group = "ipc",
	.name = "queue",
	.summary = "POSIX and SysV message-queue semantics step by step, every step checked",
	.run = queue_run,
};
