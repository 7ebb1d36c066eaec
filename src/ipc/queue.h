/* queue.h - what the two halves of "ipc queue" share: the transcript of checked steps
 * (every operation with its expected and actual outcome), the payload helpers, and a
 * thread that is watched until it sleeps in a blocking call (never a sleep). */
#ifndef IPCLAB_IPC_QUEUE_H
#define IPCLAB_IPC_QUEUE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The transcript of one run: one step per operation (results.steps). */
struct il_qlog {
	json_t *steps;
	unsigned n;
	const char *kind;   /* "posix" or "sysv": the half now running */
	unsigned passed, failed;
};

/* Records one step: it passes when actual equals expected, unless ok >= 0 decides
 * (ok != 0: pass). note: NULL or a remark (e.g. how long it blocked). A failed step is
 * logged (il_fail) at once. */
void il_qstep(struct il_qlog *q, const char *op, const char *expected, const char *actual, int ok,
	      const char *note);
/* The errno's name ("EAGAIN"). */
const char *il_ename(int e);
/* Payload: the sequence number in the first 8 bytes, then a pattern; and back. */
void il_qfill(unsigned char *buf, size_t size, uint64_t seq);
uint64_t il_qseq(const unsigned char *buf);

/* A thread running one blocking call, watched until it sleeps in it. */
struct il_blocker {
	int (*fn)(struct il_blocker *b); /* the blocking call; returns its result, errno kept */
	long sysno;                      /* the syscall it should sleep in */
	int id;                          /* the call's arguments (SysV queue id, buffer) */
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
/* Starts b's thread: 0, or an exit code after one line. */
int il_blocker_start(struct il_blocker *b);
/* True once the thread sleeps (state S) in its syscall (per /proc/self/task/TID/syscall
 * when readable); false if the call returned first or 10 s passed. Polls /proc with
 * sched_yield in between: no sleep. */
bool il_blocker_asleep(struct il_blocker *b);

/* The two halves: every step of one queue kind, N messages of S bytes. IL_OK, or an
 * exit code when a set-up call failed (a step that did not go as expected is counted in
 * q->failed, not returned). */
int il_queue_posix(struct il_qlog *q, unsigned N, size_t S);
int il_queue_sysv(struct il_qlog *q, unsigned N, size_t S);

#endif
