/* shm_spin.c - a shared-memory ring per direction with no kernel involvement at all:
 * the receiver busy-polls the sequence word of the slot the next message must come in,
 * the sender busy-polls the receiver's count only when it does not know a slot is free.
 * C11 atomics, acquire on the poll, release on the publish.
 *
 * The hardware floor ("ipc floor") is one cache line bouncing between two cores: each
 * side reads the line the other just wrote and writes its answer into that same line.
 * Two rules bring a ping-pong onto that pattern (measured on this machine: one line per
 * direction, or a new line per message, each cost ~60 ns more per round trip):
 *  - both directions share a line: for messages up to SHARED_MAX bytes, slot j of channel
 *    0 and slot j of channel 1 are the two halves of one 64-byte line (each: sequence
 *    word, ack word, payload); larger messages get their own lines;
 *  - an empty ring starts again at slot 0: every slot header carries the ack, the
 *    sender's count of messages it took from the other channel, so a side that receives
 *    an answer knows its own messages were all taken and puts the next one in slot 0
 *    again. A ping-pong then uses slot 0 of both channels, one line, like the floor. The
 *    receiver looks where the next message can be: the slot after the last one, or 0.
 * A stream (no answers) goes round the ring: the sender learns what was taken from the
 * receiver's count (its own line, read only when a slot is not known free).
 * Slots and counters of each side are 128 bytes apart (x86 fetches lines in pairs), the
 * ring depth a power of two (a mask, not a divide, on the fast path).
 *
 * Waiting follows the busy-wait policy of ring.h: pause while spinning, yield
 * on every poll when both sides are pinned to the same CPU (recorded at attach) or
 * after IL_SPIN_BUDGET polls, and look for a dead peer every 2^16 polls (EPIPE). */
#include "transport.h"
#include "ring.h"
#include "../../core/log.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>

#define SPIN_INLINE 64u /* polls before the out-of-line wait */

/* A slot: its header, then the payload. */
struct slot_hdr {
	_Atomic uint64_t seq; /* n + 1 once message n is in it (release: after ack and payload) */
	uint64_t ack;         /* the sender's count of messages taken from the other channel */
};
#define HDR_BYTES sizeof(struct slot_hdr)
/* Both channels' slot j in one 64-byte line: a half each. */
#define SHARED_MAX (IL_CACHELINE / 2 - HDR_BYTES)

/* Channel c: side c sends, side 1 - c receives. Each side's fields on their own pairs. */
struct spin_chan {
	_Alignas(IL_PAIR) _Atomic uint64_t tail; /* messages taken (receiver writes) */
	unsigned rpos;                           /* receiver: slot of the last message taken */
	_Alignas(IL_PAIR) uint64_t head;         /* messages put (sender only) */
	uint64_t tail_seen;                      /* sender: taken, as far as it knows */
	unsigned pos;                            /* sender: slot of the last message put */
	uint64_t last[IL_RING_MAX_SLOTS];        /* sender: seq of the last message put in slot j */
};

struct spin {
	struct il_ring r; /* first: geometry and mapping length */
	int cpu[2];     /* the CPU side s is pinned to (at attach), -1: not pinned */
	bool same_cpu;  /* both pinned to one CPU (set once both attached) */
	bool shared;    /* both channels' slot j in one line (messages <= SHARED_MAX) */
	struct spin_chan ch[2];
	_Alignas(IL_PAIR) unsigned char data[];
};

/* Slot j of channel c. */
static inline struct slot_hdr *slot(struct spin *p, int c, unsigned j)
{
	unsigned char *s = p->shared ? p->data + (size_t)j * p->r.stride + (size_t)c * (IL_CACHELINE / 2)
				     : il_ring_slot(&p->r, p->data, c, j);
	return (struct slot_hdr *)(void *)s;
}

static inline unsigned char *payload(struct slot_hdr *h)
{
	return (unsigned char *)(h + 1);
}

/* Copies a message. 16..64 bytes (a ping-pong's usual size) inline, as two to four
 * 16-byte moves, the last ones overlapping: no libc call between receiving and
 * replying. The rest with memcpy. */
static inline void copy_msg(unsigned char *restrict d, const unsigned char *restrict s, size_t n)
{
	if (n < 16 || n > 64) {
		memcpy(d, s, n);
		return;
	}
	__builtin_memcpy(d, s, 16);
	if (n > 32) {
		__builtin_memcpy(d + 16, s + 16, 16);
		__builtin_memcpy(d + n - 32, s + n - 32, 16);
	}
	__builtin_memcpy(d + n - 16, s + n - 16, 16);
}

static int spin_setup(struct il_link *l)
{
	/* zeroed (il_shared_alloc): every sequence word and count is 0; shared: one line
	 * (two halves) per slot, in a 128-byte pair of its own */
	bool shared = l->size <= SHARED_MAX;
	struct spin *p = il_ring_alloc(sizeof(struct spin), shared ? IL_CACHELINE : HDR_BYTES + l->size);
	if (!p)
		return il_exit_for_errno(errno);
	p->cpu[0] = p->cpu[1] = -1;
	p->shared = shared;
	for (int c = 0; c < 2; c++) /* the first message goes to slot (rpos + 1) & mask = 0 */
		p->ch[c].rpos = p->ch[c].pos = p->r.slots - 1;
	l->priv = p;
	return 0;
}

/* Records where this side runs, for the same-CPU decision of the wait policy. */
static int spin_attach(struct il_link *l, int side)
{
	struct spin *p = l->priv;
	p->cpu[side] = il_pinned_cpu();
	return 0;
}

/* Both have attached: the same-CPU decision, once. */
static void spin_both_attached(struct il_link *l)
{
	struct spin *p = l->priv;
	p->same_cpu = p->cpu[0] >= 0 && p->cpu[0] == p->cpu[1];
}

