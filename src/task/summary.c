/* summary.c - "ipclab task summary": one table of what a process costs against a thread,
 * from quick in-process runs of the other task experiments (the same measurement code):
 * creation (fork vs pthread), context switch (process vs thread, one CPU, no working set),
 * memory per extra idle task (Pss, Rss, page tables), crash isolation, and, unless
 * --no-ipc, the pipe round trip of "ipc latency" in process vs thread mode. Each is the
 * other experiment's measure called as a function (il_experiment_call) with its config
 * struct; its results are read back from the JSON object it fills. */
#include "task.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern const struct il_experiment il_exp_ipc_latency;

#define SPAWN_ITER 1000
#define SPAWN_WARM 100
#define CTX_ITER 10000
#define CTX_WARM 1000
#define CTX_REP 3
#define FP_MAX 16
#define IPC_ITER "10000"
#define IPC_WARM "1000"

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

static int sum_rows(struct sum *s, json_t *r)
{
	(void)json_array_append_new(s->rows, r);
	return IL_OK;
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
		json_int_t reaped = tk_jint(r[k], "reaped");
		(void)snprintf(name, sizeof(name), "spawn_%s_reaped_all", tk_method_names[methods[k]]);
		if (!tk_check(s->checks, name, json_integer(SPAWN_ITER + SPAWN_WARM), json_integer(reaped),
			      reaped == SPAWN_ITER + SPAWN_WARM && tk_jint(r[k], "started") == reaped))
			rc = IL_FAIL;
	}
	if (rc == IL_OK) {
		(void)sum_rows(s, row("creation to start, p50", "ns", json_integer(tk_jint2(r[0], "to_start", "p50")),
				      json_integer(tk_jint2(r[1], "to_start", "p50"))));
		(void)sum_rows(s, row("creation to reaped, p50", "ns", json_integer(tk_jint2(r[0], "to_reaped", "p50")),
				      json_integer(tk_jint2(r[1], "to_reaped", "p50"))));
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
			v[m] = tk_jnum(r, "ctxsw_ns");
			il_jset(cx, m == IL_MODE_THREAD ? "thread" : "process", pick(r, keys));
		}
		json_decref(r);
	}
	if (rc == IL_OK)
		(void)sum_rows(s, row("context switch, 0 KiB working set", "ns", json_real(v[0]), json_real(v[1])));
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
		(void)sum_rows(s, row("memory per extra idle task, Pss", "KiB", json_real(tk_jnum(p, "pss_kb")),
				      json_real(tk_jnum(t, "pss_kb"))));
		(void)sum_rows(s, row("memory per extra idle task, Rss", "KiB", json_real(tk_jnum(p, "rss_kb")),
				      json_real(tk_jnum(t, "rss_kb"))));
		(void)sum_rows(s, row("page tables per extra idle task", "KiB", json_real(tk_jnum(p, "pte_kb")),
				      json_real(tk_jnum(t, "pte_kb"))));
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
		(void)snprintf(a, sizeof(a), "worker %s, parent survives", tk_jstr(json_object_get(o, "process_crash"), "worker"));
		(void)snprintf(b, sizeof(b), "whole process %s", tk_jstr(json_object_get(o, "thread_crash"), "process"));
		(void)sum_rows(s, row("one worker crashes (NULL write)", "outcome", json_string(a), json_string(b)));
		json_int_t failed = tk_jint(r, "checks_failed");
		(void)tk_check(s->checks, "isolation_all_checks_pass", json_integer(0), json_integer(failed), failed == 0);
	}
	il_jset(s->details, "isolation", json_pack("{sO sO}", "checks", json_object_get(r, "checks"), "outcomes",
						   json_object_get(r, "outcomes")));
	json_decref(r);
	return rc;
}

