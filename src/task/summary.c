/* summary.c - "ipclab task summary": one table of what a process costs against a thread,
 * from quick in-process runs of the other task experiments (the same measurement code):
 * creation (fork vs pthread), context switch (process vs thread, one CPU, no working set),
 * memory per extra idle task (Pss, Rss, page tables), crash isolation, and, unless
 * --no-ipc, the pipe round trip of "ipc latency" in process vs thread mode. Each is the
 * other experiment's measure called as a function (il_experiment_call) with its config
 * struct; its results are read back from the JSON object it fills. */
#include "task.h"
#include "../ipc/latency.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <stdio.h>


#define SPAWN_ITER 1000
#define SPAWN_WARM 100
#define CTX_ITER 10000
#define CTX_WARM 1000
#define CTX_REP 3
#define FP_MAX 16
#define IPC_ITER 10000
#define IPC_WARM 1000

/* One row: metric, unit, the process and thread values (null when not numeric). */
static json_t *row(const char *metric, const char *unit, json_t *proc, json_t *thr)
{
	json_t *ratio = json_null();
	if (json_is_number(proc) && json_is_number(thr) && json_number_value(thr) != 0)
		ratio = json_real(json_number_value(proc) / json_number_value(thr));
	return json_pack("{ss ss so so so}", "metric", metric, "unit", unit, "process", proc, "thread", thr,
			 "process_over_thread", ratio);
}

/* A new object with the listed keys of o (NULL-terminated list). */
static json_t *pick(const json_t *o, const char *const keys[])
{
	json_t *p = json_object();
	for (size_t i = 0; keys[i]; i++)
		il_jset(p, keys[i], json_incref(json_object_get(o, keys[i])));
	return p;
}

/* What the summary gathers: the table's rows, each part's details, its own checks. */
struct sum {
	struct il_ctx *x;
	json_t *rows, *details, *checks;
};

static void sum_rows(struct sum *s, json_t *r)
{
	(void)json_array_append_new(s->rows, r);
}

/* Creation: fork vs pthread, task spawn's measure. */
static int part_spawn(struct sum *s)
{
	static const char *const keys[] = { "spawned", "started", "exited_ok", "reaped", "measured", "to_return",
					    "to_start", "to_reaped", NULL };
	struct il_common c = s->x->c;
	c.iterations = SPAWN_ITER;
	c.warmup = SPAWN_WARM;
	const int methods[2] = { TK_FORK, TK_PTHREAD };
	json_t *r[2] = { NULL, NULL };
	int rc = IL_OK;
	il_info("creation: fork vs pthread");
	for (int k = 0; k < 2 && rc == IL_OK; k++) {
		struct tk_spawn_cfg cfg = { .method = methods[k], .budget_ms = 1000 };
		rc = il_experiment_call(s->x, &il_exp_task_spawn, &c, &cfg, &r[k]);
		if (rc != IL_OK)
			break;
		char name[64];
		json_int_t reaped = il_jint(r[k], "reaped");
		(void)snprintf(name, sizeof(name), "spawn_%s_reaped_all", tk_method_names[methods[k]]);
		if (!tk_check(s->checks, name, json_integer(SPAWN_ITER + SPAWN_WARM), json_integer(reaped),
			      reaped == SPAWN_ITER + SPAWN_WARM && il_jint(r[k], "started") == reaped))
			rc = IL_FAIL;
	}
	if (rc == IL_OK) {
		sum_rows(s, row("creation to start, p50", "ns",
				json_integer(il_jint(json_object_get(r[0], "to_start"), "p50")),
				json_integer(il_jint(json_object_get(r[1], "to_start"), "p50"))));
		sum_rows(s, row("creation to reaped, p50", "ns",
				json_integer(il_jint(json_object_get(r[0], "to_reaped"), "p50")),
				json_integer(il_jint(json_object_get(r[1], "to_reaped"), "p50"))));
		il_jset(s->details, "spawn", json_pack("{so so}", "fork", pick(r[0], keys), "pthread", pick(r[1], keys)));
	}
	json_decref(r[0]);
	json_decref(r[1]);
	return rc;
}

