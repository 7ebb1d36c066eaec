/* latency.c - "ipclab signal latency": signal delivery latency between two peers
 * (processes or threads), by five ways of receiving, standard or real-time signals.
 *
 * Ping-pong: the initiator sends "ping" to the responder, which answers with "pong"
 * the same way; the initiator measures the round trip. One-way: the sender stores its
 * CLOCK_MONOTONIC time in shared memory just before the send call, the receiver reads
 * the clock at its first instruction after delivery (in the handler for handler and
 * sigsuspend, right after sigwaitinfo/sigtimedwait/read(signalfd) returns). The loops
 * are in latency_loop.c (--loop sigwaittest: rt-tests sigwaittest's, call for call), the
 * sending and receiving in sigpingpong.c; this file holds the options, the repeats and
 * the result. */
#include "latency.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { SIG_STD, SIG_RT };
static const char *const signal_kinds[] = { "std", "rt", NULL };
static const char *const loop_names[] = { "ipclab", "sigwaittest", NULL };

struct lat_cfg {
	int method; /* a --method choice (enum spp_method) */
	int kind;
	int loop;   /* enum lat_loop */
	uint64_t interval_us;
};

static const struct lat_cfg lat_defaults = {
	.method = SPP_SIGWAITINFO, .kind = SIG_STD, .loop = LOOP_IPCLAB, .interval_us = 1000,
};

static const struct il_opt lat_opts[] = {
	{ .name = "method", .type = IL_OPT_CHOICE, .metavar = "M", .choices = spp_method_choices,
	  .help = "how the receiver takes the signal (default sigwaitinfo)",
	  .off = IL_CFG(struct lat_cfg, method, int), .param = "method" },
	{ .name = "signal", .type = IL_OPT_CHOICE, .metavar = "S", .choices = signal_kinds,
	  .help = "std (default): SIGUSR1/SIGUSR2 by kill/tgkill; rt: SIGRTMIN+1/+2 by sigqueue/pthread_sigqueue, seq as value",
	  .off = IL_CFG(struct lat_cfg, kind, int), .param = "signal" },
	{ .name = "loop", .type = IL_OPT_CHOICE, .metavar = "L", .choices = loop_names,
	  .help = "ipclab (default): our ping-pong; sigwaittest: rt-tests sigwaittest's loop call for call (mlockall, "
		  "the mask set every iteration, kill/pthread_kill, sigwait, the receiver sleeps --interval-us before it "
		  "answers; the tool's number is the one-way A->B)",
	  .off = IL_CFG(struct lat_cfg, loop, int), .param = "loop" },
	{ .name = "interval-us", .type = IL_OPT_U64, .metavar = "US", .min = 0, .max = 1000000,
	  .help = "--loop sigwaittest: the receiver's nanosleep before it answers, as sigwaittest -i (default 1000)",
	  .off = IL_CFG(struct lat_cfg, interval_us, uint64_t) },
	{ 0 },
};

/* The ping and pong signals of a configuration. */
static void lat_signals(const struct lat_cfg *l, int sig[2])
{
	sig[PING] = l->kind == SIG_RT ? SIGRTMIN + 1 : SIGUSR1;
	sig[PONG] = l->kind == SIG_RT ? SIGRTMIN + 2 : SIGUSR2;
}

static int lat_method(const struct lat_cfg *l)
{
	return l->loop == LOOP_SIGWAITTEST ? SPP_SIGWAIT : l->method;
}

/* Rejects options that do not fit the loop; records the derived params. */
static int lat_params(struct il_ctx *x, void *cfg)
{
	const struct lat_cfg *l = cfg;
	if (l->loop == LOOP_SIGWAITTEST) {
		if (il_ctx_given(x, "method") || l->kind != SIG_STD) {
			il_err("--loop sigwaittest takes standard signals with sigwait(), as the tool does: "
			       "--method and --signal rt do not apply");
			return IL_USAGE;
		}
		il_jset(x->params, "method", json_string(spp_method_name(SPP_SIGWAIT)));
		il_jset(x->params, "interval_us", json_integer((json_int_t)l->interval_us));
	} else if (il_ctx_given(x, "interval-us")) {
		il_err("--interval-us applies to --loop sigwaittest only");
		return IL_USAGE;
	}
	int sig[2];
	char n1[IL_SIGNAME_MAX], n2[IL_SIGNAME_MAX];
	lat_signals(l, sig);
	il_jset(x->params, "ping_signal", json_string(il_signal_name(sig[PING], n1, sizeof(n1))));
	il_jset(x->params, "pong_signal", json_string(il_signal_name(sig[PONG], n2, sizeof(n2))));
	const bool pk = l->loop == LOOP_SIGWAITTEST && x->c.mode == IL_MODE_THREAD;
	il_jset(x->params, "send_call", json_string(pk ? "pthread_kill" : sig_send_call(x->c.mode, l->kind == SIG_RT)));
	return IL_OK;
}

