/* ipclab_run - one event at the start and end of every measured repeat, so a trace
 * says which experiment, variant and parameters produced the events between them. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ipclab_run

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ipclab_run.h"

#if !defined(IPCLAB_RUN_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define IPCLAB_RUN_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

/* experiment: "ipc latency"; variant: e.g. the transport; mode: 0 process, 1 thread. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_run, run_begin,
	LTTNG_UST_TP_ARGS(const char *, experiment, const char *, variant, int, mode,
			  uint32_t, repeat, uint64_t, iterations, uint64_t, warmup),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(experiment, experiment)
		lttng_ust_field_string(variant, variant)
		lttng_ust_field_integer(int, mode, mode)
		lttng_ust_field_integer(uint32_t, repeat, repeat)
		lttng_ust_field_integer(uint64_t, iterations, iterations)
		lttng_ust_field_integer(uint64_t, warmup, warmup)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(ipclab_run, run_end,
	LTTNG_UST_TP_ARGS(const char *, experiment, const char *, variant, uint32_t, repeat, int, status),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(experiment, experiment)
		lttng_ust_field_string(variant, variant)
		lttng_ust_field_integer(uint32_t, repeat, repeat)
		lttng_ust_field_integer(int, status, status)
	)
)

/* Used only by "ipclab core overhead" to time the cost of one call site, enabled or not. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_run, probe,
	LTTNG_UST_TP_ARGS(uint64_t, value),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, value, value)
	)
)

#endif

#include <lttng/tracepoint-event.h>
