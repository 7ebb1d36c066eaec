/* unix_stream.c - one AF_UNIX SOCK_STREAM socketpair(2), full duplex: side s uses sk[s]. */
#include "transport.h"
#include "../core/log.h"
#include "../core/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct us_priv {
	int sk[2];
};

static const char *us_unsupported(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == ENOSYS))
		return "AF_UNIX sockets not available (CONFIG_UNIX)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

static int us_setup(struct il_link *l)
{
	struct us_priv *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	l->priv = p;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sk) < 0) {
		p->sk[0] = p->sk[1] = -1;
		il_errno("socketpair(AF_UNIX, SOCK_STREAM) failed");
		return il_exit_for_errno(errno);
	}
	return 0;
}

/* A forked side drops the peer's socket, so the peer's death reads as end-of-stream. */
static int us_attach(struct il_link *l, int side)
{
	struct us_priv *p = l->priv;
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&p->sk[1 - side]);
	return 0;
}

/* ECONNRESET (the peer closed with data unread) also means the peer is gone. */
static int gone_as_epipe(int rc)
{
	if (rc < 0 && errno == ECONNRESET)
		errno = EPIPE;
	return rc;
}

/* read/write loops of transport.c; SIGPIPE is ignored by il_link_init, so a write to a
 * closed peer fails with EPIPE (unix(7)). */
static int us_send(struct il_link *l, int side, const void *buf)
{
	return gone_as_epipe(il_fd_write_all(((struct us_priv *)l->priv)->sk[side], buf, l->size));
}

static int us_recv(struct il_link *l, int side, void *buf)
{
	return gone_as_epipe(il_fd_read_all(((struct us_priv *)l->priv)->sk[side], buf, l->size));
}

/* Closing our socket ends the stream for the peer (EOF on read, EPIPE on write). */
static void us_detach(struct il_link *l, int side)
{
	il_fd_close(&((struct us_priv *)l->priv)->sk[side]);
}

static void us_teardown(struct il_link *l)
{
	struct us_priv *p = l->priv;
	if (!p)
		return;
	il_fd_close(&p->sk[0]);
	il_fd_close(&p->sk[1]);
	free(p);
	l->priv = NULL;
}

const struct il_transport il_transport_unix_stream = {
	.name = "unix-stream",
	.summary = "AF_UNIX SOCK_STREAM socketpair, full duplex",
	.unsupported = us_unsupported,
	.setup = us_setup,
	.attach = us_attach,
	.send = us_send,
	.recv = us_recv,
	.detach = us_detach,
	.teardown = us_teardown,
};
