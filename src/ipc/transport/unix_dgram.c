/* unix_dgram.c - one AF_UNIX SOCK_DGRAM socketpair(2): every message is one datagram.
 *
 * Size: a unix datagram must fit the sender's send buffer (len > sk_sndbuf - 32 fails
 * with EMSGSIZE, net/unix/af_unix.c), so setup raises SO_SNDBUF/SO_RCVBUF (SO_*BUFFORCE
 * when privileged, else up to net.core.wmem_max/rmem_max) and sends one probe datagram
 * each way: a size the kernel refuses is exit 3 with the reason, before any measuring.
 *
 * Dead peer: unlike a stream, closing a datagram socket does not wake a reader blocked
 * on its peer. A detaching side sends a zero-length datagram (read as EPIPE); for a
 * killed peer, SO_RCVTIMEO/SO_SNDTIMEO of 50 ms bound each blocking call, and
 * il_link_peer_gone() is checked between waits. The fast path stays one blocking call. */
#include "transport.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DG_WAIT_US 50000 /* bound of one blocking wait before looking at the peer */

struct ud_priv {
	int sk[2];
};

static const char *ud_unsupported(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == ENOSYS))
		return "AF_UNIX sockets not available (CONFIG_UNIX)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

/* Asks for a buffer of want bytes: forced when privileged, else capped by the sysctl. */
static void set_buf(int fd, int force_opt, int opt, int want)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

static int get_int(int fd, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);
	(void)getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

/* Sends one size-byte datagram from a to b and reads it back, without blocking. */
static int probe(int a, int b, size_t size, char *buf)
{
	ssize_t n = send(a, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -1;
	n = recv(b, buf, size, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -1;
	if ((size_t)n != size) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static int ud_setup(struct il_link *l)
{
	struct ud_priv *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	l->priv = p;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, p->sk) < 0) {
		p->sk[0] = p->sk[1] = -1;
		il_errno("socketpair(AF_UNIX, SOCK_DGRAM) failed");
		return il_exit_for_errno(errno);
	}
	/* Room for one message plus skb overhead; the kernel doubles the value asked for. */
	size_t want = l->size + 64 * 1024;
	int w = want > (size_t)1 << 30 ? 1 << 30 : (int)want;
	struct timeval tv = { 0, DG_WAIT_US };
	for (int s = 0; s < 2; s++) {
		set_buf(p->sk[s], SO_SNDBUFFORCE, SO_SNDBUF, w);
		set_buf(p->sk[s], SO_RCVBUFFORCE, SO_RCVBUF, w);
		if (setsockopt(p->sk[s], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    setsockopt(p->sk[s], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			il_errno("setsockopt SO_RCVTIMEO/SO_SNDTIMEO failed");
			return IL_FAIL;
		}
	}
	char *buf = calloc(1, l->size);
	if (!buf) {
		il_err("out of memory for a %zu-byte probe", l->size);
		return IL_NORES;
	}
	int rc = 0;
	for (int s = 0; s < 2 && !rc; s++) {
		if (probe(p->sk[s], p->sk[1 - s], l->size, buf) < 0) {
			int e = errno;
			il_errno("a %zu-byte datagram is refused (SO_SNDBUF is %d bytes; unprivileged, it is "
				 "capped by /proc/sys/net/core/wmem_max)", l->size, get_int(p->sk[s], SO_SNDBUF));
			rc = il_exit_for_errno(e);
			if (rc == IL_FAIL)
				rc = IL_NORES;
		}
	}
	free(buf);
	return rc;
}

static int ud_attach(struct il_link *l, int side)
{
	struct ud_priv *p = l->priv;
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&p->sk[1 - side]);
	return 0;
}

/* One datagram of exactly l->size bytes, waits bounded so a killed peer is noticed. */
static int ud_send(struct il_link *l, int side, const void *buf)
{
	int fd = ((struct ud_priv *)l->priv)->sk[side];
	for (;;) {
		ssize_t n = send(fd, buf, l->size, MSG_NOSIGNAL);
		if (n == (ssize_t)l->size)
			return 0;
		if (n >= 0) {
			errno = EMSGSIZE;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (il_link_peer_gone(l, side)) {
				errno = EPIPE;
				return -1;
			}
			continue;
		}
		if (errno == ECONNREFUSED || errno == ECONNRESET || errno == ENOTCONN)
			errno = EPIPE; /* the peer socket was closed */
		return -1;
	}
}

static int ud_recv(struct il_link *l, int side, void *buf)
{
	int fd = ((struct ud_priv *)l->priv)->sk[side];
	for (;;) {
		ssize_t n = recv(fd, buf, l->size, MSG_TRUNC);
		if (n == (ssize_t)l->size)
			return 0;
		if (n == 0) { /* the peer's goodbye */
			errno = EPIPE;
			return -1;
		}
		if (n > 0) {
			errno = EMSGSIZE; /* a datagram of another size: not ours */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (il_link_peer_gone(l, side)) {
				errno = EPIPE;
				return -1;
			}
			continue;
		}
		return -1;
	}
}

/* Says goodbye with a zero-length datagram (never blocks), then closes our socket. */
static void ud_detach(struct il_link *l, int side)
{
	struct ud_priv *p = l->priv;
	if (p->sk[side] >= 0)
		(void)send(p->sk[side], "", 0, MSG_DONTWAIT | MSG_NOSIGNAL);
	il_fd_close(&p->sk[side]);
}

static void ud_teardown(struct il_link *l)
{
	struct ud_priv *p = l->priv;
	if (!p)
		return;
	il_fd_close(&p->sk[0]);
	il_fd_close(&p->sk[1]);
	free(p);
	l->priv = NULL;
}

const struct il_transport il_transport_unix_dgram = {
	.name = "unix-dgram",
	.summary = "AF_UNIX SOCK_DGRAM socketpair, one datagram per message",
	.unsupported = ud_unsupported,
	.setup = ud_setup,
	.attach = ud_attach,
	.send = ud_send,
	.recv = ud_recv,
	.detach = ud_detach,
	.teardown = ud_teardown,
};
