/* ipclab_sig - signals: every send and every receive, and the bus roles' states.
 * A sig_send and a sig_receive with the same signo and seq are the two ends of one
 * delivery (seq is the sigqueue value for real-time signals, a shared counter else). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ipclab_sig

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ipclab_sig.h"

#if !defined(IPCLAB_SIG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define IPCLAB_SIG_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

/* Emitted just before kill/sigqueue/tgkill/pthread_kill; target: pid or tid. */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_sig, sig_send,
	LTTNG_UST_TP_ARGS(int, signo, uint64_t, seq, int, target),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, signo, signo)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, target, target)
	)
)

/* Emitted first thing after delivery (in the handler, or after sigwaitinfo & co return),
 * just after the receiver's clock read; sender: si_pid when known, else 0. method:
 * "handler", "sigwaitinfo", ... t_send, t_recv: the experiment's own CLOCK_MONOTONIC
 * stamps of this delivery (the sender's read just before sending, the receiver's read
 * on delivery): t_recv - t_send is exactly the latency it records; both 0 when it
 * records none (warm-up, or an experiment that times no delivery). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_sig, sig_receive,
	LTTNG_UST_TP_ARGS(int, signo, uint64_t, seq, int, sender, const char *, method,
			  uint64_t, t_send, uint64_t, t_recv),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, signo, signo)
		lttng_ust_field_integer(uint64_t, seq, seq)
		lttng_ust_field_integer(int, sender, sender)
		lttng_ust_field_string(method, method)
		lttng_ust_field_integer(uint64_t, t_send, t_send)
		lttng_ust_field_integer(uint64_t, t_recv, t_recv)
	)
)

/* The bus simulation: role "driver" or "conductor" enters state (e.g. "waiting",
 * "driving", "at_station", "off"; "selling", "announcing", "off"). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_sig, bus_state,
	LTTNG_UST_TP_ARGS(const char *, role, const char *, state),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(role, role)
		lttng_ust_field_string(state, state)
	)
)

/* A parent reaped a child: waitpid()/waitid() returned it. pid: the child; status: the raw
 * wait status; seq: the child's index in its experiment (pairs with the child's start). */
LTTNG_UST_TRACEPOINT_EVENT(ipclab_sig, child_reap,
	LTTNG_UST_TP_ARGS(int, pid, int, status, uint64_t, seq),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, status, status)
		lttng_ust_field_integer(uint64_t, seq, seq)
	)
)

#endif

#include <lttng/tracepoint-event.h>