/* Busy-waits until *w >= target (the caller saw it below). 0, or -1 with errno EPIPE
 * when the peer is gone and the word never got there. Out of line: the fast paths of
 * send and recv stay small. */
static __attribute__((noinline)) int spin_until(struct il_link *l, int side, _Atomic uint64_t *w,
						uint64_t target)
{
	const struct spin *p = l->priv;
	const bool same_cpu = p->cpu[0] >= 0 && p->cpu[0] == p->cpu[1];
	for (uint64_t n = SPIN_INLINE;; n++) {
		il_spin_once(n, same_cpu);
		if (atomic_load_explicit(w, memory_order_acquire) >= target)
			return 0;
		if (il_spin_check_due(n, same_cpu) && il_link_peer_gone(l, side)) {
			/* The peer may have published just before it left: look once more. */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(w, memory_order_acquire) >= target)
				return 0;
			errno = EPIPE;
			return -1;
		}
	}
}

/* Slot j (the next in ring order) may still hold a message the receiver has not taken,
 * as far as the sender knows: read the receiver's count, and wait if it really does. j,
 * or -1 (EPIPE). (A stream stays in ring order: only an ack, i.e. an answer, starts the
 * ring again at slot 0.) */
static __attribute__((noinline)) int wait_slot(struct il_link *l, int side, struct spin_chan *ch, unsigned j)
{
	ch->tail_seen = atomic_load_explicit(&ch->tail, memory_order_acquire);
	if (ch->tail_seen < ch->last[j] && spin_until(l, side, &ch->tail, ch->last[j]) < 0)
		return -1;
	ch->tail_seen = atomic_load_explicit(&ch->tail, memory_order_relaxed);
	return (int)j;
}

static int spin_send(struct il_link *l, int side, const void *buf)
{
	struct spin *p = l->priv;
	struct spin_chan *ch = &p->ch[side];
	const uint64_t n = ch->head;
	/* all taken: slot 0 again (a ping-pong stays on one line); else the next slot */
	int j = n == ch->tail_seen ? 0 : (int)((ch->pos + 1) & (p->r.slots - 1));
	if (__builtin_expect(ch->last[j] > ch->tail_seen, 0) && (j = wait_slot(l, side, ch, (unsigned)j)) < 0)
		return -1;
	struct slot_hdr *h = slot(p, side, (unsigned)j);
	h->ack = atomic_load_explicit(&p->ch[1 - side].tail, memory_order_relaxed); /* ours alone */
	copy_msg(payload(h), buf, l->size);
	atomic_store_explicit(&h->seq, n + 1, memory_order_release);
	ch->last[j] = n + 1;
	ch->pos = (unsigned)j;
	ch->head = n + 1;
	return 0;
}

/* One poll of a receive that found nothing yet (k polls so far): ring.h's policy, and a
 * look for a dead peer when il_spin_check_due (true: gone). */
static __attribute__((noinline)) bool poll_wait(struct il_link *l, int side, uint64_t k)
{
	const struct spin *p = l->priv;
	il_spin_once(k, p->same_cpu);
	return il_spin_check_due(k, p->same_cpu) && il_link_peer_gone(l, side);
}

static int spin_recv(struct il_link *l, int side, void *buf)
{
	struct spin *p = l->priv;
	const int c = 1 - side;
	struct spin_chan *ch = &p->ch[c];
	const uint64_t n = atomic_load_explicit(&ch->tail, memory_order_relaxed); /* ours alone */
	/* message n is in the slot after the last one, or in slot 0 (the sender knew the
	 * ring empty); sequence numbers are unique, so an exact match tells which */
	const unsigned a = (ch->rpos + 1) & (p->r.slots - 1);
	struct slot_hdr *ha = slot(p, c, a), *h0 = slot(p, c, 0), *h;
	for (uint64_t k = 0;; k++) {
		if (atomic_load_explicit(&ha->seq, memory_order_acquire) == n + 1) {
			h = ha;
			break;
		}
		if (atomic_load_explicit(&h0->seq, memory_order_acquire) == n + 1) {
			h = h0;
			break;
		}
		if (k >= SPIN_INLINE) {
			if (poll_wait(l, side, k)) {
				/* The peer may have published just before it left: look once more. */
				atomic_thread_fence(memory_order_acquire);
				if (atomic_load_explicit(&ha->seq, memory_order_acquire) == n + 1)
					h = ha;
				else if (atomic_load_explicit(&h0->seq, memory_order_acquire) == n + 1)
					h = h0;
				else {
					errno = EPIPE;
					return -1;
				}
				break;
			}
		} else if (!p->same_cpu) {
			il_cpu_relax();
		}
	}
	/* what the sender has taken of ours: every message of ours before that is out of
	 * its slot */
	struct spin_chan *mine = &p->ch[side];
	if (h->ack > mine->tail_seen)
		mine->tail_seen = h->ack;
	copy_msg(buf, payload(h), l->size);
	ch->rpos = h == ha ? a : 0;
	atomic_store_explicit(&ch->tail, n + 1, memory_order_release); /* the slot is free again */
	return 0;
}

static void spin_detach(struct il_link *l, int side)
{
}

static void spin_teardown(struct il_link *l)
{
	struct spin *p = l->priv;
	if (p)
		il_shared_free(p, p->r.map_len);
	l->priv = NULL;
}

const struct il_transport il_transport_shm_spin = {
	.name = "shm-spin",
	.summary = "shared-memory ring, busy-polled sequence words (C11 atomics, no syscalls)",
	.setup = spin_setup,
	.attach = spin_attach,
	.send = spin_send,
	.recv = spin_recv,
	.both_attached = spin_both_attached,
	.detach = spin_detach,
	.teardown = spin_teardown,
};
