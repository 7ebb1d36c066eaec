/* latency.h - "ipclab signal latency" inside: the two loops it can run (latency_loop.c)
 * and what one repeat hands back to the experiment (latency.c). */
#ifndef IPCLAB_SIGNAL_LATENCY_H
#define IPCLAB_SIGNAL_LATENCY_H

#include "sigpingpong.h"
#include "../core/hist.h"

#include <stdint.h>

#define LAT_HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

/* --loop: ipclab's ping-pong, or rt-tests sigwaittest's loop call for call. */
enum lat_loop { LOOP_IPCLAB, LOOP_SIGWAITTEST };

/* One repeat's settings, read by both sides. */
struct lat_run {
	struct spp_shared *sh;
	int mode;                /* enum il_mode */
	int loop;                /* enum lat_loop */
	int cpu[2];              /* initiator, responder (-1: not pinned) */
	uint64_t total, warmup;  /* iterations including the warm-up, and the warm-up */
	uint64_t interval_ns;    /* LOOP_SIGWAITTEST: the responder's nanosleep before answering */
	const char *experiment;  /* for the run_begin/run_end events */
	const char *variant;     /* their variant: the receive method */
	uint32_t rep;
};

/* What the initiator measured in one repeat. */
struct lat_repeat {
	struct il_hist rtt, oneway_ba;
	int cpu_start, cpu_end;
};

/* One repeat: spawn the responder, ping-pong r->total times, join. The responder's
 * one-way histogram is in r->sh->oneway_ab. Returns an exit code (logged once). */
int lat_repeat_run(const struct lat_run *r, struct lat_repeat *res);

#endif
