/* ring.h - what the shared-memory transports (shm-posix-sem, shm-sysv-sem,
 * shm-condvar, shm-spin), "ipc floor" and "ipc shm" share: the ring geometry in il_shared_alloc
 * memory, the dead-peer check period, the pinned-CPU probe and the busy-wait policy.
 *
 * Ring: each direction (channel) is a single-producer/single-consumer ring of `slots`
 * message slots; the sender counts messages put (head), the receiver messages taken
 * (tail), both free-running, slot = count % slots. Up to IL_RING_MAX_SLOTS slots and at
 * most about IL_RING_BUDGET bytes of slots per direction, but never fewer than 2, so a
 * streaming sender can fill one slot while the receiver copies out of another. */
#ifndef IPCLAB_IPC_RING_H
#define IPCLAB_IPC_RING_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../../core/sys.h"

#define IL_CACHELINE 64u
#define IL_RING_MAX_SLOTS 16u /* a power of two */
#define IL_RING_BUDGET (1u << 20)

/* A blocking wait sleeps at most this long before it asks il_link_peer_gone(): a killed
 * peer turns into EPIPE within ~50 ms instead of a hang. */
#define IL_PEER_CHECK_NS (50ull * 1000 * 1000)

/* Busy-wait policy (shm-spin, ipc floor). Spinning only makes sense when the peer runs on
 * another CPU at the same time. When both sides are pinned to the same CPU, a spin can
 * only burn the time slice the peer needs, so the waiter yields (sched_yield) on every
 * poll. Otherwise it spins with a pause instruction for IL_SPIN_BUDGET polls, then
 * yields on every poll: that bounds the damage when the scheduler puts both sides on one
 * CPU (unpinned) or the machine is oversubscribed, at the cost of a yield syscall when a
 * peer takes longer than the budget (~tens of microseconds) to answer. A dead peer is
 * looked for every IL_SPIN_CHECK_MASK + 1 polls while pausing, and every
 * IL_SPIN_YIELD_CHECK_MASK + 1 while yielding: a yield can hand the CPU to a CPU hog for a
 * whole time slice (milliseconds), and 65536 of them kept a sender beside `stress-ng --cpu
 * 2` from noticing its killed receiver for more than 30 s. */
#define IL_SPIN_BUDGET (1u << 14)
#define IL_SPIN_CHECK_MASK 0xffffu
#define IL_SPIN_YIELD_CHECK_MASK 0xfu

/* x86 cores fetch cache lines in aligned 128-byte pairs (Intel's spatial prefetcher,
 * AMD's L2 adjacent-line prefetch): a line one side writes and the other polls must not
 * share its pair with the line of the next message, or polling one drags the other into
 * the reader's cache early and the writer must take it back before it can write.
 * Measured on this EPYC VM, 16-byte ping-pong over a 16-slot ring: 64-byte slots 1.4x
 * the round trip of 128-byte ones. Ring slots and per-side counters are kept apart by
 * this much. */
#define IL_PAIR 128u

/* Rounds n up to a whole number of line pairs. */
static inline size_t il_pair_round(size_t n)
{
	return (n + IL_PAIR - 1) & ~(size_t)(IL_PAIR - 1);
}

/* Rounds n up to a whole number of cache lines. */
static inline size_t il_cl_round(size_t n)
{
	return (n + IL_CACHELINE - 1) & ~(size_t)(IL_CACHELINE - 1);
}

/* Ring depth for slots of `stride` bytes (see above): a power of two, so a slot index is
 * a mask, not a division (a 64-bit divide costs tens of cycles on the fast path). */
static inline unsigned il_ring_slots(size_t stride)
{
	size_t k = IL_RING_MAX_SLOTS;
	while (k > 2 && k * stride > IL_RING_BUDGET)
		k /= 2;
	return (unsigned)k;
}

/* The geometry every ring transport's shared block starts with (its first member). */
struct il_ring {
	size_t map_len; /* the whole mapping */
	size_t stride;  /* slot size: the message (and any per-slot header) in cache lines */
	unsigned slots; /* per direction: il_ring_slots(stride) */
};

/* Maps (il_shared_alloc) a block of `header` bytes, a struct whose first member is a
 * struct il_ring and whose last is the cache-aligned slot array, plus two rings of
 * `slot_bytes`-byte slots; fills the geometry. NULL after one line on stderr (errno). */
void *il_ring_alloc(size_t header, size_t slot_bytes);

/* Slot of message n (a free-running count) of channel c in the slot array data. */
static inline unsigned char *il_ring_slot(const struct il_ring *r, unsigned char *data, int c, uint64_t n)
{
	return data + ((size_t)c * r->slots + (size_t)(n & (r->slots - 1))) * r->stride;
}

/* The CPU the calling thread is pinned to (affinity mask of exactly one CPU), else -1. */
static inline int il_pinned_cpu(void)
{
	cpu_set_t s;
	if (sched_getaffinity(0, sizeof(s), &s) != 0 || CPU_COUNT(&s) != 1)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &s))
			return i;
	return -1;
}

/* One poll of a busy wait that has already polled `n` times (policy above). */
static inline void il_spin_once(uint64_t n, bool same_cpu)
{
	if (same_cpu || n >= IL_SPIN_BUDGET)
		(void)sched_yield();
	else
		il_cpu_relax();
}

/* Whether poll `n` of a busy wait (policy above) also looks for a dead peer. */
static inline bool il_spin_check_due(uint64_t n, bool same_cpu)
{
	return (n & (same_cpu || n >= IL_SPIN_BUDGET ? IL_SPIN_YIELD_CHECK_MASK : IL_SPIN_CHECK_MASK)) == 0;
}

/* CLOCK_MONOTONIC now + IL_PEER_CHECK_NS, as an absolute deadline for *clockwait calls. */
static inline struct timespec il_peer_check_deadline(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + IL_PEER_CHECK_NS;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	return ts;
}

#endif
