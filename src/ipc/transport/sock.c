/* sock.c - the ops the connected stream-socket transports share (unix-stream, tcp):
 * one connected socket per side, full-length send/recv loops (transport.h). */
#include "transport.h"
#include "../../core/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

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
