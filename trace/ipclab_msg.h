/* ipclab_msg - one event per message sent and per message received, on every transport.
 * chan: (repeat << 1) | direction (0: initiator -> responder, 1: back); seq counts the
 * messages of one channel from 0 (warm-up included). A msg_send and a msg_recv with the
 * same chan and seq are the two ends of one message.
 * msg_recv also carries the experiment's own clock reads of that message (CLOCK_MONOTONIC
 * ns, LTTng's clock): t_send, the sender's stamp that travelled in the message, and
 * t_recv, the receiver's read just after the receive call; t_recv - t_send is exactly the
 * one-way latency the experiment records. Both 0 when the experiment records none for
 * this message (a warm-up message, or an experiment that times no single message). The
 * events sit outside the timed interval (send event before t_send, receive event after
 * t_recv), so traced and untraced numbers measure the same calls. */
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

/* Emitted just after the receive call returned the whole message (and after t_recv). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_msg, msg_recv,
	LTTNG_UST_TP_ARGS(const char *, transport, uint32_t, chan, uint64_t, seq, uint32_t, size,
			  uint64_t, t_send, uint64_t, t_recv),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(transport, transport)
		lttng_ust_field_integer(uint32_t, chan, chan)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(uint32_t, size, size)
		lttng_ust_field_integer(uint64_t, t_send, t_send)
		lttng_ust_field_integer(uint64_t, t_recv, t_recv)
	)
)

#endif

#include <lttng/tracepoint-event.h>
