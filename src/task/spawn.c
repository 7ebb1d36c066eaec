/* spawn.c - "ipclab task spawn": what it costs to create a task that does nothing and wait
 * for it, by creation method: fork, vfork, posix_spawn (exec of a tiny static helper or of
 * ipclab itself), clone(CLONE_VM), pthread, detached pthread (the loop: spawn_loop.c).
 * --touch-mb M grows the creator's resident memory first (spawn_mem.c): fork copies page
 * tables, so its cost grows with M, while a thread's stays flat; --sweep measures that at
 * 1 MiB .. 1 GiB; --hugepages backs the memory with huge pages. */
#include "spawn.h"
#include "task.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const exec_names[] = { "nop", "self", NULL };
static const char *const child_trace_names[] = { "proxy", "self", NULL };
static const uint64_t sweep_mb[] = { 1, 4, 16, 64, 256, 1024 };
#define N_SWEEP (sizeof(sweep_mb) / sizeof(sweep_mb[0]))

/* ---------------------------------------------------------------- measuring */

/* Measures one variant (cfg's method with region reg resident); its JSON, or NULL with
 * *rc set (the loop reported why). */
static json_t *measure_variant(const struct tk_loop_cfg *cfg, const struct tk_region *reg, int *rc)
{
	struct tk_loop_res res;
	*rc = tk_spawn_loop(cfg, &res);
	json_t *o = NULL;
	if (*rc == IL_OK) {
		o = tk_loop_res_json(&res);
		struct tk_mem mem;
		bool memok = tk_read_mem(0, &mem) == 0;
		il_jset(o, "method", json_string(tk_method_names[cfg->method]));
		il_jset(o, "backing", json_string(reg->backing));
		il_jset(o, "touch_mb", json_integer((json_int_t)reg->mb));
		il_jset(o, "parent_rss_kb", memok ? json_integer(mem.rss_kb) : json_null());
		il_jset(o, "parent_pte_kb", memok ? json_integer(mem.pte_kb) : json_null());
		il_jset(o, "anon_huge_kb", json_integer(reg->anon_huge_kb));
		il_jset(o, "hugetlb_kb", json_integer(reg->hugetlb_kb));
	}
	tk_loop_res_free(&res);
	return o;
}

