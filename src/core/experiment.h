/* experiment.h - what one experiment registers: "ipclab <group> <name> [options]".
 *
 * HOW TO WRITE (OR CONVERT) AN EXPERIMENT
 * ========================================
 * Core owns the run. An experiment file holds its own work and ends in one descriptor;
 * il_experiment_main() (src/core/run.c) does the rest, in this order, exactly once:
 *
 *   begin -> defaults -> parse (common + own options, --help) -> check the --json/--hist
 *   destinations -> params() -> guard (if IL_EXP_GUARD) -> measure() -> disarm ->
 *   print() (unless --json went to stdout) -> --hist files -> JSON envelope -> exit code
 *
 * Descriptor fields (all static data):
 *   .group .name .summary  "ipclab list" line;  .help  the --help paragraph
 *   .common     IL_C_* mask of the shared options (--json --quiet --timeout --help always)
 *   .defaults   { .iterations, .warmup, .repeat, .timeout_s }: 0 keeps core's default
 *   .opts       own options, { 0 }-terminated; destinations are IL_CFG(struct, field, type)
 *               offsets into the config struct; .param = "key" also records the value in
 *               the JSON params (integer, choice name, string or boolean)
 *   .cfg_size, .cfg_defaults   the config struct core allocates and fills before parsing
 *   .params(x, cfg)   optional: record derived params, reject option combinations
 *                     (il_err + return IL_USAGE: no JSON, as for a bad option), or
 *                     return IL_UNSUP / IL_NORES (JSON written). IL_OK to go on.
 *   .measure(x, cfg)  the experiment's own work: fills x->results (il_jset), registers
 *                     histograms for --hist with il_ctx_hist(), returns an exit code.
 *   .print(x, cfg)    optional human table, rendered from x->results and cfg only.
 *   .flags      IL_EXP_GUARD (watchdog + signal cleanup around measure), IL_EXP_TRACED
 *               (results.traced), IL_EXP_PRINT_ON_FAIL (the table also after exit 1:
 *               the failed check is the finding), IL_EXP_HIDDEN (not listed).
 *
 * Rules:
 *   - measure never prints to stdout (il_info progress on stderr is fine); print never
 *     computes (no syscalls, no statistics: it formats what measure stored).
 *   - One error convention (src/core/log.h): syscall-level helpers return -errno and do
 *     not log; experiment-level functions (params, measure, their helpers that decide
 *     the outcome) log once (il_err / il_errno / il_fail) and return an enum il_exit.
 *     No char why[256] out-buffers.
 *   - No il_ctx_begin/parse/finish, il_guard_install/disarm, "!c->json || c->json_file"
 *     or "traced" in an experiment file: the descriptor says it.
 *   - Composition: another experiment's measure is a function call,
 *     il_experiment_call(x, &il_exp_ipc_latency, &common, &cfg, &results): no argv.
 *     Export the config struct in a header (e.g. src/ipc/latency.h) for callers.
 *
 * Minimal example (src/harness/overhead.c and src/signal/list.c are complete ones):
 *
 *   struct hello_cfg { uint64_t times; };
 *   static const struct hello_cfg hello_defaults = { .times = 3 };
 *   static const struct il_opt hello_opts[] = {
 *       { .name = "times", .type = IL_OPT_U64, .metavar = "N", .help = "greetings",
 *         .min = 1, .max = 100, .off = IL_CFG(struct hello_cfg, times, uint64_t),
 *         .param = "times" },
 *       { 0 },
 *   };
 *   static int hello_measure(struct il_ctx *x, void *cfg)
 *   {
 *       const struct hello_cfg *h = cfg;
 *       il_jset(x->results, "greetings", json_integer((json_int_t)h->times));
 *       return IL_OK;
 *   }
 *   static void hello_print(const struct il_ctx *x, const void *cfg)
 *   {
 *       printf("%" JSON_INTEGER_FORMAT " greetings\n",
 *              json_integer_value(json_object_get(x->results, "greetings")));
 *   }
 *   const struct il_experiment il_exp_demo_hello = {
 *       .group = "demo", .name = "hello", .summary = "says hello",
 *       .help = "Says hello --times times.", .opts = hello_opts,
 *       .cfg_size = sizeof(struct hello_cfg), .cfg_defaults = &hello_defaults,
 *       .measure = hello_measure, .print = hello_print,
 *   };
 */
#ifndef IPCLAB_EXPERIMENT_H
#define IPCLAB_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "opts.h"
#include "result.h"

/* What an experiment needs beyond the plain life cycle. */
enum {
	IL_EXP_GUARD = 1u << 0,         /* watchdog (--timeout) and signal cleanup around measure */
	IL_EXP_TRACED = 1u << 1,        /* results.traced: whether the tracepoint provider is loaded */
	IL_EXP_PRINT_ON_FAIL = 1u << 2, /* print the table also when measure returned IL_FAIL */
	IL_EXP_HIDDEN = 1u << 3,        /* runnable, not listed nor run by the generic tests */
};

/* Common option defaults an experiment changes; 0 keeps core's (opts.c). */
struct il_defaults {
	uint64_t iterations, warmup, repeat, timeout_s;
};

struct il_experiment {
	const char *group;    /* "ipc" */
	const char *name;     /* "latency" */
	const char *summary;  /* one line for "ipclab list" */
	const char *help;     /* the --help paragraph */
	unsigned common;      /* IL_C_* */
	struct il_defaults defaults;
	const struct il_opt *opts;  /* { 0 }-terminated; destinations IL_CFG(...) */
	size_t cfg_size;
	const void *cfg_defaults;   /* cfg_size bytes; NULL: zeroed */
	int (*params)(struct il_ctx *x, void *cfg);
	int (*measure)(struct il_ctx *x, void *cfg);
	void (*print)(const struct il_ctx *x, const void *cfg);
	unsigned flags;       /* IL_EXP_* */
};

/* Runs e as the command "ipclab <group> <name> ARGS": argv[0] is "<group> <name>".
 * Returns the exit code (enum il_exit). */
int il_experiment_main(const struct il_experiment *e, int argc, char **argv);

/* Runs e in-process as a function, for an experiment that composes others: e's params
 * and measure with cfg (e->cfg_size bytes; NULL: e's defaults) and the common settings c
 * (NULL: e's defaults; json/hist are ignored). No argv, no output, no guard (the
 * caller's, if it has IL_EXP_GUARD, covers it), no change to the log prefix or quiet
 * state. e's warnings are added to the caller's x, prefixed "<group> <name>: ".
 * Returns e's exit code; *results receives e's results object (a new reference, also
 * after a failure, then possibly partial; NULL only when out of memory). */
int il_experiment_call(struct il_ctx *x, const struct il_experiment *e, const struct il_common *c,
		       const void *cfg, json_t **results);

/* True if e is listed by "ipclab list" and run by the generic tests. */
bool il_experiment_listed(const struct il_experiment *e);

#endif
