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
#include "sock.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DG_WAIT_US 50000 /* bound of one blocking wait before looking at the peer */

static const char *ud_unsupported(void)
{
	return il_sock_unsupported(AF_UNIX, SOCK_DGRAM, "AF_UNIX sockets not available (CONFIG_UNIX)");
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
	int rc = il_sock_pair_setup(l, SOCK_DGRAM);
	if (rc)
		return rc;
	struct il_sock_pair *p = l->priv;
	/* Room for one message plus skb overhead; the kernel doubles the value asked for. */
	size_t want = l->size + 64 * 1024;
	int w = want > (size_t)1 << 30 ? 1 << 30 : (int)want;
	struct timeval tv = { 0, DG_WAIT_US };
	for (int s = 0; s < 2; s++) {
		il_sock_set_buf(p->sk[s], SO_SNDBUFFORCE, SO_SNDBUF, w);
		il_sock_set_buf(p->sk[s], SO_RCVBUFFORCE, SO_RCVBUF, w);
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
	for (int s = 0; s < 2 && !rc; s++) {
		if (probe(p->sk[s], p->sk[1 - s], l->size, buf) < 0) {
			int e = errno;
			il_errno("a %zu-byte datagram is refused (SO_SNDBUF is %d bytes; unprivileged, it is "
				 "capped by /proc/sys/net/core/wmem_max)", l->size, il_sock_get_int(p->sk[s], SO_SNDBUF));
			rc = il_exit_for_errno(e);
			if (rc == IL_FAIL)
				rc = IL_NORES;
		}
	}
	free(buf);
	return rc;
}

/* After a failed send or receive: true to call again (interrupted, or a bounded wait
 * ended with the peer alive), false to fail with errno (EPIPE: the peer is gone). */
static bool wait_again(struct il_link *l, int side)
{
	if (errno == EINTR)
		return true;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return false;
	if (!il_link_peer_gone(l, side))
		return true;
	errno = EPIPE;
	return false;
}

/* One datagram of exactly l->size bytes, waits bounded so a killed peer is noticed. */
static int ud_send(struct il_link *l, int side, const void *buf)
{
	int fd = ((struct il_sock_pair *)l->priv)->sk[side];
	for (;;) {
		ssize_t n = send(fd, buf, l->size, MSG_NOSIGNAL);
		if (n == (ssize_t)l->size)
			return 0;
		if (n >= 0) {
			errno = EMSGSIZE;
			return -1;
		}
		if (wait_again(l, side))
			continue;
		if (errno == ECONNREFUSED || errno == ECONNRESET || errno == ENOTCONN)
			errno = EPIPE; /* the peer socket was closed */
		return -1;
	}
}

static int ud_recv(struct il_link *l, int side, void *buf)
{
	int fd = ((struct il_sock_pair *)l->priv)->sk[side];
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
		if (wait_again(l, side))
			continue;
		return -1;
	}
}

/* Says goodbye with a zero-length datagram (never blocks), then closes our socket. */
static void ud_detach(struct il_link *l, int side)
{
	struct il_sock_pair *p = l->priv;
	if (p->sk[side] >= 0)
		(void)send(p->sk[side], "", 0, MSG_DONTWAIT | MSG_NOSIGNAL);
	il_fd_close(&p->sk[side]);
}

const struct il_transport il_transport_unix_dgram = {
	.name = "unix-dgram",
	.summary = "AF_UNIX SOCK_DGRAM socketpair, one datagram per message",
	.unsupported = ud_unsupported,
	.setup = ud_setup,
	.attach = il_sock_attach,
	.send = ud_send,
	.recv = ud_recv,
	.detach = ud_detach,
	.teardown = il_sock_teardown,
};
