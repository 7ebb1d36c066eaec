/* coalesce.h - "ipclab signal coalesce" inside: what the receiver recorded and the
 * sender counted (coalesce.c), and the verdict, result and table drawn from them
 * (coalesce_result.c). */
#ifndef IPCLAB_SIGNAL_COALESCE_H
#define IPCLAB_SIGNAL_COALESCE_H

#include "sigsend.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <stdbool.h>
#include <stdint.h>

#define COAL_N_ORD 4

enum cmethod { C_SIGTIMEDWAIT, C_HANDLER };
extern const char *const cmethod_names[];

struct coal_cfg {
	uint64_t count, limit;
	int method; /* enum cmethod */
};

/* One delivered signal as the receiver saw it. */
struct coal_rec {
	int signo, code, pid;
	uint64_t value;
};

/* Shared between sender and receiver (MAP_SHARED in process mode). */
struct coal_shared {
	struct il_barrier bar;
	struct sig_target to_recv;
	int recv_status;
	uint64_t count;           /* --count */
	uint64_t limit;           /* --limit, 0: none */
	long rlim_cur;            /* receiver's RLIMIT_SIGPENDING during the main phase */
	long rlim_inherited;      /* the soft limit it had before (-1: unlimited) */
	long share;               /* the most this run may hold of the uid's room (-1: unknown) */
	bool limit_capped;        /* --limit was above P + share: lowered to it */
	bool lowered;             /* the receiver ran with a lower soft limit than it inherited */
	long pending_before;      /* SigQ: signals pending for our real uid before the sends */
	uint64_t n_main, n_ord;   /* records taken in each phase */
	uint64_t overflow;        /* deliveries beyond the record capacity */
	uint64_t late;            /* handler method: pending after the unblock window (never) */
	struct coal_rec ord[COAL_N_ORD + 4];
	uint64_t cap;
	struct coal_rec main[];   /* cap records */
};

/* What the sender did with one kind of signal. */
struct coal_sent {
	uint64_t ok, eagain, other;
	int other_errno;
};

/* The signals of the ordering phase, in the order queued, their payloads, and the
 * order Linux delivers them (kernel/signal.c next_signal()). */
struct coal_order {
	int sent[COAL_N_ORD];
	uint64_t val[COAL_N_ORD];
	int want[COAL_N_ORD];
};
void coal_order_init(struct coal_order *o);

/* Everything the verdict needs. */
struct coal_run {
	const struct coal_shared *sh;
	uint64_t count;
	int mode;
	bool lowered;
	const struct coal_sent *std, *rt;
	const uint8_t *accepted;  /* count flags: real-time payload i was accepted */
};

/* Fills x->results (std, rt, limit, std_before_rt, ordering, unexpected, checks_failed,
 * effect) from what was recorded; returns the number of failed checks, or -1 when out of
 * memory (logged). */
int coal_judge(struct il_ctx *x, const struct coal_run *r);
/* The human table, from the results (cfg: a struct coal_cfg). */
void coal_print(const struct il_ctx *x, const void *cfg);

#endif