/* The histograms merged over the repeats (heap: a histogram is large). */
struct lat_totals {
	struct il_hist rtt, ab, ba, ow;
	struct lat_repeat rep;
	struct il_repeats spread;
};

/* Adds one finished repeat to the totals and to results.repeats. */
static void lat_add_repeat(struct lat_totals *t, const struct spp_shared *sh, uint32_t rep, json_t *reps)
{
	const struct lat_repeat *r = &t->rep;
	il_hist_merge(&t->rtt, &r->rtt);
	il_hist_merge(&t->ab, &sh->oneway_ab);
	il_hist_merge(&t->ba, &r->oneway_ba);
	il_repeats_add(&t->spread, &r->rtt);
	(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{s[ii]s[ii]}}", "repeat", (json_int_t)rep,
		"rtt_mean", il_hist_mean(&r->rtt), "rtt_p50", (json_int_t)il_hist_percentile(&r->rtt, 50),
		"oneway_p50", (json_int_t)il_hist_percentile(&sh->oneway_ab, 50), "cpu",
		"initiator", r->cpu_start, r->cpu_end, "responder", sh->cpu_start, sh->cpu_end));
}

/* The result from the totals, and the --hist histograms. */
static void lat_results(struct il_ctx *x, struct lat_totals *t, uint64_t clock_cost)
{
	const struct il_common *c = &x->c;
	il_hist_merge(&t->ow, &t->ab);
	il_hist_merge(&t->ow, &t->ba);
	il_ctx_pingpong_results(x, &t->rtt, &t->ab, &t->ba, clock_cost, &t->spread, NULL, NULL);
	il_jset(x->results, "oneway", il_json_summary(&t->ow));
	il_jset(x->results, "signals_per_repeat", json_integer((json_int_t)(2 * (c->warmup + c->iterations))));
	il_ctx_hist(x, "rtt", &t->rtt);
	il_ctx_hist(x, "oneway", &t->ow);
	il_ctx_hist(x, "oneway_ab", &t->ab);
	il_ctx_hist(x, "oneway_ba", &t->ba);
}

/* The repeats, each with a fresh responder; results filled when all succeeded. */
static int lat_repeats(struct il_ctx *x, const struct lat_cfg *l, struct spp_shared *sh, struct lat_totals *t,
		       json_t *reps)
{
	const struct il_common *c = &x->c;
	const int method = lat_method(l);
	struct lat_run r = {
		.sh = sh, .mode = c->mode, .loop = l->loop, .cpu = { c->cpu[0], c->cpu[1] },
		.total = c->warmup + c->iterations, .warmup = c->warmup, .interval_ns = l->interval_us * 1000,
		.experiment = x->experiment, .variant = spp_method_name(method),
	};
	struct spp_config pc = { .rt = l->kind == SIG_RT, .method = method, .warmup = c->warmup, .sh = sh,
				 .pthread_kill = l->loop == LOOP_SIGWAITTEST };
	lat_signals(l, pc.sig);
	/* sigwaittest locks its memory first (mlockall(MCL_CURRENT | MCL_FUTURE)); so does
	 * its loop here (the responder process too: a lock is not inherited by fork). */
	if (l->loop == LOOP_SIGWAITTEST) {
		bool locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
		if (!locked)
			il_ctx_warn(x, "mlockall failed (%s): memory not locked, unlike sigwaittest", strerror(errno));
		il_jset(x->results, "mlockall", json_boolean(locked));
	}
	int e = spp_install(&pc), rc = IL_OK;
	if (e < 0) {
		errno = -e;
		il_errno("sigaction failed");
		rc = IL_FAIL;
	}
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s %s: repeat %u/%" PRIu64, r.variant, signal_kinds[l->kind],
			c->mode == IL_MODE_THREAD ? "thread" : "process", rep + 1, c->repeat);
		r.rep = rep;
		rc = lat_repeat_run(&r, &t->rep);
		if (rc == IL_OK)
			lat_add_repeat(t, sh, rep, reps);
	}
	spp_uninstall();
	if (l->loop == LOOP_SIGWAITTEST)
		(void)munlockall();
	return rc;
}

