/* pool.c - "ipclab task pool": a worker pool (the course's Pool: apply_async, map, close,
 * join; workpool.c) against creating one worker per task (pool_run.c). The pool is a
 * fixed number of workers (default: online CPUs) taking task descriptors from a small
 * ring; spawn-per-task forks one process per task, at most --workers alive at a time.
 * Every result is verified; any mismatch exits 1. --sweep runs the three kinds at 0, 10,
 * 100, 1000 us per task and computes the crossover: the task length from which
 * spawn-per-task reaches 90 % of the pool's tasks/s. */
#include "pool_run.h"
#include "task.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CROSS_FRACTION 0.9 /* "a pool stops mattering": spawn-per-task within 10 % */

static const uint64_t sweep_us[] = { 0, 10, 100, 1000 };
#define N_SWEEP (sizeof(sweep_us) / sizeof(sweep_us[0]))

struct pool_cfg {
	int kind;
	uint64_t tasks, task_us, workers, corrupt;
	bool sweep;
};

/* JSON of one run, with its checks appended to checks; *ok cleared on a failed check. */
static json_t *run_json(const struct tk_run_cfg *c, const struct tk_run_res *r, json_t *checks, const char *prefix, bool *ok)
{
	json_t *o = json_object();
	double wall_s = (double)r->wall_ns / 1e9;
	double tps = wall_s > 0 ? (double)c->tasks / wall_s : 0;
	il_jset(o, "kind", json_string(tk_kind_names[c->kind]));
	il_jset(o, "workers", json_integer(c->workers));
	il_jset(o, "tasks", json_integer((json_int_t)c->tasks));
	il_jset(o, "task_us", json_integer((json_int_t)c->us));
	il_jset(o, "wall_ns", json_integer((json_int_t)r->wall_ns));
	il_jset(o, "startup_ns", c->kind == K_SPAWN ? json_null() : json_integer((json_int_t)r->startup_ns));
	il_jset(o, "tasks_per_s", json_real(tps));
	il_jset(o, "ideal_tasks_per_s", c->us ? json_real(1e6 * c->workers / (double)c->us) : json_null());
	il_jset(o, "efficiency", c->us && tps > 0 ? json_real(tps / (1e6 * c->workers / (double)c->us)) : json_null());
	/* the cost each task adds beyond its own work, in worker-microseconds */
	il_jset(o, "overhead_us_per_task", json_real(wall_s * 1e6 * c->workers / (double)c->tasks - (double)c->us));
	il_jset(o, "tasks_spawned", json_integer((json_int_t)r->spawned));
	il_jset(o, "tasks_reaped", json_integer((json_int_t)r->reaped));
	il_jset(o, "executed", json_integer((json_int_t)r->executed));
	il_jset(o, "exactly_once", json_integer((json_int_t)r->exactly_once));
	il_jset(o, "verified", json_integer((json_int_t)r->matched));
	il_jset(o, "mismatches", json_integer((json_int_t)(c->tasks - r->matched)));
	il_jset(o, "first_mismatch", r->first_mismatch < 0 ? json_null() : json_integer(r->first_mismatch));
	char buf[32];
	(void)snprintf(buf, sizeof(buf), "%016" PRIx64, r->sum);
	il_jset(o, "sum", json_string(buf));
	(void)snprintf(buf, sizeof(buf), "%016" PRIx64, r->expected_sum);
	il_jset(o, "expected_sum", json_string(buf));
	if (r->per_worker) {
		json_t *pw = json_array();
		for (unsigned w = 0; w < c->workers; w++)
			(void)json_array_append_new(pw, json_integer((json_int_t)r->per_worker[w]));
		il_jset(o, "per_worker", pw);
	} else {
		il_jset(o, "per_worker", json_null());
	}
	char name[96];
	(void)snprintf(name, sizeof(name), "%severy_task_ran_once", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)c->tasks), json_integer((json_int_t)r->exactly_once),
			r->exactly_once == c->tasks && r->executed == c->tasks);
	(void)snprintf(name, sizeof(name), "%severy_result_is_f_of_i", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)c->tasks), json_integer((json_int_t)r->matched),
			r->matched == c->tasks);
	(void)snprintf(name, sizeof(name), "%ssum", prefix);
	char s1[32], s2[32];
	(void)snprintf(s1, sizeof(s1), "%016" PRIx64, r->expected_sum);
	(void)snprintf(s2, sizeof(s2), "%016" PRIx64, r->sum);
	*ok &= tk_check(checks, name, json_string(s1), json_string(s2), r->sum == r->expected_sum);
	(void)snprintf(name, sizeof(name), "%sworkers_reaped", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)r->spawned), json_integer((json_int_t)r->reaped),
			r->spawned == r->reaped && !r->bad_workers);
	return o;
}