/* The count checks of one variant: every task spawned was started, exited 0, reaped. */
static bool variant_checks(json_t *checks, const char *prefix, const json_t *v, uint64_t want)
{
	json_int_t sp = il_jint(v, "spawned"), st = il_jint(v, "started");
	json_int_t ex = il_jint(v, "exited_ok"), re = il_jint(v, "reaped");
	char name[96];
	bool ok = true;
	if (want) {
		(void)snprintf(name, sizeof(name), "%sspawned", prefix);
		ok &= tk_check(checks, name, json_integer((json_int_t)want), json_integer(sp), sp == (json_int_t)want);
	}
	(void)snprintf(name, sizeof(name), "%sstarted_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(st), st == sp);
	(void)snprintf(name, sizeof(name), "%sexited_ok_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(ex), ex == sp);
	(void)snprintf(name, sizeof(name), "%sreaped_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(re), re == sp);
	return ok;
}

static struct tk_loop_cfg loop_cfg(const struct il_ctx *x, const struct tk_spawn_cfg *cfg, int method)
{
	return (struct tk_loop_cfg){ .method = method, .exec = cfg->exec, .child_trace = cfg->child_trace,
				     .iterations = x->c.iterations,
				     .warmup = x->c.warmup, .budget_ns = cfg->sweep ? cfg->budget_ms * 1000000ull : 0 };
}

/* One method, --touch-mb MiB resident (at most half of MemAvailable). */
static int measure_single(struct il_ctx *x, const struct tk_spawn_cfg *cfg)
{
	int64_t avail = tk_meminfo_kb("MemAvailable");
	if (cfg->touch_mb && avail >= 0 && cfg->touch_mb * 1024 > (uint64_t)avail / 2) {
		il_err("--touch-mb %" PRIu64 " needs %" PRIu64 " MiB resident, but MemAvailable is %" PRId64
		       " MiB (at most half is used: %" PRId64 " MiB)", cfg->touch_mb, cfg->touch_mb, avail / 1024, avail / 2048);
		il_jset(x->results, "mem_available_kb", json_integer(avail));
		return IL_NORES;
	}
	struct tk_region reg;
	json_t *reason;
	int rc = tk_region_make(cfg->touch_mb, cfg->huge, &reg, &reason);
	if (rc != IL_OK) {
		il_err("%s", json_string_value(reason));
		il_jset(x->results, "mem_available_kb", json_integer(tk_meminfo_kb("MemAvailable")));
		il_jset(x->results, rc == IL_UNSUP ? "unsupported" : "error", reason);
		return rc;
	}
	struct tk_loop_cfg lc = loop_cfg(x, cfg, cfg->method);
	json_t *v = measure_variant(&lc, &reg, &rc);
	tk_region_free(&reg);
	if (!v)
		return rc;
	(void)json_object_update(x->results, v);
	json_decref(v);
	json_t *checks = json_array();
	bool ok = variant_checks(checks, "", x->results, x->c.iterations + x->c.warmup);
	il_jset(x->results, "checks", checks);
	return ok ? IL_OK : IL_FAIL;
}

/* One variant of a sweep point, appended to vars with its checks. */
static int sweep_variant(const struct tk_loop_cfg *lc, const struct tk_region *reg, json_t *vars, json_t *checks,
			 bool *ok)
{
	int rc;
	json_t *v = measure_variant(lc, reg, &rc);
	if (!v)
		return rc;
	char pre[64];
	(void)snprintf(pre, sizeof(pre), "%" PRIu64 "mb_%s_%s_", reg->mb, tk_method_names[lc->method], reg->backing);
	*ok &= variant_checks(checks, pre, v, 0);
	(void)json_array_append_new(vars, v);
	return IL_OK;
}

/* One point of the sweep: the method and pthread on mb MiB of 4 KiB pages, then (--hugepages)
 * the method on huge pages (a note in the point when there are none). */
static int sweep_point(struct il_ctx *x, const struct tk_spawn_cfg *cfg, uint64_t mb, json_t *pt, json_t *checks,
		       bool *ok)
{
	json_t *vars = json_array(), *reason;
	il_jset(pt, "variants", vars);
	struct tk_region reg;
	int rc = tk_region_make(mb, false, &reg, &reason);
	if (rc != IL_OK) {
		il_err("%s", json_string_value(reason));
		json_decref(reason);
		return rc;
	}
	const int methods[2] = { cfg->method, TK_PTHREAD };
	int nm = cfg->method == TK_PTHREAD || cfg->method == TK_PTHREAD_DETACHED ? 1 : 2;
	for (int k = 0; k < nm && rc == IL_OK; k++) {
		struct tk_loop_cfg lc = loop_cfg(x, cfg, methods[k]);
		rc = sweep_variant(&lc, &reg, vars, checks, ok);
	}
	tk_region_free(&reg);
	if (rc != IL_OK || !cfg->huge)
		return rc;
	rc = tk_region_make(mb, true, &reg, &reason);
	if (rc == IL_UNSUP) {
		il_ctx_warn(x, "%" PRIu64 " MiB with huge pages: %s", mb, json_string_value(reason));
		il_jset(pt, "huge_unsupported", reason);
		return IL_OK;
	}
	if (rc != IL_OK) {
		il_err("%s", json_string_value(reason));
		json_decref(reason);
		return rc;
	}
	struct tk_loop_cfg lc = loop_cfg(x, cfg, cfg->method);
	rc = sweep_variant(&lc, &reg, vars, checks, ok);
	tk_region_free(&reg);
	return rc;
}

/* The smallest creation-to-reaped median of variant (method, backing) over the points. */
static double smallest_p50(const json_t *points, const char *method, const char *backing)
{
	double lo = 0;
	size_t i, j;
	json_t *pt, *a;
	json_array_foreach(points, i, pt) {
		json_array_foreach(json_object_get(pt, "variants"), j, a) {
			if (strcmp(il_jstr(a, "method", "?"), method) || strcmp(il_jstr(a, "backing", "?"), backing))
				continue;
			double p50 = (double)il_jint(json_object_get(a, "to_reaped"), "p50");
			if (p50 > 0 && (lo == 0 || p50 < lo))
				lo = p50;
		}
	}
	return lo;
}

/* growth: each variant's creation-to-reaped median at the largest point over its smallest
 * median at any point (the smallest rather than the first point: one noisy point must not
 * make a flat variant look like it grew). */
static json_t *growth_json(const json_t *points)
{
	json_t *growth = json_object(), *b;
	size_t k;
	json_array_foreach(json_object_get(json_array_get(points, json_array_size(points) - 1), "variants"), k, b) {
		const char *bm = il_jstr(b, "method", "?"), *bb = il_jstr(b, "backing", "?");
		double lo = smallest_p50(points, bm, bb);
		char key[64];
		(void)snprintf(key, sizeof(key), "%s_%s", bm, bb);
		il_jset(growth, key, json_real(lo > 0 ? (double)il_jint(json_object_get(b, "to_reaped"), "p50") / lo : 0));
	}
	return growth;
}

/* Every sweep point up to MemAvailable/2 (the others are skipped with a warning). */
static int measure_sweep(struct il_ctx *x, const struct tk_spawn_cfg *cfg)
{
	int rc = IL_OK;
	bool ok = true;
	int64_t avail = tk_meminfo_kb("MemAvailable");
	uint64_t cap_mb = avail > 0 ? (uint64_t)avail / 2048 : 1024;
	json_t *points = json_array(), *skipped = json_array(), *checks = json_array();
	il_jset(x->results, "mem_available_kb", json_integer(avail));
	il_jset(x->results, "cap_mb", json_integer((json_int_t)cap_mb));
	il_jset(x->results, "points", points);
	il_jset(x->results, "skipped", skipped);
	il_jset(x->results, "checks", checks);
	for (size_t i = 0; i < N_SWEEP && rc == IL_OK; i++) {
		uint64_t mb = sweep_mb[i];
		if (mb > cap_mb) {
			(void)json_array_append_new(skipped, json_pack("{sI ss}", "touch_mb", (json_int_t)mb, "reason",
								       "above MemAvailable/2"));
			il_ctx_warn(x, "skipped %" PRIu64 " MiB: MemAvailable is %" PRId64 " MiB", mb, avail / 1024);
			continue;
		}
		il_info("%" PRIu64 " MiB", mb);
		json_t *pt = json_pack("{sI}", "touch_mb", (json_int_t)mb);
		rc = sweep_point(x, cfg, mb, pt, checks, &ok);
		if (rc == IL_OK)
			(void)json_array_append(points, pt);
		json_decref(pt);
	}
	if (json_array_size(points) >= 2)
		il_jset(x->results, "reaped_p50_growth", growth_json(points));
	return rc == IL_OK && !ok ? IL_FAIL : rc;
}

/* What posix_spawn executes, and whether it is static (no dynamic loader in the cost). */
static void exec_results(struct il_ctx *x, const struct tk_spawn_cfg *cfg)
{
	char p[PATH_MAX];
	if (cfg->method != TK_POSIX_SPAWN || tk_exec_path(cfg->exec, p, sizeof(p)) < 0)
		return;
	il_jset(x->results, "exec_path", json_string(p));
	int s = tk_elf_is_static(p);
	il_jset(x->results, "exec_static", s < 0 ? json_null() : json_boolean(s == 1));
}

static int spawn_measure(struct il_ctx *x, void *cfgv)
{
	const struct tk_spawn_cfg *cfg = cfgv;
	exec_results(x, cfg);
	il_jset(x->results, "clock_read_ns", json_integer((json_int_t)il_clock_read_cost_ns()));
	return cfg->sweep ? measure_sweep(x, cfg) : measure_single(x, cfg);
}

/* Option combinations, and the params that depend on them. */
static int spawn_params(struct il_ctx *x, void *cfgv)
{
	const struct tk_spawn_cfg *cfg = cfgv;
	const char *bad = NULL;
	if (il_ctx_given(x, "exec") && cfg->method != TK_POSIX_SPAWN)
		bad = "--exec applies to --method posix_spawn only";
	else if (cfg->sweep && cfg->touch_mb)
		bad = "--sweep and --touch-mb exclude each other";
	else if (cfg->huge && !cfg->sweep && !cfg->touch_mb)
		bad = "--hugepages needs --touch-mb or --sweep";
	else if (il_ctx_given(x, "budget-ms") && !cfg->sweep)
		bad = "--budget-ms applies to --sweep only";
	else if (il_ctx_given(x, "child-trace") && cfg->method != TK_FORK)
		bad = "--child-trace applies to --method fork only";
	if (bad) {
		il_err("%s; see 'ipclab %s --help'", bad, x->experiment);
		return IL_USAGE;
	}
	il_jset(x->params, "exec", cfg->method == TK_POSIX_SPAWN ? json_string(exec_names[cfg->exec]) : json_null());
	il_jset(x->params, "budget_ms", cfg->sweep ? json_integer((json_int_t)cfg->budget_ms) : json_null());
	il_jset(x->params, "child_trace", cfg->method == TK_FORK ? json_string(child_trace_names[cfg->child_trace]) :
		json_null());
	return IL_OK;
}

/* ---------------------------------------------------------------- the tables */

static void hrow(const char *label, const json_t *s)
{
	printf("  %-10s %8" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT
	       " %9" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %10.0f\n", label, il_jint(s, "count"), il_jint(s, "min"),
	       il_jint(s, "p50"), il_jint(s, "p90"), il_jint(s, "p99"), il_jint(s, "max"), il_jnum(s, "mean"));
}

static void print_single(const struct il_ctx *x, const struct tk_spawn_cfg *cfg)
{
	const json_t *r = x->results;
	if (!json_object_get(r, "to_reaped"))
		return; /* the loop failed: its message is the output */
	bool ps = cfg->method == TK_POSIX_SPAWN;
	printf("task spawn: %s%s%s, %" PRIu64 " iterations (+%" PRIu64 " warm-up), touched %" PRIu64 " MiB (%s), "
	       "parent RSS %.1f MiB%s\n", tk_method_names[cfg->method], ps ? " exec " : "", ps ? exec_names[cfg->exec] : "",
	       x->c.iterations, x->c.warmup, cfg->touch_mb, il_jstr(r, "backing", "?"),
	       (double)il_jint(r, "parent_rss_kb") / 1024.0, il_jtrue(r, "traced") ? ", traced" : "");
	printf("  spawned %" JSON_INTEGER_FORMAT ", started %" JSON_INTEGER_FORMAT ", exited 0 %" JSON_INTEGER_FORMAT
	       ", reaped %" JSON_INTEGER_FORMAT "\n", il_jint(r, "spawned"), il_jint(r, "started"), il_jint(r, "exited_ok"),
	       il_jint(r, "reaped"));
	printf("  %-10s %8s %9s %9s %9s %9s %10s %10s\n", "ns", "count", "min", "p50", "p90", "p99", "max", "mean");
	hrow("to return", json_object_get(r, "to_return"));
	hrow("to start", json_object_get(r, "to_start"));
	hrow("to reaped", json_object_get(r, "to_reaped"));
}

static void print_sweep(const struct il_ctx *x, const struct tk_spawn_cfg *cfg)
{
	const json_t *r = x->results, *pt, *v;
	printf("task spawn --sweep: %s vs pthread as the parent's resident memory grows "
	       "(%" PRIu64 " iterations or %" PRIu64 " ms per variant)\n", tk_method_names[cfg->method], x->c.iterations,
	       cfg->budget_ms);
	printf("%8s  %-24s %6s %9s %11s %11s %11s\n", "touch_mb", "variant", "n", "rss_MiB", "start_p50", "reaped_p50",
	       "reaped_p99");
	size_t i, j;
	json_array_foreach(json_object_get(r, "points"), i, pt) {
		json_array_foreach(json_object_get(pt, "variants"), j, v) {
			char label[48];
			(void)snprintf(label, sizeof(label), "%s/%s", il_jstr(v, "method", "?"), il_jstr(v, "backing", "?"));
			printf("%8" JSON_INTEGER_FORMAT "  %-24s %6" JSON_INTEGER_FORMAT " %9.1f %11" JSON_INTEGER_FORMAT
			       " %11" JSON_INTEGER_FORMAT " %11" JSON_INTEGER_FORMAT "\n", il_jint(v, "touch_mb"), label,
			       il_jint(v, "measured"), (double)il_jint(v, "parent_rss_kb") / 1024.0,
			       il_jint(json_object_get(v, "to_start"), "p50"), il_jint(json_object_get(v, "to_reaped"), "p50"),
			       il_jint(json_object_get(v, "to_reaped"), "p99"));
		}
	}
	const json_t *growth = json_object_get(r, "reaped_p50_growth"), *points = json_object_get(r, "points");
	if (!growth)
		return;
	printf("creation-to-reaped median at %" JSON_INTEGER_FORMAT " MiB over the smallest median of the sweep:",
	       il_jint(json_array_get(points, json_array_size(points) - 1), "touch_mb"));
	const char *k;
	json_object_foreach((json_t *)growth, k, v)
		printf(" %s x%.1f", k, json_real_value(v));
	printf("\n");
}

static void spawn_print(const struct il_ctx *x, const void *cfgv)
{
	const struct tk_spawn_cfg *cfg = cfgv;
	if (cfg->sweep)
		print_sweep(x, cfg);
	else
		print_single(x, cfg);
}

/* ---------------------------------------------------------------- the descriptor */

static const struct tk_spawn_cfg spawn_defaults = { .method = TK_FORK, .exec = TK_EXEC_NOP, .budget_ms = 1000 };

#define CFG(field, type) IL_CFG(struct tk_spawn_cfg, field, type)
static const struct il_opt spawn_opts[] = {
	{ .name = "method", .type = IL_OPT_CHOICE, .metavar = "M", .help = "how the task is created (default fork)",
	  .choices = tk_method_names, .off = CFG(method, int), .param = "method" },
	{ .name = "exec", .type = IL_OPT_CHOICE, .metavar = "WHAT", .help = "posix_spawn only: exec the static helper "
	  "ipclab-nop, or ipclab itself ('task nop') (default nop)", .choices = exec_names, .off = CFG(exec, int) },
	{ .name = "child-trace", .type = IL_OPT_CHOICE, .metavar = "WHO", .help = "fork only: who emits a child's "
	  "task_start/task_exit when traced: the creator from the child's stamps (proxy, forked without the tracer's "
	  "fork hooks), or the child itself (self: it re-registers with the tracer first) (default proxy)",
	  .choices = child_trace_names, .off = CFG(child_trace, int) },
	{ .name = "touch-mb", .type = IL_OPT_U64, .metavar = "M", .help = "first map and write M MiB in the creator "
	  "(its resident memory)", .min = 1, .max = 1024, .off = CFG(touch_mb, uint64_t), .param = "touch_mb" },
	{ .name = "sweep", .type = IL_OPT_FLAG, .help = "measure at 1,4,16,64,256,1024 MiB (capped by MemAvailable/2), "
	  "the method and pthread at each", .off = CFG(sweep, bool), .param = "sweep" },
	{ .name = "hugepages", .type = IL_OPT_FLAG, .help = "with --touch-mb/--sweep: back the memory with huge pages "
	  "(MAP_HUGETLB, else THP madvise; exit 4 or a per-point note if neither)", .off = CFG(huge, bool),
	  .param = "hugepages" },
	{ .name = "budget-ms", .type = IL_OPT_U64, .metavar = "MS", .help = "--sweep: stop a variant after MS ms of "
	  "measuring (at least 3 samples; default 1000)", .min = 10, .max = 600000, .off = CFG(budget_ms, uint64_t) },
	{ 0 },
};
#undef CFG

const struct il_experiment il_exp_task_spawn = {
	.group = "task",
	.name = "spawn",
	.summary = "creation-to-start/-reaped cost: fork, vfork, posix_spawn, clone, pthread; fork vs memory",
	.help = "Create a task that does nothing and wait for it: creation call to return, to the\n"
		"task's first stamp (shared memory) and to reaped, by method (fork, vfork,\n"
		"posix_spawn of a static helper or of ipclab, clone(CLONE_VM), pthread, detached\n"
		"pthread). --touch-mb/--sweep: fork cost as the creator's resident memory grows.",
	.common = IL_C_ITER | IL_C_WARMUP,
	.defaults = { .iterations = 1000, .warmup = 100 },
	.opts = spawn_opts,
	.cfg_size = sizeof(struct tk_spawn_cfg),
	.cfg_defaults = &spawn_defaults,
	.params = spawn_params,
	.measure = spawn_measure,
	.print = spawn_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
