/* tcp.c - one TCP connection over loopback (127.0.0.1 only, ephemeral port), full duplex,
 * TCP_NODELAY so each message leaves at once (tcp(7)). Listen, connect and accept all
 * happen in setup, so both ends exist before the peer is spawned. */
#include "transport.h"
#include "../core/log.h"
#include "../core/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_priv {
	int sk[2]; /* side 0: the connecting socket, side 1: the accepted one */
};

static const char *tcp_unsupported(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT || errno == ENOSYS))
		return "IPv4 TCP sockets not available (CONFIG_INET)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

static int tcp_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Listens on 127.0.0.1:0, connects, accepts; an accepted connection that is not ours
 * (another local process raced to the port) is dropped. */
static int tcp_setup(struct il_link *l)
{
	struct tcp_priv *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	p->sk[0] = p->sk[1] = -1;
	l->priv = p;
	int lfd = tcp_socket(), rc = IL_FAIL, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in mine, theirs;
	socklen_t alen = sizeof(a);
	const char *what = "socket(AF_INET, SOCK_STREAM)";
	if (lfd < 0)
		goto fail;
	what = "bind to 127.0.0.1:0";
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	what = "listen";
	if (listen(lfd, 1) < 0)
		goto fail;
	what = "getsockname";
	if (getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	what = "socket(AF_INET, SOCK_STREAM)";
	if ((p->sk[0] = tcp_socket()) < 0)
		goto fail;
	/* Loopback connect completes against the listen backlog; no peer needed yet. */
	what = "connect to the loopback listener";
	if (connect(p->sk[0], (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	alen = sizeof(mine);
	what = "getsockname";
	if (getsockname(p->sk[0], (struct sockaddr *)&mine, &alen) < 0)
		goto fail;
	for (int tries = 0;; tries++) {
		alen = sizeof(theirs);
		what = "accept";
		p->sk[1] = accept4(lfd, (struct sockaddr *)&theirs, &alen, SOCK_CLOEXEC);
		if (p->sk[1] < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (same_addr(&theirs, &mine))
			break;
		il_fd_close(&p->sk[1]);
		if (tries == 8) {
			errno = EADDRINUSE;
			what = "accept our own connection (others keep connecting to the port)";
			goto fail;
		}
	}
	what = "setsockopt TCP_NODELAY";
	for (int s = 0; s < 2; s++)
		if (setsockopt(p->sk[s], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			goto fail;
	il_fd_close(&lfd);
	return 0;
fail:
	il_errno("%s failed", what);
	rc = il_exit_for_errno(errno);
	if (rc == IL_FAIL && errno == EADDRNOTAVAIL)
		rc = IL_NORES; /* loopback not configured */
	il_fd_close(&lfd);
	return rc;
}

/* A forked side drops the peer's socket, so the peer's death ends the connection. */
static int tcp_attach(struct il_link *l, int side)
{
	struct tcp_priv *p = l->priv;
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&p->sk[1 - side]);
	return 0;
}

/* A close with unread data sends RST (tcp(7)): that is the peer going away too. */
static int gone_as_epipe(int rc)
{
	if (rc < 0 && errno == ECONNRESET)
		errno = EPIPE;
	return rc;
}

/* read/write loops of transport.c (SIGPIPE is ignored by il_link_init). */
static int tcp_send(struct il_link *l, int side, const void *buf)
{
	return gone_as_epipe(il_fd_write_all(((struct tcp_priv *)l->priv)->sk[side], buf, l->size));
}

static int tcp_recv(struct il_link *l, int side, void *buf)
{
	return gone_as_epipe(il_fd_read_all(((struct tcp_priv *)l->priv)->sk[side], buf, l->size));
}

/* Closing our socket sends FIN: the peer reads end-of-stream. */
static void tcp_detach(struct il_link *l, int side)
{
	il_fd_close(&((struct tcp_priv *)l->priv)->sk[side]);
}

static void tcp_teardown(struct il_link *l)
{
	struct tcp_priv *p = l->priv;
	if (!p)
		return;
	il_fd_close(&p->sk[0]);
	il_fd_close(&p->sk[1]);
	free(p);
	l->priv = NULL;
}

const struct il_transport il_transport_tcp = {
	.name = "tcp",
	.summary = "TCP over loopback 127.0.0.1, TCP_NODELAY, one connection full duplex",
	.unsupported = tcp_unsupported,
	.setup = tcp_setup,
	.attach = tcp_attach,
	.send = tcp_send,
	.recv = tcp_recv,
	.detach = tcp_detach,
	.teardown = tcp_teardown,
};
