/* ipclab_task - the life of every task (process or thread) the "task" experiments create:
 * exactly one task_spawn, task_start, task_exit and task_reaped per task, paired by seq
 * (counts the tasks of one run from 0, warm-up included).
 *   task_spawn   the creator, just before the creation call (fork, pthread_create, ...);
 *   task_start   the new task, first thing after its CLOCK_MONOTONIC stamp;
 *   task_exit    the new task, last thing before it exits;
 *   task_reaped  the creator, when waitpid/pthread_join/the completion semaphore returned.
 * A task that cannot trace itself (a vfork or CLONE_VM child sharing our memory and TLS,
 * an exec'd helper without the tracer) has task_start and task_exit emitted for it by the
 * creator after the reap, with proxy = 1; t_start is then the task's own stamp, the event
 * timestamp only when the creator recorded it. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ipclab_task

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ipclab_task.h"

#if !defined(IPCLAB_TASK_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define IPCLAB_TASK_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

/* method: "fork", "pthread", "pool-process", ...; pid/tid: the creator. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_task, task_spawn,
	LTTNG_UST_TP_ARGS(const char *, method, uint64_t, seq, int, pid, int, tid),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(method, method)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, tid, tid)
	)
)

/* pid/tid: the new task; t_start: its CLOCK_MONOTONIC stamp (ns). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_task, task_start,
	LTTNG_UST_TP_ARGS(uint64_t, seq, int, pid, int, tid, uint64_t, t_start, int, proxy),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, tid, tid)
		lttng_ust_field_integer(uint64_t, t_start, t_start)
		lttng_ust_field_integer(int, proxy, proxy)
	)
)

/* status: the task's exit status / return value as it leaves. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_task, task_exit,
	LTTNG_UST_TP_ARGS(uint64_t, seq, int, pid, int, tid, int, status, int, proxy),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, tid, tid)
		lttng_ust_field_integer(int, status, status)
		lttng_ust_field_integer(int, proxy, proxy)
	)
)

/* pid/tid: the reaped task; status: the raw wait status (processes) or the return value
 * (threads); latency_ns: creation call to reaped, as the creator measured it. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_task, task_reaped,
	LTTNG_UST_TP_ARGS(uint64_t, seq, int, pid, int, tid, int, status, uint64_t, latency_ns),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, tid, tid)
		lttng_ust_field_integer(int, status, status)
		lttng_ust_field_integer(uint64_t, latency_ns, latency_ns)
	)
)

#endif

#include <lttng/tracepoint-event.h>