/* The crossover against the pool of kind k: measured, the first swept length where
 * spawn-per-task reaches 90 % of the pool's tasks/s; model, from the per-task overheads
 * o at U = 0 with throughput ~ W / (U + o): spawn-per-task is within 10 % once
 * U >= 9 o_spawn - 10 o_pool. */
static json_t *crossover_json(const json_t *points, int k)
{
	json_t *meas = json_null();
	for (size_t i = 0; i < N_SWEEP; i++) {
		const json_t *ks = json_object_get(json_array_get(points, i), "kinds");
		double tp = il_jnum(json_object_get(ks, tk_kind_names[k]), "tasks_per_s");
		double ts = il_jnum(json_object_get(ks, "spawn-per-task"), "tasks_per_s");
		if (tp > 0 && ts >= CROSS_FRACTION * tp) {
			json_decref(meas);
			meas = json_integer((json_int_t)sweep_us[i]);
			break;
		}
	}
	const json_t *k0 = json_object_get(json_array_get(points, 0), "kinds");
	double op = il_jnum(json_object_get(k0, tk_kind_names[k]), "overhead_us_per_task");
	double os = il_jnum(json_object_get(k0, "spawn-per-task"), "overhead_us_per_task");
	double model = (1.0 / (1.0 - CROSS_FRACTION) - 1.0) * os - op / (1.0 - CROSS_FRACTION);
	return json_pack("{so sf sf sf}", "measured_task_us", meas, "model_task_us", model < 0 ? 0 : model,
			 "overhead_us_pool", op, "overhead_us_spawn", os);
}

/* One task length: the asked kind, or (--sweep) every kind, into pt.kinds. */
static int measure_length(struct il_ctx *x, const struct pool_cfg *cfg, uint64_t u, json_t *pt, json_t *checks,
			  bool *ok)
{
	json_t *kinds = json_object();
	il_jset(pt, "kinds", kinds);
	int rc = IL_OK;
	for (int k = 0; k < K_N && rc == IL_OK; k++) {
		if (!cfg->sweep && k != cfg->kind)
			continue;
		struct tk_run_cfg rcfg = { .kind = k, .workers = (unsigned)cfg->workers, .tasks = cfg->tasks, .us = u,
					   .corrupt = cfg->corrupt ? (int64_t)cfg->corrupt - 1 : -1 };
		struct tk_run_res rr;
		il_info("%s, %" PRIu64 " us per task", tk_kind_names[k], u);
		rc = tk_pool_run_one(&rcfg, &rr);
		char prefix[64];
		(void)snprintf(prefix, sizeof(prefix), cfg->sweep ? "%s_%" PRIu64 "us_" : "", tk_kind_names[k], u);
		json_t *o = run_json(&rcfg, &rr, checks, prefix, ok);
		free(rr.per_worker);
		if (!cfg->sweep)
			(void)json_object_update(x->results, o);
		il_jset(kinds, tk_kind_names[k], o);
	}
	return rc;
}

