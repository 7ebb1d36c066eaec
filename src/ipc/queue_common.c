/* queue_common.c - the transcript of "ipc queue" and the watched blocking thread (queue.h). */
#include "queue.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/sys.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ASLEEP_LIMIT_NS (10ull * 1000 * 1000 * 1000) /* give up watching a blocker */

const char *il_ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

void il_qstep(struct il_qlog *q, const char *op, const char *expected, const char *actual, int ok,
	      const char *note)
{
	bool pass = ok >= 0 ? ok != 0 : strcmp(expected, actual) == 0;
	q->n++;
	if (pass)
		q->passed++;
	else
		q->failed++;
	(void)json_array_append_new(q->steps, json_pack("{sI ss ss ss ss sb so}", "n", (json_int_t)q->n, "kind",
							q->kind, "op", op, "expected", expected, "actual", actual,
							"pass", pass, "note",
							note ? json_string(note) : json_null()));
	if (!pass)
		il_fail("step %u (%s %s): expected %s, got %s", q->n, q->kind, op, expected, actual);
}

void il_qfill(unsigned char *buf, size_t size, uint64_t seq)
{
	memset(buf, (int)(seq & 0xff), size);
	memcpy(buf, &seq, sizeof(seq));
}

uint64_t il_qseq(const unsigned char *buf)
{
	uint64_t s;
	memcpy(&s, buf, sizeof(s));
	return s;
}

static void *blocker_main(void *arg)
{
	struct il_blocker *b = arg;
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

bool il_blocker_asleep(struct il_blocker *b)
{
	char path[96];
	uint64_t end = il_now_ns() + ASLEEP_LIMIT_NS;
	while (!__atomic_load_n(&b->started, __ATOMIC_ACQUIRE))
		sched_yield();
	pid_t tid = __atomic_load_n(&b->tid, __ATOMIC_ACQUIRE);
	while (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) && il_now_ns() < end) {
		struct il_proc_stat ps;
		if (il_proc_stat(tid, &ps) == 0 && ps.state == 'S') {
			char buf[32], *stop;
			long nr = -2; /* unreadable: trust the state */
			(void)snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
			if (il_read_file(path, buf, sizeof(buf)) > 0) {
				nr = strtol(buf, &stop, 10);
				if (stop == buf)
					nr = -1; /* "running" */
			}
			if (nr == b->sysno || nr == -2)
				return true;
		}
		sched_yield();
	}
	return false;
}

int il_blocker_start(struct il_blocker *b)
{
	int e = pthread_create(&b->th, NULL, blocker_main, b);
	if (e) {
		errno = e;
		il_errno("pthread_create failed");
		return il_exit_for_errno(e);
	}
	return 0;
}
