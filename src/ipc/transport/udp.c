/* udp.c - UDP over loopback (127.0.0.1 only): one SOCK_DGRAM socket per side, each bound
 * to an ephemeral port and connect(2)ed to the other's, so each side sends with send(2)
 * and receives only its peer's datagrams (udp(7)). Every message is one datagram of
 * exactly --size bytes; the largest is 65 507 bytes (65 535 minus the 20-byte IPv4 and
 * the 8-byte UDP header): above it, exit 3 naming the limit.
 *
 * Flow control: UDP has none. On loopback a datagram that finds the receiver's queue
 * full (SO_RCVBUF) is dropped and counted (/proc/net/snmp Udp RcvbufErrors, and per
 * socket SO_RXQ_OVFL, which every receive here reads). So a sender may have at most
 * `window` datagrams unread: the window is what the receive buffer holds, the receiver
 * counts what it took in shared memory (no syscall, no extra datagram), and a sender at
 * the window sleeps on a futex until the receiver takes one. Datagrams are never
 * dropped then; if the kernel drops one anyway, the stream's checks see it lost and
 * kernel_drops says why.
 *
 * Departure: a datagram socket has no end of stream. A detaching side sends a
 * zero-length datagram (read as EPIPE) and wakes a peer waiting for the window; a
 * killed peer cannot, so the lifeline watcher does it on our side: shutdown(SHUT_RD) of
 * our socket wakes a blocked receive (it returns 0), and a futex wake the send. A
 * datagram we sent after the peer's socket closed comes back as an ICMP port unreachable,
 * which the kernel reports on our next send or receive as ECONNREFUSED (udp(7)), often
 * before the watcher's wake: that is the same dead peer, EPIPE like every other way. */
#include "sock.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"
#include "../../core/sys.h"
#include "ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_MAX 65507u
#define UDP_BUF (4u << 20)   /* asked for each socket buffer (forced when privileged) */
#define UDP_OVERHEAD 1024u   /* a datagram's kernel bookkeeping (skb truesize) beside its data */
#define UDP_MAX_WINDOW 256u

/* Flow control of one direction (channel c: side c sends), in shared memory. */
struct udp_chan {
	_Alignas(IL_PAIR) uint64_t taken;  /* datagrams the receiver took */
	uint32_t waiting;                  /* futex word: the sender sleeps for the window */
	_Alignas(IL_PAIR) uint64_t sent;   /* datagrams the sender sent (its own) */
};

/* In MAP_SHARED memory: both sides see the counts and the departure flags. Side s's
 * socket is l->fd[s][0] (each process's own copy of the link: a forked side closes the
 * other's). */
struct udp_priv {
	uint32_t window;
	int left[2];                /* side s has gone (detached, or killed: set by the watcher) */
	uint32_t drops[2];          /* side s: the kernel's drop count on its socket (SO_RXQ_OVFL) */
	struct il_link_watch watch[2];
	struct udp_chan ch[2];
};

static const char *udp_unsupported(void)
{
	return il_sock_unsupported(AF_INET, SOCK_DGRAM, "IPv4 UDP sockets not available (CONFIG_INET)");
}

/* A socket bound to 127.0.0.1:0, buffers asked for, drops reported; its address in *a.
 * The fd, or -1 with errno. */