static int lat_measure(struct il_ctx *x, void *cfg)
{
	const struct il_common *c = &x->c;
	il_trace_init_thread(); /* our handler may run on this thread and trace */
	const uint64_t clock_cost = il_clock_read_cost_ns();
	struct spp_shared *sh = il_shared_alloc(sizeof(*sh));
	struct lat_totals *t = calloc(1, sizeof(*t));
	json_t *reps = json_array();
	int rc;
	if (!sh || !t || il_repeats_init(&t->spread, c->repeat) < 0) {
		il_err("out of memory");
		rc = IL_NORES;
	} else {
		il_hist_init(&t->rtt, LAT_HIST_MAX_NS);
		il_hist_init(&t->ab, LAT_HIST_MAX_NS);
		il_hist_init(&t->ba, LAT_HIST_MAX_NS);
		il_hist_init(&t->ow, LAT_HIST_MAX_NS);
		rc = lat_repeats(x, cfg, sh, t, reps);
		if (rc == IL_OK)
			lat_results(x, t, clock_cost);
	}
	il_jset(x->results, "repeats", reps);
	if (t)
		il_repeats_free(&t->spread);
	free(t);
	il_shared_free(sh, sizeof(*sh));
	return rc;
}

static void lat_print(const struct il_ctx *x, const void *cfg)
{
	const struct lat_cfg *l = cfg;
	const struct il_common *c = &x->c;
	const json_t *p = x->params, *r = x->results;
	printf("signal latency: %s, %s signals (%s/%s by %s), %s mode, %s", il_jstr(p, "method", "?"),
	       signal_kinds[l->kind], il_jstr(p, "ping_signal", "?"), il_jstr(p, "pong_signal", "?"),
	       il_jstr(p, "send_call", "?"),
	       c->mode == IL_MODE_THREAD ? "thread" : "process", il_placement_text(c));
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n", c->iterations, c->repeat,
	       c->warmup, il_jtrue(r, "traced") ? ", traced" : "");
	if (l->loop == LOOP_SIGWAITTEST)
		printf("loop: rt-tests sigwaittest's (mask set every iteration, sigwait, the responder sleeps %" PRIu64
		       " us before answering); the tool's one-way is A->B\n", l->interval_us);
	il_print_summary_header();
	il_print_summary_json("round trip", json_object_get(r, "rtt"));
	il_print_summary_json("one-way", json_object_get(r, "oneway"));
	il_print_summary_json("one-way A->B", json_object_get(r, "oneway_ab"));
	il_print_summary_json("one-way B->A", json_object_get(r, "oneway_ba"));
	printf("clock read %" JSON_INTEGER_FORMAT " ns; repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n",
	       il_jint(r, "clock_read_ns"), 100 * il_jnum(r, "repeat_rel_stddev_p50"),
	       100 * il_jnum(r, "repeat_rel_stddev_mean"));
}

const struct il_experiment il_exp_signal_latency = {
	.group = "signal",
	.name = "latency",
	.summary = "signal delivery latency: round trip and one-way, 5 receive methods, std/rt, process/thread",
	.help = "Signal delivery latency between two processes or threads: ping-pong round trip\n"
		"and one-way (sender's timestamp in shared memory, receiver's clock read at its first\n"
		"instruction after delivery). Methods: handler (never blocked; the receiver polls a flag\n"
		"with sched_yield), sigwaitinfo, sigtimedwait, signalfd, sigsuspend (handler + atomic unblock).\n"
		"--loop sigwaittest runs rt-tests sigwaittest's loop instead, call for call.",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST,
	.defaults = { .iterations = 10000, .warmup = 1000 },
	.opts = lat_opts,
	.cfg_size = sizeof(struct lat_cfg),
	.cfg_defaults = &lat_defaults,
	.params = lat_params,
	.measure = lat_measure,
	.print = lat_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED,
};
