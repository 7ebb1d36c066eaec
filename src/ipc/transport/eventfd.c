/* eventfd.c - a shared-memory ring of message slots per direction, notified through
 * eventfd(2): the sender copies the message into the next free slot of the channel's
 * MAP_SHARED ring, then eventfd_write(1) on the channel's "full" eventfd; the receiver's
 * blocking read of that eventfd returns the number of messages waiting, it copies them
 * out of their slots in order (one read(2) per batch: in ping-pong, one per message).
 * The syscalls order the copies (they imply full barriers).
 *
 * Back-pressure: the ring has `slots` slots (il_ring_slots: 2..16, about 1 MiB per
 * direction); the receiver publishes how many messages it has taken (tail), the sender
 * how many it has put (head). A sender that finds the ring full announces it (waiting),
 * re-checks, and sleeps in a read of the channel's "free" eventfd; the receiver, after
 * freeing a slot, writes that eventfd only when the sender announced it is waiting (a
 * Dekker handshake: store, full fence, load on both sides, so either the sender sees the
 * freed slot or the receiver sees the announcement). So a sender that never fills the
 * ring - ping-pong - costs one write(2), its receiver one read(2), as before.
 *
 * Dead peer: a blocking eventfd read has no timeout and nothing else to wait on, so
 * the wait is kept as is and the peer's departure is delivered as a "poke": POKE added
 * to both counters this side may sleep on (its incoming "full", its outgoing "free"),
 * by the peer's detach or, when the peer is a killed process, by a lifeline watcher
 * thread (il_link_watch). A message counts 1 (at most `slots` are ever pending), so one
 * read tells apart messages (low bits), a departure (high bits) or both (the messages are
 * delivered first and the poke re-armed for the next read). A sender to a gone receiver
 * fills the ring at most, then its "free" read sees the poke: EPIPE. */
#include "transport.h"
#include "ring.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSG 1ull
#define POKE (1ull << 32)

/* One direction. Sender-owned, receiver-owned and shared fields on their own lines, so
 * the fast path moves no line the other side writes on every message. */
struct efd_chan {
	int full;        /* eventfd: messages put (+POKE: the sender has left) */
	int free;        /* eventfd: wakes a sender waiting for a slot (+POKE: the receiver has left) */
	_Alignas(IL_CACHELINE) uint64_t head;  /* messages put (sender only) */
	uint64_t tail_seen;                     /* sender's last look at tail */
	_Alignas(IL_CACHELINE) uint64_t tail;  /* messages taken (receiver writes, sender reads) */
	uint64_t avail;                         /* counted by a read of full, not yet taken (receiver only) */
	_Alignas(IL_CACHELINE) int waiting;    /* the sender sleeps (or is about to) on free */
};

/* In MAP_SHARED memory: both sides see the same rings; each side uses only its own
 * watch slot. */
struct efd_priv {
	size_t map_len;
	size_t stride;   /* slot size: l->size rounded to cache lines */
	unsigned slots;  /* a power of two */
	struct efd_chan ch[2];            /* channel c: side c sends, side 1-c receives */
	struct il_link_watch watch[2];
	_Alignas(IL_CACHELINE) unsigned char data[]; /* [channel][slot][stride] */
};

static unsigned char *slot(struct efd_priv *p, int c, uint64_t n)
{
	return p->data + ((size_t)c * p->slots + (size_t)(n & (p->slots - 1))) * p->stride;
}

static const char *efd_unsupported(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 && (errno == ENOSYS || errno == EINVAL))
		return "eventfd not available (CONFIG_EVENTFD)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

static int efd_setup(struct il_link *l)
{
	size_t stride = il_cl_round(l->size);
	unsigned slots = il_ring_slots(stride);
	size_t len = sizeof(struct efd_priv) + 2 * (size_t)slots * stride;
	struct efd_priv *p = il_shared_alloc(len);
	if (!p) {
		il_errno("cannot map %zu bytes of shared memory", len);
		return il_exit_for_errno(errno);
	}
	l->priv = p;
	p->map_len = len;
	p->stride = stride;
	p->slots = slots;
	for (int c = 0; c < 2; c++)
		p->ch[c].full = p->ch[c].free = -1;
	for (int c = 0; c < 2; c++) {
		if ((p->ch[c].full = eventfd(0, EFD_CLOEXEC)) < 0 || (p->ch[c].free = eventfd(0, EFD_CLOEXEC)) < 0) {
			il_errno("eventfd failed");
			return il_exit_for_errno(errno);
		}
	}
	return 0;
}