/* Context switch: process vs thread on one CPU, no working set, task ctxsw's measure. */
static int part_ctxsw(struct sum *s)
{
	static const char *const keys[] = { "ctxsw_ns", "repeat_rel_stddev", "round_trip", "overhead", "cpu", NULL };
	struct il_common c = s->x->c;
	c.iterations = CTX_ITER;
	c.warmup = CTX_WARM;
	c.repeat = CTX_REP;
	c.cpu[0] = c.cpu[1] = -1;
	const struct tk_ctxsw_cfg cfg = { .ws_kb = 0 };
	json_t *cx = json_object();
	double v[2] = { 0, 0 };
	int rc = IL_OK;
	il_info("context switch: process vs thread");
	for (int m = 0; m < 2 && rc == IL_OK; m++) {
		json_t *r;
		c.mode = m;
		rc = il_experiment_call(s->x, &il_exp_task_ctxsw, &c, &cfg, &r);
		if (rc == IL_OK) {
			v[m] = il_jnum(r, "ctxsw_ns");
			il_jset(cx, m == IL_MODE_THREAD ? "thread" : "process", pick(r, keys));
		}
		json_decref(r);
	}
	if (rc == IL_OK)
		sum_rows(s, row("context switch, 0 KiB working set", "ns", json_real(v[0]), json_real(v[1])));
	il_jset(s->details, "ctxsw", cx);
	return rc;
}

/* Memory per extra idle task: task footprint's slopes. */
static int part_footprint(struct sum *s)
{
	const struct tk_footprint_cfg cfg = { .max = FP_MAX };
	json_t *r;
	il_info("footprint: up to %u idle tasks", FP_MAX);
	int rc = il_experiment_call(s->x, &il_exp_task_footprint, NULL, &cfg, &r);
	if (rc == IL_OK) {
		static const char *const keys[] = { "pss_kb", "rss_kb", "pte_kb", NULL };
		const json_t *sl = json_object_get(r, "slope_kb_per_task"), *p = json_object_get(sl, "process"),
			     *t = json_object_get(sl, "thread");
		sum_rows(s, row("memory per extra idle task, Pss", "KiB", json_real(il_jnum(p, "pss_kb")),
				      json_real(il_jnum(t, "pss_kb"))));
		sum_rows(s, row("memory per extra idle task, Rss", "KiB", json_real(il_jnum(p, "rss_kb")),
				      json_real(il_jnum(t, "rss_kb"))));
		sum_rows(s, row("page tables per extra idle task", "KiB", json_real(il_jnum(p, "pte_kb")),
				      json_real(il_jnum(t, "pte_kb"))));
		il_jset(s->details, "footprint", json_pack("{si so so}", "max", FP_MAX, "process", pick(p, keys), "thread",
							   pick(t, keys)));
	}
	json_decref(r);
	return rc;
}

/* Crash isolation: task isolation's checks and outcomes. */
static int part_isolation(struct sum *s)
{
	json_t *r;
	il_info("isolation");
	int rc = il_experiment_call(s->x, &il_exp_task_isolation, NULL, NULL, &r);
	if (rc == IL_OK || rc == IL_FAIL) { /* it ran: its checks say what held */
		const json_t *o = json_object_get(r, "outcomes");
		char a[96], b[96];
		(void)snprintf(a, sizeof(a), "worker %s, parent survives",
			       il_jstr(json_object_get(o, "process_crash"), "worker", "?"));
		(void)snprintf(b, sizeof(b), "whole process %s", il_jstr(json_object_get(o, "thread_crash"), "process", "?"));
		sum_rows(s, row("one worker crashes (NULL write)", "outcome", json_string(a), json_string(b)));
		json_int_t failed = il_jint(r, "checks_failed");
		(void)tk_check(s->checks, "isolation_all_checks_pass", json_integer(0), json_integer(failed), failed == 0);
	}
	il_jset(s->details, "isolation", json_pack("{sO sO}", "checks", json_object_get(r, "checks"), "outcomes",
						   json_object_get(r, "outcomes")));
	json_decref(r);
	return rc;
}