static int udp_socket(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1;
	socklen_t len = sizeof(*a);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	il_sock_set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, UDP_BUF);
	il_sock_set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, UDP_BUF);
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 || getsockname(fd, (struct sockaddr *)a, &len) < 0) {
		int e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Two sockets connected to each other; the window from the smaller receive buffer. */
static int udp_setup(struct il_link *l)
{
	struct udp_priv *p = il_shared_alloc(sizeof(*p));
	struct sockaddr_in a[2];
	if (!p) {
		il_errno("cannot map the UDP link state");
		return IL_NORES;
	}
	l->priv = p;
	for (int s = 0; s < 2; s++)
		if ((l->fd[s][0] = udp_socket(&a[s])) < 0) {
			il_errno("cannot create a UDP socket on 127.0.0.1");
			return il_exit_for_errno(errno);
		}
	for (int s = 0; s < 2; s++)
		if (connect(l->fd[s][0], (struct sockaddr *)&a[1 - s], sizeof(a[1 - s])) < 0) {
			il_errno("cannot connect the UDP sockets");
			return il_exit_for_errno(errno);
		}
	int rcv = il_sock_get_int(l->fd[0][0], SO_RCVBUF), rcv1 = il_sock_get_int(l->fd[1][0], SO_RCVBUF);
	rcv = rcv1 < rcv ? rcv1 : rcv;
	uint64_t w = (uint64_t)rcv / 2 / (l->size + UDP_OVERHEAD);
	p->window = w < 1 ? 1 : w > UDP_MAX_WINDOW ? UDP_MAX_WINDOW : (uint32_t)w;
	return 0;
}

/* The watcher's wake: the peer's lifeline hung up. A peer that completed its detach has
 * said goodbye; a killed one could not: wake our receive and our send for it. */
static void udp_wake(struct il_link *l, int side)
{
	struct udp_priv *p = l->priv;
	if (__atomic_load_n(&l->ls->closed[1 - side], __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&p->left[1 - side], 1, __ATOMIC_SEQ_CST);
	(void)shutdown(l->fd[side][0], SHUT_RD);
	__atomic_store_n(&p->ch[side].waiting, 0, __ATOMIC_SEQ_CST);
	(void)il_futex_wake(&p->ch[side].waiting, 1, true);
}

/* A forked side keeps only its own socket and watches its peer's lifeline. */
static int udp_attach(struct il_link *l, int side)
{
	struct udp_priv *p = l->priv;
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&l->fd[1 - side][0]);
	if (il_link_watch_start(&p->watch[side], l, side, udp_wake) < 0) {
		il_errno("cannot start the lifeline watcher");
		return IL_NORES;
	}
	return 0;
}

static bool peer_left(struct udp_priv *p, int side)
{
	return __atomic_load_n(&p->left[1 - side], __ATOMIC_SEQ_CST) != 0;
}

/* Sleeps until the receiver took a datagram of ours (or left). 0, or -1 (EPIPE). */
static int wait_window(struct udp_priv *p, int side, struct udp_chan *ch)
{
	while (ch->sent - __atomic_load_n(&ch->taken, __ATOMIC_ACQUIRE) >= p->window) {
		__atomic_store_n(&ch->waiting, 1, __ATOMIC_SEQ_CST);
		if (peer_left(p, side)) {
			errno = EPIPE;
			return -1;
		}
		if (ch->sent - __atomic_load_n(&ch->taken, __ATOMIC_SEQ_CST) >= p->window)
			(void)il_futex_wait(&ch->waiting, 1, NULL, true);
	}
	return 0;
}

static int udp_send(struct il_link *l, int side, const void *buf)
{
	struct udp_priv *p = l->priv;
	struct udp_chan *ch = &p->ch[side];
	if (peer_left(p, side)) {
		errno = EPIPE;
		return -1;
	}
	if (ch->sent - __atomic_load_n(&ch->taken, __ATOMIC_ACQUIRE) >= p->window && wait_window(p, side, ch) < 0)
		return -1;
	for (;;) {
		ssize_t n = send(l->fd[side][0], buf, l->size, MSG_NOSIGNAL);
		if (n == (ssize_t)l->size) {
			ch->sent++;
			return 0;
		}
		if (n >= 0) {
			errno = EMSGSIZE;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED) /* the peer's socket is closed (ICMP port unreachable) */
			errno = EPIPE;
		return -1;
	}
}

/* Reads the kernel's drop count of our socket (SO_RXQ_OVFL) from a received datagram. */
static void note_drops(struct udp_priv *p, int side, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
			memcpy(&p->drops[side], CMSG_DATA(c), sizeof(uint32_t));
}

static int udp_recv(struct il_link *l, int side, void *buf)
{
	struct udp_priv *p = l->priv;
	struct udp_chan *ch = &p->ch[1 - side];
	union {
		char b[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = l->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl) };
	ssize_t n;
	while ((n = recvmsg(l->fd[side][0], &mh, MSG_TRUNC)) < 0 && errno == EINTR)
		mh.msg_controllen = sizeof(ctl);
	if (n == (ssize_t)l->size) {
		note_drops(p, side, &mh);
		__atomic_store_n(&ch->taken, ch->taken + 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ch->waiting, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&ch->waiting, 0, __ATOMIC_SEQ_CST);
			(void)il_futex_wake(&ch->waiting, 1, true);
		}
		return 0;
	}
	if (n == 0) { /* the peer's goodbye, or our shutdown after its death */
		errno = EPIPE;
		return -1;
	}
	if (n > 0)
		errno = EMSGSIZE; /* a datagram of another size: not ours */
	else if (errno == ECONNREFUSED) /* our last datagram found no socket: the peer is gone */
		errno = EPIPE;
	return -1;
}

/* Stops our watcher (before the lifelines close), says goodbye with a zero-length
 * datagram (never blocks) and wakes a peer waiting for room to send to us. */
static void udp_detach(struct il_link *l, int side)
{
	struct udp_priv *p = l->priv;
	il_link_watch_stop(&p->watch[side]);
	__atomic_store_n(&p->left[side], 1, __ATOMIC_SEQ_CST);
	if (l->fd[side][0] >= 0)
		(void)send(l->fd[side][0], "", 0, MSG_DONTWAIT | MSG_NOSIGNAL);
	__atomic_store_n(&p->ch[1 - side].waiting, 0, __ATOMIC_SEQ_CST);
	(void)il_futex_wake(&p->ch[1 - side].waiting, 1, true);
}

static void udp_teardown(struct il_link *l)
{
	struct udp_priv *p = l->priv;
	if (!p)
		return;
	il_link_watch_stop(&p->watch[0]);
	il_fd_close(&l->fd[0][0]);
	il_fd_close(&l->fd[1][0]);
	il_shared_free(p, sizeof(*p));
	l->priv = NULL;
}

/* The socket buffers the kernel granted, the window they give, and what it dropped. */
static json_t *udp_facts(const struct il_link *l)
{
	const struct udp_priv *p = l->priv;
	int fd = l->fd[0][0];
	return json_pack("{si si sI sI}", "sndbuf", fd >= 0 ? il_sock_get_int(fd, SO_SNDBUF) : -1, "rcvbuf",
			 fd >= 0 ? il_sock_get_int(fd, SO_RCVBUF) : -1, "window", (json_int_t)p->window, "kernel_drops",
			 (json_int_t)p->drops[0] + (json_int_t)p->drops[1]);
}

const struct il_transport il_transport_udp = {
	.name = "udp",
	.summary = "UDP datagrams over loopback (127.0.0.1), one connected socket per side",
	.unsupported = udp_unsupported,
	.max_size = UDP_MAX,
	.setup = udp_setup,
	.attach = udp_attach,
	.send = udp_send,
	.recv = udp_recv,
	.detach = udp_detach,
	.teardown = udp_teardown,
	.facts = udp_facts,
};
