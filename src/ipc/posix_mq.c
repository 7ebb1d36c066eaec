/* posix_mq.c - one POSIX message queue per direction (mq_overview(7)), each holding one
 * message of exactly --size bytes (ping-pong never has more than one in flight, and a
 * small queue keeps within RLIMIT_MSGQUEUE). Named, O_EXCL, 0600, registered for
 * removal; removed in teardown.
 *
 * Dead peer: mq_timedsend/mq_timedreceive with a 50 ms deadline; between waits,
 * il_link_peer_gone(). The fast path is still one blocking call. */
#include "transport.h"
#include "../core/cleanup.h"
#include "../core/log.h"
#include "../core/opts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MQ_WAIT_NS (50 * 1000 * 1000L)
#define MQ_MAXMSG 1

struct mq_priv {
	mqd_t q[2];      /* channel c: side c sends, side 1-c receives */
	int h[2];        /* cleanup handles */
	char name[2][64];
};

static const char *mq_unsupported(void)
{
	/* Opening a name that does not exist: ENOENT when queues work, ENOSYS when not. */
	char name[64];
	(void)snprintf(name, sizeof(name), "/ipclab-probe-%d", (int)getpid());
	mqd_t q = mq_open(name, O_RDONLY | O_CLOEXEC);
	if (q == (mqd_t)-1 && errno == ENOSYS)
		return "POSIX message queues not available (CONFIG_POSIX_MQUEUE)";
	if (q != (mqd_t)-1)
		(void)mq_close(q);
	return NULL;
}

int il_mq_open_error(long maxmsg, size_t size)
{
	int e = errno;
	struct rlimit rl = { 0, 0 };
	switch (e) {
	case EINVAL:
		il_err("mq_open with %ld message(s) of %zu bytes refused: above fs.mqueue.msgsize_max (%ld; "
		       "raise /proc/sys/fs/mqueue/msgsize_max) or fs.mqueue.msg_max (%ld, "
		       "/proc/sys/fs/mqueue/msg_max); CAP_SYS_RESOURCE lifts both up to the hard limits",
		       maxmsg, size, il_read_long("/proc/sys/fs/mqueue/msgsize_max"),
		       il_read_long("/proc/sys/fs/mqueue/msg_max"));
		return IL_NORES;
	case EMFILE:
		(void)getrlimit(RLIMIT_MSGQUEUE, &rl);
		il_err("mq_open failed: %s (errno %d): either the open-file limit, or queues of %zu-byte messages "
		       "exceed RLIMIT_MSGQUEUE (%llu bytes; raise with ulimit -q)", strerror(e), e, size,
		       (unsigned long long)rl.rlim_cur);
		return IL_NORES;
	case ENOSPC:
		il_err("mq_open failed: too many queues: fs.mqueue.queues_max is %ld "
		       "(raise /proc/sys/fs/mqueue/queues_max)", il_read_long("/proc/sys/fs/mqueue/queues_max"));
		return IL_NORES;
	default:
		errno = e;
		il_errno("mq_open failed");
		return il_exit_for_errno(e);
	}
}

static int mq_setup(struct il_link *l)
{
	struct mq_priv *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	l->priv = p;
	for (int c = 0; c < 2; c++) {
		p->q[c] = (mqd_t)-1;
		p->h[c] = -1;
	}
	if (l->size > (size_t)LONG_MAX) {
		errno = EINVAL;
		return il_mq_open_error(MQ_MAXMSG, l->size);
	}
	struct mq_attr a = { .mq_maxmsg = MQ_MAXMSG, .mq_msgsize = (long)l->size };
	for (int c = 0; c < 2; c++) {
		il_object_name(p->name[c], sizeof(p->name[c]), "mq");
		p->q[c] = mq_open(p->name[c], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
		if (p->q[c] == (mqd_t)-1)
			return il_mq_open_error(MQ_MAXMSG, l->size);
		if ((p->h[c] = il_cleanup_add(IL_OBJ_MQ, p->name[c], 0)) < 0) {
			il_errno("cannot register %s for cleanup", p->name[c]);
			(void)mq_unlink(p->name[c]);
			return IL_NORES;
		}
	}
	return 0;
}

/* Each side needs both queues (send on one, receive on the other): nothing to drop. */
static int mq_attach(struct il_link *l, int side)
{
	return 0;
}

/* The absolute CLOCK_REALTIME deadline mq_timed*(3) want, MQ_WAIT_NS from now. */
static struct timespec deadline(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += MQ_WAIT_NS;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	return ts;
}

/* After a failed timed wait: retry (0), or give up (-1, errno set; EPIPE: peer gone). */
static int wait_again(struct il_link *l, int side)
{
	if (errno == EINTR)
		return 0;
	if (errno == ETIMEDOUT) {
		if (!il_link_peer_gone(l, side))
			return 0;
		errno = EPIPE;
	}
	return -1;
}

static int mq_send_(struct il_link *l, int side, const void *buf)
{
	struct mq_priv *p = l->priv;
	for (;;) {
		struct timespec ts = deadline();
		if (mq_timedsend(p->q[side], buf, l->size, 0, &ts) == 0)
			return 0;
		if (wait_again(l, side) < 0)
			return -1;
	}
}

static int mq_recv_(struct il_link *l, int side, void *buf)
{
	struct mq_priv *p = l->priv;
	for (;;) {
		struct timespec ts = deadline();
		ssize_t n = mq_timedreceive(p->q[1 - side], buf, l->size, NULL, &ts);
		if (n == (ssize_t)l->size)
			return 0;
		if (n >= 0) {
			errno = EMSGSIZE; /* every message we send is l->size bytes */
			return -1;
		}
		if (wait_again(l, side) < 0)
			return -1;
	}
}

/* Nothing to release per side: a blocked peer notices our detach (ls->closed) or our
 * death (lifeline) at its next deadline. */
static void mq_detach(struct il_link *l, int side)
{
}

static void mq_teardown(struct il_link *l)
{
	struct mq_priv *p = l->priv;
	if (!p)
		return;
	for (int c = 0; c < 2; c++) {
		if (p->q[c] != (mqd_t)-1)
			(void)mq_close(p->q[c]);
		il_cleanup_remove(p->h[c]);
	}
	free(p);
	l->priv = NULL;
}

const struct il_transport il_transport_posix_mq = {
	.name = "posix-mq",
	.summary = "POSIX message queues (mq_open), one per direction",
	.unsupported = mq_unsupported,
	.setup = mq_setup,
	.attach = mq_attach,
	.send = mq_send_,
	.recv = mq_recv_,
	.detach = mq_detach,
	.teardown = mq_teardown,
};
