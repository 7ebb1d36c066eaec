/* summary.c - "ipclab task summary": one table of what a process costs against a thread,
 * from quick in-process runs of the other task experiments (the same measurement code):
 * creation (fork vs pthread), context switch (process vs thread, one CPU, no working set),
 * memory per extra idle task (Pss, Rss, page tables), crash isolation, and, unless
 * --no-ipc, the pipe round trip of "ipc latency" in process vs thread mode (its experiment
 * code is called here, its JSON read back from a memfd: no ipclab is forked). */
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

static json_int_t hget(json_t *o, const char *h, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(o, h), k));
}

static int summary_run(int argc, char **argv)
{
	bool no_ipc = false;
	const struct il_opt opts[] = {
		{ "no-ipc", IL_OPT_FLAG, NULL, "skip the 'ipc latency' pipe round trip rows", 0, 0, NULL, &no_ipc },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Process vs thread in one table, from quick runs of the task experiments:\n"
			       "creation (fork vs pthread), context switch, memory per task, crash isolation, and\n"
			       "the pipe round trip of 'ipc latency' (called in-process).", 0, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	il_jset(x.params, "no_ipc", json_boolean(no_ipc));
	il_jset(x.params, "spawn_iterations", json_integer(SPAWN_ITER));
	il_jset(x.params, "ctxsw_iterations", json_integer(CTX_ITER));
	il_jset(x.params, "footprint_max", json_integer(FP_MAX));
	il_guard_install((unsigned)c->timeout_s);
	int rc = IL_OK;
	json_t *rows = json_array(), *details = json_object(), *checks = json_array();

	/* creation */
	il_info("creation: fork vs pthread");
	json_t *sp[2] = { NULL, NULL };
	const int methods[2] = { TK_FORK, TK_PTHREAD };
	for (int k = 0; k < 2 && rc == IL_OK; k++) {
		struct tk_spawn_cfg cfg = { .method = methods[k], .iterations = SPAWN_ITER, .warmup = SPAWN_WARM };
		struct tk_spawn_res res;
		rc = tk_spawn_measure(&cfg, &res);
		if (rc != IL_OK) {
			il_err("spawn %s: %s", tk_method_names[methods[k]], res.why);
		} else {
			sp[k] = tk_spawn_res_json(&res);
			char name[64];
			(void)snprintf(name, sizeof(name), "spawn_%s_reaped_all", tk_method_names[methods[k]]);
			if (!tk_check(checks, name, json_integer(SPAWN_ITER + SPAWN_WARM), json_integer((json_int_t)res.reaped),
				      res.reaped == SPAWN_ITER + SPAWN_WARM && res.started == res.reaped))
				rc = IL_FAIL;
		}
		tk_spawn_res_free(&res);
	}
	if (sp[0] && sp[1]) {
		(void)json_array_append_new(rows, row("creation to start, p50", "ns", json_integer(hget(sp[0], "to_start", "p50")),
						      json_integer(hget(sp[1], "to_start", "p50"))));
		(void)json_array_append_new(rows, row("creation to reaped, p50", "ns", json_integer(hget(sp[0], "to_reaped", "p50")),
						      json_integer(hget(sp[1], "to_reaped", "p50"))));
		il_jset(details, "spawn", json_pack("{sO sO}", "fork", sp[0], "pthread", sp[1]));
	}
	json_decref(sp[0]);
	json_decref(sp[1]);

	/* context switch */
	if (rc == IL_OK) {
		il_info("context switch: process vs thread");
		int cpu = tk_first_allowed_cpu();
		double v[2] = { 0, 0 };
		json_t *cx = json_object();
		for (int m = 0; m < 2 && rc == IL_OK; m++) {
			struct tk_ctxsw_res res;
			rc = tk_ctxsw_measure(m, cpu, 0, CTX_ITER, CTX_WARM, CTX_REP, &res);
			if (rc != IL_OK) {
				il_err("ctxsw %s: %s", m == IL_MODE_THREAD ? "thread" : "process", res.why);
			} else {
				v[m] = res.ctxsw_ns;
				il_jset(cx, m == IL_MODE_THREAD ? "thread" : "process",
					json_pack("{sf sf so so si}", "ctxsw_ns", res.ctxsw_ns, "repeat_rel_stddev", res.rel_stddev,
						  "round_trip", il_json_summary(res.round), "overhead", il_json_summary(res.overhead),
						  "cpu", cpu));
			}
			tk_ctxsw_res_free(&res);
		}
		if (rc == IL_OK)
			(void)json_array_append_new(rows, row("context switch, 0 KiB working set", "ns", json_real(v[0]),
							      json_real(v[1])));
		il_jset(details, "ctxsw", cx);
	}

	/* memory per task */
	if (rc == IL_OK) {
		il_info("footprint: up to %u idle tasks", FP_MAX);
		struct tk_fp_point pts[16];
		unsigned np = 0;
		char why[256] = "";
		rc = tk_footprint_measure(FP_MAX, pts, &np, why, sizeof(why));
		if (rc != IL_OK) {
			il_err("footprint: %s", why);
		} else {
			struct tk_fp_slope s[2];
			tk_footprint_slopes(pts, np, false, &s[0]);
			tk_footprint_slopes(pts, np, true, &s[1]);
			(void)json_array_append_new(rows, row("memory per extra idle task, Pss", "KiB", json_real(s[0].pss),
							      json_real(s[1].pss)));
			(void)json_array_append_new(rows, row("memory per extra idle task, Rss", "KiB", json_real(s[0].rss),
							      json_real(s[1].rss)));
			(void)json_array_append_new(rows, row("page tables per extra idle task", "KiB", json_real(s[0].pte),
							      json_real(s[1].pte)));
			il_jset(details, "footprint", json_pack("{si s{sf sf sf} s{sf sf sf}}", "max", FP_MAX, "process",
				"pss_kb", s[0].pss, "rss_kb", s[0].rss, "pte_kb", s[0].pte, "thread", "pss_kb", s[1].pss,
				"rss_kb", s[1].rss, "pte_kb", s[1].pte));
		}
	}

	/* isolation */
	if (rc == IL_OK) {
		il_info("isolation");
		json_t *ichecks = json_array(), *outcomes = json_object();
		int r = tk_isolation_run(ichecks, outcomes);
		if (r < 0) {
			rc = -r;
		} else {
			json_t *pc = json_object_get(outcomes, "process_crash"), *tc = json_object_get(outcomes, "thread_crash");
			char a[96], b[96];
			(void)snprintf(a, sizeof(a), "worker %s, parent survives",
				       json_string_value(json_object_get(pc, "worker")) ? json_string_value(json_object_get(pc, "worker")) : "?");
			(void)snprintf(b, sizeof(b), "whole process %s",
				       json_string_value(json_object_get(tc, "process")) ? json_string_value(json_object_get(tc, "process")) : "?");
			(void)json_array_append_new(rows, row("one worker crashes (NULL write)", "outcome", json_string(a),
							      json_string(b)));
			(void)tk_check(checks, "isolation_all_checks_pass", json_integer(0), json_integer(r), r == 0);
			if (r)
				rc = IL_FAIL;
		}
		il_jset(details, "isolation", json_pack("{so so}", "checks", ichecks, "outcomes", outcomes));
	}

	/* communication (optional) */
	if (rc == IL_OK && !no_ipc) {
		il_info("ipc latency: pipe, process vs thread");
		json_t *lp = ipc_latency("process", (unsigned)c->timeout_s);
		json_t *lt = ipc_latency("thread", (unsigned)c->timeout_s);
		/* the called experiment set its own log prefix, quietness and watchdog */
		il_log_set_prefix(x.experiment);
		il_log_set_quiet(c->quiet);
		il_guard_install((unsigned)c->timeout_s);
		if (lp && lt) {
			(void)json_array_append_new(rows, row("pipe round trip (ipc latency), p50", "ns",
							      json_integer(hget(lp, "rtt", "p50")), json_integer(hget(lt, "rtt", "p50"))));
			il_jset(details, "ipc_latency", json_pack("{s{sO} s{sO}}", "process", "rtt", json_object_get(lp, "rtt"),
								  "thread", "rtt", json_object_get(lt, "rtt")));
		} else {
			il_ctx_warn(&x, "ipc latency could not be run in-process; its row is missing");
		}
		json_decref(lp);
		json_decref(lt);
	}
	il_guard_disarm();

	if (!c->json || c->json_file) {
		printf("task summary: process vs thread%s\n", il_trace_loaded() ? " (traced)" : "");
		printf("  %-38s %-7s %28s %28s %8s\n", "metric", "unit", "process", "thread", "proc/thr");
		for (size_t i = 0; i < json_array_size(rows); i++) {
			json_t *r = json_array_get(rows, i);
			char pv[64], tv[64], rv[16] = "";
			json_t *p = json_object_get(r, "process"), *t = json_object_get(r, "thread"), *q = json_object_get(r, "process_over_thread");
			if (json_is_string(p)) {
				(void)snprintf(pv, sizeof(pv), "%s", json_string_value(p));
				(void)snprintf(tv, sizeof(tv), "%s", json_string_value(t));
			} else {
				(void)snprintf(pv, sizeof(pv), "%.0f", json_number_value(p));
				(void)snprintf(tv, sizeof(tv), "%.0f", json_number_value(t));
			}
			if (json_is_number(q))
				(void)snprintf(rv, sizeof(rv), "%.1fx", json_number_value(q));
			if (json_is_string(p))
				printf("  %-38s %-7s\n      process: %s\n      thread:  %s\n", json_string_value(json_object_get(r, "metric")),
				       json_string_value(json_object_get(r, "unit")), pv, tv);
			else
				printf("  %-38s %-7s %28s %28s %8s\n", json_string_value(json_object_get(r, "metric")),
				       json_string_value(json_object_get(r, "unit")), pv, tv, rv);
		}
	}
	il_jset(x.results, "rows", rows);
	il_jset(x.results, "details", details);
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_task_summary = {
	.group = "task",
	.name = "summary",
	.summary = "process vs thread in one table: creation, context switch, memory, isolation, pipe RTT",
	.run = summary_run,
};
