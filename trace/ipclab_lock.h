/* ipclab_lock - locks and the shared-counter race of the "sync" experiments.
 *
 * lock_request / lock_acquire / lock_release: lock (a small id, unique within one run)
 * and kind ("mutex", "spin", "sem", "flock", "sysvsem", "gil"). request is emitted just
 * before the call that may block, acquire just after it returned with the lock, release
 * just BEFORE the unlock call, so in a trace the hold intervals of one lock never overlap
 * (wait = acquire - request, hold = release - acquire, per vtid).
 * lock_acquire also carries the experiment's own CLOCK_MONOTONIC stamps of the interval
 * it times ending at this acquisition: t_begin (sync semaphore: the waiter's read just
 * after its lock_request event; sync handoff, lock 1: the releasing peer's read just
 * after its lock_release event) and t_acquire (the acquirer's read just before this
 * event); t_acquire - t_begin is exactly the value it records. Both 0 when it records
 * none (warm-up, or an acquisition it does not time).
 *
 * race_read / race_write: "ipclab sync race" only; worker is the worker index (0..W-1),
 * value the counter value read, and the value written (read + 1). A read and the next
 * write of the same worker are one increment; with --sync none two increments whose
 * reads saw the same value are a lost update, reconstructible from the trace alone.
 *
 * Exact counts (what tests assert; every experiment also emits one ipclab_run run_begin
 * and one run_end per measured run, from the main process):
 *   sync race, W*N <= --trace-limit (else no per-increment event at all):
 *     --sync none|atomic           2 per increment: race_read, race_write
 *     --sync mutex|spin|sem|flock  5 per increment: lock_request, lock_acquire,
 *                                  race_read, race_write, lock_release
 *   sync semaphore (--sync sem), R*W <= --trace-limit: 3 per round per worker
 *     (request, acquire, release; lock id 0, kind "sem"); --sync none: 0.
 *   sync handoff: 6 per round trip, warm-up included (initiator: release of lock 1,
 *     request and acquire of lock 0; responder: request and acquire of lock 1,
 *     release of lock 0), kind = --lock.
 *   sync event, sync gil: no lock events (run_begin/run_end only). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ipclab_lock

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ipclab_lock.h"

#if !defined(IPCLAB_LOCK_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define IPCLAB_LOCK_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

LTTNG_UST_TRACEPOINT_EVENT_CLASS(ipclab_lock, lock_class,
	LTTNG_UST_TP_ARGS(uint32_t, lock, const char *, kind),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, lock, lock)
		lttng_ust_field_string(kind, kind)
	)
)

/* Just before the call that may block to take the lock. */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_lock, lock_class, ipclab_lock, lock_request,
	LTTNG_UST_TP_ARGS(uint32_t, lock, const char *, kind))

/* Just after that call returned with the lock held (and after t_acquire). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_lock, lock_acquire,
	LTTNG_UST_TP_ARGS(uint32_t, lock, const char *, kind, uint64_t, t_begin, uint64_t, t_acquire),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, lock, lock)
		lttng_ust_field_string(kind, kind)
		lttng_ust_field_integer(uint64_t, t_begin, t_begin)
		lttng_ust_field_integer(uint64_t, t_acquire, t_acquire)
	)
)

/* Just before the unlock call (still held). */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_lock, lock_class, ipclab_lock, lock_release,
	LTTNG_UST_TP_ARGS(uint32_t, lock, const char *, kind))

LTTNG_UST_TRACEPOINT_EVENT_CLASS(ipclab_lock, race_class,
	LTTNG_UST_TP_ARGS(uint32_t, worker, uint64_t, value),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, worker, worker)
		lttng_ust_field_integer(uint64_t, value, value)
	)
)

/* Just after the shared counter was read (value: what was read). */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_lock, race_class, ipclab_lock, race_read,
	LTTNG_UST_TP_ARGS(uint32_t, worker, uint64_t, value))

/* Just after the shared counter was written (value: what was written). */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_lock, race_class, ipclab_lock, race_write,
	LTTNG_UST_TP_ARGS(uint32_t, worker, uint64_t, value))

#endif

#include <lttng/tracepoint-event.h>