/* Runs "ipc latency --mode MODE" in-process; returns its results object (or NULL). */
static json_t *ipc_latency(const char *mode, unsigned timeout_s)
{
	int fd = memfd_create("ipclab-summary", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	char jarg[64], targ[32];
	(void)snprintf(jarg, sizeof(jarg), "--json=/proc/self/fd/%d", fd);
	(void)snprintf(targ, sizeof(targ), "--timeout=%u", timeout_s);
	char name[] = "ipc latency";
	char *argv[] = { name, (char *)"--transport", (char *)"pipe", (char *)"--mode", (char *)mode,
			 (char *)"--iterations", (char *)IPC_ITER, (char *)"--warmup", (char *)IPC_WARM, jarg, targ,
			 (char *)"--quiet", NULL };
	(void)fflush(stdout);
	/* its human table goes to stdout with --json=FILE: keep it out of ours */
	int saved = dup(STDOUT_FILENO), devnull = saved >= 0 ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	if (devnull >= 0)
		(void)dup2(devnull, STDOUT_FILENO);
	int rc = il_experiment_main(&il_exp_ipc_latency, (int)(sizeof(argv) / sizeof(argv[0]) - 1), argv);
	(void)fflush(stdout);
	if (devnull >= 0) {
		(void)dup2(saved, STDOUT_FILENO);
		(void)close(devnull);
	}
	if (saved >= 0)
		(void)close(saved);
	json_t *res = NULL;
	if (rc == IL_OK && lseek(fd, 0, SEEK_SET) == 0) {
		json_error_t err;
		json_t *d = json_loadfd(fd, 0, &err);
		if (d) {
			res = json_incref(json_object_get(d, "results"));
			json_decref(d);
		}
	}
	(void)close(fd);
	return res;
}


/* Communication: the pipe round trip of ipc latency, process vs thread. */
static int part_ipc(struct sum *s)
{
	const struct il_common *c = &s->x->c;
	il_info("ipc latency: pipe, process vs thread");
	json_t *lp = ipc_latency("process", (unsigned)c->timeout_s);
	json_t *lt = ipc_latency("thread", (unsigned)c->timeout_s);
	/* the called experiment set its own log prefix, quietness and watchdog */
	il_log_set_prefix(s->x->experiment);
	il_log_set_quiet(c->quiet);
	il_guard_install((unsigned)c->timeout_s);
	if (lp && lt) {
		(void)sum_rows(s, row("pipe round trip (ipc latency), p50", "ns", json_integer(tk_jint2(lp, "rtt", "p50")),
				      json_integer(tk_jint2(lt, "rtt", "p50"))));
		il_jset(s->details, "ipc_latency", json_pack("{s{sO} s{sO}}", "process", "rtt", json_object_get(lp, "rtt"),
							     "thread", "rtt", json_object_get(lt, "rtt")));
	} else {
		il_ctx_warn(s->x, "ipc latency could not be run in-process; its row is missing");
	}
	json_decref(lp);
	json_decref(lt);
	return IL_OK;
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
	printf("task summary: process vs thread%s\n", json_is_true(json_object_get(x->results, "traced")) ? " (traced)" : "");
	printf("  %-38s %-7s %28s %28s %8s\n", "metric", "unit", "process", "thread", "proc/thr");
	size_t i;
	json_array_foreach(json_object_get(x->results, "rows"), i, r) {
		const json_t *p = json_object_get(r, "process"), *q = json_object_get(r, "process_over_thread");
		if (json_is_string(p)) {
			printf("  %-38s %-7s\n      process: %s\n      thread:  %s\n", tk_jstr(r, "metric"), tk_jstr(r, "unit"),
			       json_string_value(p), tk_jstr(r, "thread"));
			continue;
		}
		char pv[64], tv[64], rv[16] = "";
		(void)snprintf(pv, sizeof(pv), "%.0f", json_number_value(p));
		(void)snprintf(tv, sizeof(tv), "%.0f", tk_jnum(r, "thread"));
		if (json_is_number(q))
			(void)snprintf(rv, sizeof(rv), "%.1fx", json_number_value(q));
		printf("  %-38s %-7s %28s %28s %8s\n", tk_jstr(r, "metric"), tk_jstr(r, "unit"), pv, tv, rv);
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
