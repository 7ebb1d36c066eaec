/* tcp.c - one TCP connection over loopback (127.0.0.1 only, ephemeral port), full duplex,
 * TCP_NODELAY so each message leaves at once (tcp(7)). Listen, connect and accept all
 * happen in setup, so both ends exist before the peer is spawned. */
#include "sock.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *tcp_unsupported(void)
{
	return il_sock_unsupported(AF_INET, SOCK_STREAM, "IPv4 TCP sockets not available (CONFIG_INET)");
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
	struct il_sock_pair *p = malloc(sizeof(*p));
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

const struct il_transport il_transport_tcp = {
	.name = "tcp",
	.summary = "TCP over loopback 127.0.0.1, TCP_NODELAY, one connection full duplex",
	.unsupported = tcp_unsupported,
	.setup = tcp_setup,
	.attach = il_sock_attach,
	.send = il_sock_send,
	.recv = il_sock_recv,
	.detach = il_sock_detach,
	.teardown = il_sock_teardown,
};
