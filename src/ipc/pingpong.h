/* pingpong.h - the ping-pong loop "ipc latency" runs between two peers over one link:
 * the initiator (side 0) sends message i and waits for it to come back; the responder
 * (side 1) receives it and sends it straight back. Each message carries its sequence
 * number (checked on both sides) and its send timestamp (CLOCK_MONOTONIC), so the
 * round trip and both one-way latencies come from the same clock reads. Every iteration,
 * warm-up included, emits exactly four ipclab_msg events (msg_send and msg_recv on each
 * side; a timed msg_recv carries the send and receive timestamps its sample used). */
#ifndef IPCLAB_IPC_PINGPONG_H
#define IPCLAB_IPC_PINGPONG_H

#include "pair.h"
#include "../core/hist.h"

#include <stdbool.h>
#include <stdint.h>

/* What travels in every message (the rest of the message is a fixed pattern). */
struct il_pingpong_hdr {
	uint64_t seq;
	uint64_t t_send; /* CLOCK_MONOTONIC ns, taken just before the send call */
};

/* One repeat's loop: set by the caller, copied into a forked responder. */
struct il_pingpong {
	uint64_t total, warmup;        /* iterations: warmup + measured */
	bool rt_loop;                  /* rt-tests' loop: the responder sleeps sleep_ns before it
					* answers (clock_nanosleep, called also for 0, as pmqtest does) */
	uint64_t sleep_ns;
	unsigned char *buf[2];         /* each side's message buffer (il_pingpong_buffer) */
	struct il_hist *rtt, *oneway_ba; /* the initiator's samples (its own memory) */
	struct il_hist *oneway_ab;     /* the responder's samples (shared memory in process mode) */
	uint64_t *work_ns;             /* shared: the responder's time between its receive and its
					* send, summed over the timed iterations (ipclab's own cost
					* inside every round trip: a clock read, a histogram record,
					* two tracepoint sites, a sequence check) */
};

/* A message buffer of size bytes with the payload pattern; NULL when out of memory. */
unsigned char *il_pingpong_buffer(size_t size);
/* The il_pair body: p->arg is a struct il_pingpong. IL_OK, or IL_FAIL after one message
 * (the responder stays silent when the initiator went away first: it has said why). */
int il_pingpong_body(struct il_pair *p, int side);

#endif