static int pool_measure(struct il_ctx *x, void *cfgv)
{
	const struct pool_cfg *cfg = cfgv;
	json_t *checks = json_array(), *points = json_array();
	il_jset(x->results, "api", json_pack("[ssss]", "apply_async", "map", "close", "join"));
	il_jset(x->results, "checks", checks);
	bool ok = true;
	int rc = IL_OK;
	for (size_t i = 0; i < (cfg->sweep ? N_SWEEP : 1) && rc == IL_OK; i++) {
		json_t *pt = json_pack("{sI}", "task_us", (json_int_t)(cfg->sweep ? sweep_us[i] : cfg->task_us));
		(void)json_array_append_new(points, pt);
		rc = measure_length(x, cfg, cfg->sweep ? sweep_us[i] : cfg->task_us, pt, checks, &ok);
	}
	if (cfg->sweep && rc == IL_OK) {
		json_t *cross = json_object();
		il_jset(cross, "vs_process_pool", crossover_json(points, K_PROCESS));
		il_jset(cross, "vs_thread_pool", crossover_json(points, K_THREAD));
		il_jset(cross, "fraction", json_real(CROSS_FRACTION));
		il_jset(x->results, "crossover", cross);
	}
	if (cfg->sweep)
		il_jset(x->results, "points", points);
	else
		json_decref(points);
	return rc == IL_OK && !ok ? IL_FAIL : rc;
}

/* Option combinations; the default pool size; the params that depend on them. */
static int pool_params(struct il_ctx *x, void *cfgv)
{
	struct pool_cfg *cfg = cfgv;
	if (cfg->sweep && (il_ctx_given(x, "kind") || il_ctx_given(x, "task-us"))) {
		il_err("--sweep runs every kind and task length; it excludes --kind and --task-us");
		return IL_USAGE;
	}
	if (cfg->corrupt > cfg->tasks) {
		il_err("invalid value '%" PRIu64 "' for --corrupt-task (expected 1..%" PRIu64 ", the task count)",
		       cfg->corrupt, cfg->tasks);
		return IL_USAGE;
	}
	if (!cfg->workers) {
		long nproc = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = nproc < 1 ? 1 : (uint64_t)nproc;
	}
	il_jset(x->params, "kind", cfg->sweep ? json_null() : json_string(tk_kind_names[cfg->kind]));
	il_jset(x->params, "task_us", cfg->sweep ? json_null() : json_integer((json_int_t)cfg->task_us));
	il_jset(x->params, "workers", json_integer((json_int_t)cfg->workers));
	il_jset(x->params, "corrupt_task", cfg->corrupt ? json_integer((json_int_t)cfg->corrupt) : json_null());
	return IL_OK;
}

/* One row per kind that ran to the end (a run that broke off has no rate). */
static void print_kind(uint64_t u, const char *kind, const json_t *o)
{
	char ideal[24] = "-", eff[24] = "-";
	if (il_jnum(o, "tasks_per_s") <= 0)
		return;
	if (u) {
		(void)snprintf(ideal, sizeof(ideal), "%.0f", il_jnum(o, "ideal_tasks_per_s"));
		(void)snprintf(eff, sizeof(eff), "%.1f", 100 * il_jnum(o, "efficiency"));
	}
	printf("%8" PRIu64 " %-15s %12.0f %12s %10s %12.1f %9" JSON_INTEGER_FORMAT "\n", u, kind, il_jnum(o, "tasks_per_s"),
	       ideal, eff, il_jnum(o, "overhead_us_per_task"), il_jint(o, "verified"));
}

static void print_crossover(const json_t *cross, int k)
{
	char key[48], m[32];
	(void)snprintf(key, sizeof(key), "vs_%s_pool", tk_kind_names[k]);
	const json_t *c = json_object_get(cross, key), *meas = json_object_get(c, "measured_task_us");
	if (json_is_integer(meas))
		(void)snprintf(m, sizeof(m), "%" JSON_INTEGER_FORMAT, json_integer_value(meas));
	else
		(void)snprintf(m, sizeof(m), "beyond %" PRIu64, sweep_us[N_SWEEP - 1]);
	printf("crossover vs the %s pool (spawn-per-task >= %.0f %% of its tasks/s): measured %s us, model %.0f us "
	       "(per-task overhead %.1f us pooled, %.1f us spawned)\n", tk_kind_names[k], 100 * CROSS_FRACTION, m,
	       il_jnum(c, "model_task_us"), il_jnum(c, "overhead_us_pool"), il_jnum(c, "overhead_us_spawn"));
}

