/* pair.h - what the experiments that drive a transport between two peers share:
 * the transport checks, one repeat's life cycle around an il_link (start barrier,
 * pinning, spawn, attach, body on both sides, detach, join, run_begin/run_end events),
 * (the human summary table is il_print_summary_* in core). */
#ifndef IPCLAB_IPC_PAIR_H
#define IPCLAB_IPC_PAIR_H

#include "transport/transport.h"
#include "../core/hist.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <stdint.h>
#include <sys/types.h>

/* What both sides of a pair see (il_shared_alloc memory, set up by il_pair_run). */
struct il_pair_shared {
	struct il_barrier start;
	int status[2];              /* each side's exit code after attaching, then at the end */
	int cpu_start[2], cpu_end[2];
};

struct il_pair {
	/* Set by the caller before il_pair_run: */
	int (*body)(struct il_pair *p, int side); /* runs on both sides after the start barrier */
	void *arg;                  /* the experiment's state */
	const char *task_name;      /* side 1's task name, e.g. "ipclab-resp" */
	const char *role;           /* side 1 in messages, e.g. "responder" */
	/* Set by side 0's body through il_pair_peer_gone, cleared by il_pair_run: */
	const char *gone_op;        /* where side 0 saw side 1 go (EPIPE), e.g. "send" */
	uint64_t gone_at;           /* at which message */
	/* Set by il_pair_run: */
	struct il_link link;
	struct il_pair_shared *ps;  /* valid until il_pair_fini: cpu_* of the last repeat */
	uint32_t rep;               /* repeat number (also in chan of the msg events) */
	int cpu[2];                 /* where each side is pinned (-1: not) */
	pid_t peer_pid;             /* side 1's pid in process mode, else 0 */
	json_t *facts;              /* the transport's facts of the last repeat (owned), or NULL */
};

/* Records the transport in x->params and checks it is usable here: IL_RUN to go on, else
 * the exit code after a message (unsupported: results.unsupported, IL_UNSUP). */
int il_bench_check_transport(struct il_ctx *x, const struct il_transport *t);
/* IL_OK if messages of size bytes fit t, else IL_NORES after a message. */
int il_bench_check_size(const struct il_transport *t, uint64_t size);

/* One repeat between two peers over transport t: link and start barrier created, side 0
 * (the caller) pinned to c->cpu[0], side 1 spawned (c->mode) and pinned to c->cpu[1]
 * from inside the worker (so a pinning failure still reaches the barrier and is
 * reported instead of hanging the caller), both attach, wait at the barrier, run
 * p->body if both attached, detach; side 1 joined, everything released. Emits
 * run_begin/run_end (experiment, t->name, mode, rep, iterations, warmup). Returns the
 * first failure's exit code. Each side logs its own failure (side 1 too: stderr is shared),
 * except side 1's going away: side 0's body notes where it saw that (il_pair_peer_gone)
 * and il_pair_run says it once, after the join, with how side 1 ended:
 * "FAIL: send 42: the responder went away: it was killed by signal 9 (SIGKILL)". */
int il_pair_run(struct il_pair *p, struct il_ctx *x, const struct il_transport *t, size_t size,
		uint32_t rep, uint64_t iterations, uint64_t warmup);
/* Side 0's body: side 1 went away (EPIPE) at message `at` of operation op (a static
 * string). Says nothing yet (il_pair_run does, knowing how side 1 ended); IL_FAIL. */
int il_pair_peer_gone(struct il_pair *p, const char *op, uint64_t at);
/* Releases what il_pair_run keeps between repeats. */
void il_pair_fini(struct il_pair *p);



#endif