/* Side `gone` has left: poke every counter the other side may sleep on. */
static void poke_for(struct efd_priv *p, int gone)
{
	(void)eventfd_write(p->ch[gone].full, POKE);     /* the other side's receive */
	(void)eventfd_write(p->ch[1 - gone].free, POKE); /* the other side's send */
}

/* The watcher's wake: our peer died. */
static void efd_wake(struct il_link *l, int side)
{
	poke_for(l->priv, 1 - side);
}

/* Both sides need all four eventfds: nothing to close; a forked side watches its
 * peer's lifeline. */
static int efd_attach(struct il_link *l, int side)
{
	struct efd_priv *p = l->priv;
	if (il_link_watch_start(&p->watch[side], l, side, efd_wake) < 0) {
		il_errno("cannot start the lifeline watcher");
		return il_exit_for_errno(errno);
	}
	return 0;
}

/* One blocking read of an eventfd, EINTR retried. 0, or -1 with errno. */
static int efd_read(int fd, eventfd_t *v)
{
	while (eventfd_read(fd, v) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The ring of channel ch (message number h next) is full as far as the sender knows:
 * sleep until a slot is free. 0, or -1 with errno (EPIPE: the receiver is gone). */
static int wait_free(struct efd_priv *p, struct efd_chan *ch, uint64_t h)
{
	for (;;) {
		__atomic_store_n(&ch->waiting, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		ch->tail_seen = __atomic_load_n(&ch->tail, __ATOMIC_ACQUIRE);
		if (h - ch->tail_seen < p->slots) {
			__atomic_store_n(&ch->waiting, 0, __ATOMIC_RELAXED);
			return 0;
		}
		eventfd_t v;
		if (efd_read(ch->free, &v) < 0)
			return -1;
		if (v >= POKE) {
			(void)eventfd_write(ch->free, POKE); /* stays gone for later waits */
			__atomic_store_n(&ch->waiting, 0, __ATOMIC_RELAXED);
			errno = EPIPE;
			return -1;
		}
		/* a wake-up (perhaps a stale one): look at tail again */
	}
}

static int efd_send(struct il_link *l, int side, const void *buf)
{
	struct efd_priv *p = l->priv;
	struct efd_chan *ch = &p->ch[side];
	uint64_t h = ch->head;
	if (h - ch->tail_seen >= p->slots) {
		ch->tail_seen = __atomic_load_n(&ch->tail, __ATOMIC_ACQUIRE);
		if (h - ch->tail_seen >= p->slots && wait_free(p, ch, h) < 0)
			return -1;
	}
	memcpy(slot(p, side, h), buf, l->size);
	ch->head = h + 1;
	return eventfd_write(ch->full, MSG);
}

static int efd_recv(struct il_link *l, int side, void *buf)
{
	struct efd_priv *p = l->priv;
	struct efd_chan *ch = &p->ch[1 - side];
	while (ch->avail == 0) {
		eventfd_t v;
		if (efd_read(ch->full, &v) < 0)
			return -1;
		ch->avail = v & (POKE - 1);
		if (v >= POKE) {
			(void)eventfd_write(ch->full, POKE); /* stays gone for later reads */
			if (!ch->avail) {
				errno = EPIPE;
				return -1;
			}
		}
	}
	uint64_t t = ch->tail;
	memcpy(buf, slot(p, 1 - side, t), l->size);
	ch->avail--;
	/* Free the slot (release: the copy is done), then wake the sender if it waits. */
	__atomic_store_n(&ch->tail, t + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ch->waiting, __ATOMIC_RELAXED) && __atomic_exchange_n(&ch->waiting, 0, __ATOMIC_SEQ_CST))
		(void)eventfd_write(ch->free, MSG);
	return 0;
}

/* Stops our watcher (before the lifelines close), then pokes the peer's counters so a
 * blocked receive or send returns EPIPE. */
static void efd_detach(struct il_link *l, int side)
{
	struct efd_priv *p = l->priv;
	il_link_watch_stop(&p->watch[side]);
	poke_for(p, side);
}

static void efd_teardown(struct il_link *l)
{
	struct efd_priv *p = l->priv;
	if (!p)
		return;
	il_link_watch_stop(&p->watch[0]);
	for (int c = 0; c < 2; c++) {
		il_fd_close(&p->ch[c].full);
		il_fd_close(&p->ch[c].free);
	}
	il_shared_free(p, p->map_len);
	l->priv = NULL;
}

const struct il_transport il_transport_eventfd = {
	.name = "eventfd",
	.summary = "shared-memory ring per direction, eventfd(2) to notify, a second one for free slots",
	.unsupported = efd_unsupported,
	.setup = efd_setup,
	.attach = efd_attach,
	.send = efd_send,
	.recv = efd_recv,
	.detach = efd_detach,
	.teardown = efd_teardown,
};
