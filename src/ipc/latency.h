/* latency.h - "ipclab ipc latency" for experiments that call it as a function
 * (il_experiment_call, src/core/experiment.h), e.g. "task summary":
 *
 *   struct il_latency_cfg cfg = il_latency_defaults;
 *   cfg.transport = il_transport_index("pipe");
 *   struct il_common c;
 *   il_common_defaults(&c);
 *   c.mode = IL_MODE_THREAD;
 *   c.iterations = 10000;
 *   json_t *res;
 *   int rc = il_experiment_call(x, &il_exp_ipc_latency, &c, &cfg, &res);
 *
 * res then holds the same "results" object as "ipc latency --json" (rtt, oneway_ab,
 * oneway_ba summaries, repeats, ...). */
#ifndef IPCLAB_IPC_LATENCY_H
#define IPCLAB_IPC_LATENCY_H

#include "transport/transport.h"
#include "../core/experiment.h"

#include <stdint.h>

/* --loop: ipclab's ping-pong (both directions timed, the responder answers at once), or
 * rt-tests' loop (pmqtest, svsematest): the same calls, but the receiver sleeps
 * --interval-us before it answers and memory is locked (mlockall), as the tools do. */
enum il_latency_loop { IL_LOOP_IPCLAB, IL_LOOP_RT_TESTS };

struct il_latency_cfg {
	int transport;  /* index in the transport registry: il_transport_index(name) */
	uint64_t size;  /* bytes per message, at least IL_LATENCY_MIN_SIZE */
	int loop;       /* enum il_latency_loop */
	uint64_t interval_us; /* IL_LOOP_RT_TESTS: the receiver's sleep before it answers */
};

/* The smallest message: a sequence number and the send timestamp. */
#define IL_LATENCY_MIN_SIZE 16u

extern const struct il_latency_cfg il_latency_defaults;
extern const struct il_experiment il_exp_ipc_latency;

#endif
