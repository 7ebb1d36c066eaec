/* shm_spin.c - a shared-memory ring per direction with no kernel involvement at all:
 * the receiver busy-polls a sequence word at the start of the next slot, the sender
 * busy-polls the receiver's count only when it believes the ring is full. A small
 * message and its sequence word share one cache line, so a ping-pong moves one line per
 * direction, like "ipc floor" (the hardware floor; "ipc floor --transport shm-spin"
 * measures the difference). Slots are a power of two (a mask, not a divide, on the
 * fast path: the divide alone cost more than the 15 % budget). C11 atomics, acquire
 * on the poll, release on the publish; the ring counters of each side live on their
 * own cache lines (no false sharing).
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

/* A slot: the sequence word (n + 1 once message n is in it), then the payload. */
#define SEQ_BYTES sizeof(_Atomic uint64_t)

struct spin_chan {
	_Alignas(IL_PAIR) _Atomic uint64_t tail; /* messages taken (receiver writes) */
	_Alignas(IL_PAIR) uint64_t head;         /* messages put (sender only) */
	uint64_t tail_seen;                           /* sender's last look at tail */
};

struct spin {
	struct il_ring r; /* first: geometry and mapping length */
	int cpu[2];     /* the CPU side s is pinned to (at attach), -1: not pinned */
	bool same_cpu;  /* both pinned to one CPU (set once both attached) */
	struct spin_chan ch[2];
	_Alignas(IL_PAIR) unsigned char data[];
};

static unsigned char *slot(struct spin *p, int c, uint64_t n)
{
	return il_ring_slot(&p->r, p->data, c, n);
}

static _Atomic uint64_t *slot_seq(unsigned char *s)
{
	return (_Atomic uint64_t *)(void *)s;
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
	/* zeroed (il_shared_alloc): every sequence word and count is 0 */
	struct spin *p = il_ring_alloc(sizeof(struct spin), SEQ_BYTES + l->size);
	if (!p)
		return il_exit_for_errno(errno);
	p->cpu[0] = p->cpu[1] = -1;
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
		if ((n & IL_SPIN_CHECK_MASK) == 0 && il_link_peer_gone(l, side)) {
			/* The peer may have published just before it left: look once more. */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(w, memory_order_acquire) >= target)
				return 0;
			errno = EPIPE;
			return -1;
		}
	}
}

/* The ring looks full (the sender's last look at the receiver's count is a ring old):
 * look again, waiting if it really is. */
static __attribute__((noinline)) int wait_room(struct il_link *l, int side, struct spin_chan *ch, uint64_t n)
{
	const struct spin *p = l->priv;
	uint64_t need = n - p->r.slots + 1;
	if (atomic_load_explicit(&ch->tail, memory_order_acquire) < need && spin_until(l, side, &ch->tail, need) < 0)
		return -1;
	ch->tail_seen = atomic_load_explicit(&ch->tail, memory_order_relaxed);
	return 0;
}

static int spin_send(struct il_link *l, int side, const void *buf)
{
	struct spin *p = l->priv;
	struct spin_chan *ch = &p->ch[side];
	const uint64_t n = ch->head;
	if (__builtin_expect(n - ch->tail_seen >= p->r.slots, 0) && wait_room(l, side, ch, n) < 0)
		return -1;
	unsigned char *s = slot(p, side, n);
	copy_msg(s + SEQ_BYTES, buf, l->size);
	atomic_store_explicit(slot_seq(s), n + 1, memory_order_release);
	ch->head = n + 1;
	return 0;
}

static int spin_recv(struct il_link *l, int side, void *buf)
{
	struct spin *p = l->priv;
	const int c = 1 - side;
	struct spin_chan *ch = &p->ch[c];
	const uint64_t n = atomic_load_explicit(&ch->tail, memory_order_relaxed); /* ours alone */
	unsigned char *s = slot(p, c, n);
	_Atomic uint64_t *seq = slot_seq(s);
	/* The first polls inline (a ping-pong's reply usually comes within them), then the
	 * out-of-line wait with its policy and dead-peer checks. */
	for (unsigned k = 0; atomic_load_explicit(seq, memory_order_acquire) < n + 1; k++)
		if (k == SPIN_INLINE) {
			if (spin_until(l, side, seq, n + 1) < 0)
				return -1;
			break;
		} else if (!p->same_cpu) {
			il_cpu_relax();
		}
	copy_msg(buf, s + SEQ_BYTES, l->size);
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
