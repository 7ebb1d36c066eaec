/* sock.c - what the socket transports share (sock.h): the "unsupported" probe, buffer
 * options, and the ops of the connected socket pairs (unix-stream, tcp, unix-dgram):
 * one connected socket per side, full-length send/recv loops. */
#include "sock.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

const char *il_sock_unsupported(int family, int type, const char *why)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT || errno == ENOSYS))
		return why;
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

void il_sock_set_buf(int fd, int force_opt, int opt, int want)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

int il_sock_get_int(int fd, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);
	(void)getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

int il_sock_pair_setup(struct il_link *l, int type)
{
	struct il_sock_pair *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	l->priv = p;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p->sk) < 0) {
		p->sk[0] = p->sk[1] = -1;
		il_errno("socketpair(AF_UNIX, %s) failed", type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM");
		return il_exit_for_errno(errno);
	}
	return 0;
}

int il_sock_attach(struct il_link *l, int side)
{
	struct il_sock_pair *p = l->priv;
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&p->sk[1 - side]);
	return 0;
}

/* ECONNRESET (the peer closed with data unread: unix(7), tcp(7) RST) is the peer gone. */
static int gone_as_epipe(int rc)
{
	if (rc < 0 && errno == ECONNRESET)
		errno = EPIPE;
	return rc;
}

/* SIGPIPE is ignored by il_link_init, so a write to a closed peer fails with EPIPE. */
int il_sock_send(struct il_link *l, int side, const void *buf)
{
	return gone_as_epipe(il_fd_write_all(((struct il_sock_pair *)l->priv)->sk[side], buf, l->size));
}

int il_sock_recv(struct il_link *l, int side, void *buf)
{
	return gone_as_epipe(il_fd_read_all(((struct il_sock_pair *)l->priv)->sk[side], buf, l->size));
}

/* Closing our socket ends the stream for the peer (EOF on read, EPIPE on write). */
void il_sock_detach(struct il_link *l, int side)
{
	il_fd_close(&((struct il_sock_pair *)l->priv)->sk[side]);
}

void il_sock_teardown(struct il_link *l)
{
	struct il_sock_pair *p = l->priv;
	if (!p)
		return;
	il_fd_close(&p->sk[0]);
	il_fd_close(&p->sk[1]);
	free(p);
	l->priv = NULL;
}