/* Communication: the pipe round trip of ipc latency, process vs thread. */
static int part_ipc(struct sum *s)
{
	struct il_common c = s->x->c;
	c.iterations = IPC_ITER;
	c.warmup = IPC_WARM;
	c.repeat = 1;
	c.cpu[0] = c.cpu[1] = -1;
	struct il_latency_cfg cfg = il_latency_defaults;
	cfg.transport = il_transport_index("pipe");
	json_t *r[2] = { NULL, NULL };
	int rc = IL_OK;
	il_info("ipc latency: pipe, process vs thread");
	for (int m = 0; m < 2 && rc == IL_OK; m++) {
		c.mode = m;
		rc = il_experiment_call(s->x, &il_exp_ipc_latency, &c, &cfg, &r[m]);
	}
	if (rc == IL_OK) {
		sum_rows(s, row("pipe round trip (ipc latency), p50", "ns",
				json_integer(il_jint(json_object_get(r[0], "rtt"), "p50")),
				json_integer(il_jint(json_object_get(r[1], "rtt"), "p50"))));
		il_jset(s->details, "ipc_latency", json_pack("{s{sO} s{sO}}", "process", "rtt", json_object_get(r[0], "rtt"),
							     "thread", "rtt", json_object_get(r[1], "rtt")));
	}
	json_decref(r[0]);
	json_decref(r[1]);
	return rc;
}

struct summary_cfg {
	bool no_ipc;
};

static int summary_params(struct il_ctx *x, void *cfg)
{
	(void)cfg;
	il_jset(x->params, "spawn_iterations", json_integer(SPAWN_ITER));
	il_jset(x->params, "ctxsw_iterations", json_integer(CTX_ITER));
	il_jset(x->params, "footprint_max", json_integer(FP_MAX));
	return IL_OK;
}

static int summary_measure(struct il_ctx *x, void *cfgv)
{
	const struct summary_cfg *cfg = cfgv;
	struct sum s = { x, json_array(), json_object(), json_array() };
	il_jset(x->results, "rows", s.rows);
	il_jset(x->results, "details", s.details);
	il_jset(x->results, "checks", s.checks);
	int (*const parts[])(struct sum *) = { part_spawn, part_ctxsw, part_footprint, part_isolation, part_ipc };
	size_t n = sizeof(parts) / sizeof(parts[0]) - (cfg->no_ipc ? 1 : 0);
	int rc = IL_OK;
	for (size_t i = 0; i < n && rc == IL_OK; i++)
		rc = parts[i](&s);
	return rc;
}

static void summary_print(const struct il_ctx *x, const void *cfg)
{
	(void)cfg;
	const json_t *r;
	printf("task summary: process vs thread%s\n", il_jtrue(x->results, "traced") ? " (traced)" : "");
	printf("  %-38s %-7s %28s %28s %8s\n", "metric", "unit", "process", "thread", "proc/thr");
	size_t i;
	json_array_foreach(json_object_get(x->results, "rows"), i, r) {
		const json_t *p = json_object_get(r, "process"), *q = json_object_get(r, "process_over_thread");
		if (json_is_string(p)) {
			printf("  %-38s %-7s\n      process: %s\n      thread:  %s\n", il_jstr(r, "metric", "?"), il_jstr(r, "unit", "?"),
			       json_string_value(p), il_jstr(r, "thread", "?"));
			continue;
		}
		char pv[64], tv[64], rv[16] = "";
		(void)snprintf(pv, sizeof(pv), "%.0f", json_number_value(p));
		(void)snprintf(tv, sizeof(tv), "%.0f", il_jnum(r, "thread"));
		if (json_is_number(q))
			(void)snprintf(rv, sizeof(rv), "%.1fx", json_number_value(q));
		printf("  %-38s %-7s %28s %28s %8s\n", il_jstr(r, "metric", "?"), il_jstr(r, "unit", "?"), pv, tv, rv);
	}
}

static const struct il_opt summary_opts[] = {
	{ .name = "no-ipc", .type = IL_OPT_FLAG, .help = "skip the 'ipc latency' pipe round trip rows",
	  .off = IL_CFG(struct summary_cfg, no_ipc, bool), .param = "no_ipc" },
	{ 0 },
};

const struct il_experiment il_exp_task_summary = {
	.group = "task",
	.name = "summary",
	.summary = "process vs thread in one table: creation, context switch, memory, isolation, pipe RTT",
	.help = "Process vs thread in one table, from quick runs of the task experiments:\n"
		"creation (fork vs pthread), context switch, memory per task, crash isolation, and\n"
		"the pipe round trip of 'ipc latency' (called in-process).",
	.opts = summary_opts,
	.cfg_size = sizeof(struct summary_cfg),
	.params = summary_params,
	.measure = summary_measure,
	.print = summary_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
