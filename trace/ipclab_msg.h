/* ipclab_msg - one event per message sent and per message received, on every transport.
 * chan: (repeat << 1) | direction (0: initiator -> responder, 1: back); seq counts the
 * messages of one channel from 0 (warm-up included). A msg_send and a msg_recv with the
 * same chan and seq are the two ends of one message. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ipclab_msg

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ipclab_msg.h"

#if !defined(IPCLAB_MSG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define IPCLAB_MSG_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

LTTNG_UST_TRACEPOINT_EVENT_CLASS(ipclab_msg, msg_class,
	LTTNG_UST_TP_ARGS(const char *, transport, uint32_t, chan, uint64_t, seq, uint32_t, size),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(transport, transport)
		lttng_ust_field_integer(uint32_t, chan, chan)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(uint32_t, size, size)
	)
)

/* Emitted just before the send call. */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_msg, msg_class, ipclab_msg, msg_send,
	LTTNG_UST_TP_ARGS(const char *, transport, uint32_t, chan, uint64_t, seq, uint32_t, size))

/* Emitted just after the receive call returned the whole message. */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(ipclab_msg, msg_class, ipclab_msg, msg_recv,
	LTTNG_UST_TP_ARGS(const char *, transport, uint32_t, chan, uint64_t, seq, uint32_t, size))

#endif

#include <lttng/tracepoint-event.h>