static void pool_print(const struct il_ctx *x, const void *cfgv)
{
	const struct pool_cfg *cfg = cfgv;
	const json_t *r = x->results;
	printf("task pool: %" PRIu64 " tasks, %" PRIu64 " workers%s%s\n", cfg->tasks, cfg->workers,
	       cfg->corrupt ? ", one corrupted result" : "", il_jtrue(r, "traced") ? ", traced" : "");
	printf("%8s %-15s %12s %12s %10s %12s %9s\n", "task_us", "kind", "tasks/s", "ideal/s", "effic_%", "ovh_us/task",
	       "verified");
	if (!cfg->sweep) {
		print_kind(cfg->task_us, tk_kind_names[cfg->kind], r);
		return;
	}
	const json_t *pt;
	size_t i;
	json_array_foreach(json_object_get(r, "points"), i, pt)
		for (int k = 0; k < K_N; k++)
			print_kind((uint64_t)il_jint(pt, "task_us"), tk_kind_names[k],
				   json_object_get(json_object_get(pt, "kinds"), tk_kind_names[k]));
	const json_t *cross = json_object_get(r, "crossover");
	if (cross) {
		print_crossover(cross, K_PROCESS);
		print_crossover(cross, K_THREAD);
	}
}

static const struct pool_cfg pool_defaults = { .kind = K_PROCESS, .tasks = 1000, .task_us = 100 };

#define CFG(field, type) IL_CFG(struct pool_cfg, field, type)
static const struct il_opt pool_opts[] = {
	{ .name = "kind", .type = IL_OPT_CHOICE, .metavar = "K", .help = "a pool of worker processes or threads, or one "
	  "new process per task (default process)", .choices = tk_kind_names, .off = CFG(kind, int) },
	{ .name = "tasks", .type = IL_OPT_U64, .metavar = "N", .help = "tasks to run (default 1000)", .min = 1,
	  .max = 1000000, .off = CFG(tasks, uint64_t), .param = "tasks" },
	{ .name = "task-us", .type = IL_OPT_U64, .metavar = "U", .help = "CPU time each task spins, in microseconds "
	  "(default 100)", .min = 0, .max = 1000000, .off = CFG(task_us, uint64_t) },
	{ .name = "workers", .type = IL_OPT_U64, .metavar = "W", .help = "pool size, and the live limit of "
	  "spawn-per-task (default: online CPUs)", .min = 1, .max = 1024, .off = CFG(workers, uint64_t) },
	{ .name = "sweep", .type = IL_OPT_FLAG, .help = "every kind at 0,10,100,1000 us per task, and the crossover",
	  .off = CFG(sweep, bool), .param = "sweep" },
	{ .name = "corrupt-task", .type = IL_OPT_U64, .metavar = "I", .help = "testing aid: task I-1 returns a wrong "
	  "value (the check must fail)", .min = 1, .max = 1000000, .off = CFG(corrupt, uint64_t) },
	{ 0 },
};
#undef CFG

const struct il_experiment il_exp_task_pool = {
	.group = "task",
	.name = "pool",
	.summary = "worker pool (process/thread, apply_async/map/close/join) vs a process per task: tasks/s",
	.help = "A worker pool (apply_async/map/close/join over a queue in shared memory for\n"
		"processes, in process memory for threads) against one new process per task:\n"
		"tasks/s by task length, every result verified, and (--sweep) the crossover where\n"
		"the pool stops mattering.",
	.opts = pool_opts,
	.cfg_size = sizeof(struct pool_cfg),
	.cfg_defaults = &pool_defaults,
	.params = pool_params,
	.measure = pool_measure,
	.print = pool_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
