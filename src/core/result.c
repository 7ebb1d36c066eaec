/* result.c - the JSON envelope (jansson), sysinfo, summaries. */
#include "result.h"
#include "clock.h"
#include "log.h"
#include "outfile.h"
#include "tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void il_jset(json_t *obj, const char *key, json_t *val)
{
	if (obj && val)
		(void)json_object_set_new(obj, key, val);
	else
		json_decref(val);
}

json_t *il_json_string_lossy(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	/* Not valid UTF-8: keep ASCII, replace every other byte with U+FFFD. */
	size_t n = strlen(s);
	char *buf = malloc(n * 3 + 1), *p = buf;
	if (!buf)
		return json_string("?");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x80) {
			*p++ = (char)*c;
		} else {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
		}
	}
	*p = 0;
	j = json_string(buf);
	free(buf);
	return j;
}

void il_ctx_init(struct il_ctx *x, const char *experiment)
{
	memset(x, 0, sizeof(*x));
	x->experiment = experiment;
	x->start_rt_ns = il_realtime_ns();
	x->params = json_object();
	x->results = json_object();
	x->warnings = json_array();
	il_common_defaults(&x->c);
}

void il_ctx_begin(struct il_ctx *x, const char *experiment, int argc, char **argv)
{
	il_ctx_init(x, experiment);
	x->argc = argc;
	x->argv = argv;
	il_log_set_prefix(experiment);
}

/* Frees the JSON objects without writing anything. */
static void ctx_free(struct il_ctx *x)
{
	json_decref(x->params);
	json_decref(x->results);
	json_decref(x->warnings);
	json_decref(x->sysinfo);
	x->params = x->results = x->warnings = x->sysinfo = NULL;
	for (size_t i = 0; i < x->nhists; i++)
		free(x->hists[i].h);
	free(x->hists);
	x->hists = NULL;
	x->nhists = 0;
}

void il_ctx_hist(struct il_ctx *x, const char *name, const struct il_hist *h)
{
	if (!x->c.hist || x->hist_nomem)
		return;
	struct il_named_hist *a = realloc(x->hists, (x->nhists + 1) * sizeof(*a));
	struct il_hist *copy = malloc(sizeof(*copy));
	if (a)
		x->hists = a;
	if (!a || !copy) {
		free(copy);
		il_err("out of memory for the --hist histogram '%s'", name);
		x->hist_nomem = true;
		return;
	}
	*copy = *h;
	x->hists[x->nhists++] = (struct il_named_hist){ name, copy };
}

json_t *il_ctx_sysinfo(struct il_ctx *x)
{
	if (!x->sysinfo)
		x->sysinfo = il_sysinfo_json();
	return x->sysinfo;
}

int il_ctx_parse(struct il_ctx *x, const char *summary, unsigned mask, const struct il_opt *extra)
{
	x->extra = extra;
	int rc = il_parse(x->experiment, summary, mask, extra, x->argc, x->argv, &x->c, x->cfg);
	if (rc == 0 && x->c.json_file)
		rc = il_out_check("--json", x->c.json_file);
	if (rc == 0 && x->c.hist_file)
		rc = il_out_check("--hist", x->c.hist_file);
	if (rc == 0) {
		il_ctx_common_params(x, mask);
		return IL_RUN;
	}
	ctx_free(x);
	return rc < 0 ? IL_OK : rc;
}

bool il_ctx_given(const struct il_ctx *x, const char *name)
{
	return il_opt_given(&x->c, x->extra, name);
}

void il_ctx_warn(struct il_ctx *x, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)json_array_append_new(x->warnings, json_string(buf));
	if (!il_log_quiet())
		il_warn("%s", buf);
}

void il_ctx_common_params(struct il_ctx *x, unsigned mask)
{
	const struct il_common *c = &x->c;
	if (mask & IL_C_ITER)
		il_jset(x->params, "iterations", json_integer((json_int_t)c->iterations));
	if (mask & IL_C_WARMUP)
		il_jset(x->params, "warmup", json_integer((json_int_t)c->warmup));
	if (mask & IL_C_REPEAT)
		il_jset(x->params, "repeat", json_integer((json_int_t)c->repeat));
	if (mask & IL_C_MODE)
		il_jset(x->params, "mode", json_string(c->mode == IL_MODE_THREAD ? "thread" : "process"));
	if (mask & IL_C_CPU) {
		if (c->cpu[0] < 0)
			il_jset(x->params, "cpu", json_null());
		else
			il_jset(x->params, "cpu", json_pack("[ii]", c->cpu[0], c->cpu[1]));
		il_jset(x->params, "placement", json_string(il_placement_key(c)));
	}
	il_jset(x->params, "timeout_s", json_integer((json_int_t)c->timeout_s));
}

void il_print_summary_header(void)
{
	printf("%-14s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "ns", "count", "min", "mean", "stddev",
	       "p50", "p90", "p99", "p99.9", "max");
}

void il_print_summary_row(const char *label, const struct il_hist *h)
{
	struct il_summary s;
	il_hist_summary(h, &s);
	printf("%-14s %9" PRIu64 " %9" PRIu64 " %9.0f %9.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
	       label, s.count, s.min, s.mean, s.stddev, s.p50, s.p90, s.p99, s.p999, s.max);
}

void il_print_summary_json(const char *label, const json_t *summary)
{
	static const char *const keys[] = { "count", "min", "mean", "stddev", "p50", "p90", "p99", "p999", "max" };
	printf("%-14s", label);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf(" %9.0f", json_number_value(json_object_get(summary, keys[i])));
	putchar('\n');
}

double il_jnum(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

json_int_t il_jint(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

const char *il_jstr(const json_t *obj, const char *key, const char *none)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : none;
}

bool il_jtrue(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

int il_repeats_init(struct il_repeats *r, uint64_t repeats)
{
	r->n = 0;
	r->cap = repeats ? (size_t)repeats : 1;
	r->p50 = calloc(r->cap, sizeof(double));
	r->mean = calloc(r->cap, sizeof(double));
	if (r->p50 && r->mean)
		return 0;
	il_repeats_free(r);
	return -1;
}

void il_repeats_add(struct il_repeats *r, const struct il_hist *h)
{
	if (r->n == r->cap)
		return;
	r->p50[r->n] = (double)il_hist_percentile(h, 50);
	r->mean[r->n] = il_hist_mean(h);
	r->n++;
}

void il_repeats_results(struct il_ctx *x, const struct il_repeats *r, double *rsd_p50, double *rsd_mean)
{
	double p = il_rel_stddev(r->p50, r->n), m = il_rel_stddev(r->mean, r->n);
	il_jset(x->results, "repeat_rel_stddev_p50", json_real(p));
	il_jset(x->results, "repeat_rel_stddev_mean", json_real(m));
	if (rsd_p50)
		*rsd_p50 = p;
	if (rsd_mean)
		*rsd_mean = m;
}

void il_repeats_free(struct il_repeats *r)
{
	free(r->p50);
	free(r->mean);
	r->p50 = r->mean = NULL;
	r->n = r->cap = 0;
}

void il_ctx_pingpong_results(struct il_ctx *x, const struct il_hist *rtt, const struct il_hist *ab,
			     const struct il_hist *ba, uint64_t clock_cost, const struct il_repeats *reps,
			     double *rsd_p50, double *rsd_mean)
{
	il_repeats_results(x, reps, rsd_p50, rsd_mean);
	il_jset(x->results, "rtt", il_json_summary(rtt));
	il_jset(x->results, "oneway_ab", il_json_summary(ab));
	il_jset(x->results, "oneway_ba", il_json_summary(ba));
	il_jset(x->results, "clock_read_ns", json_integer((json_int_t)clock_cost));
	if (rtt->overflow)
		il_ctx_warn(x, "%" PRIu64 " round trips above %" PRIu64 " ns were counted as overflow", rtt->overflow,
			    rtt->max_ns);
}

int il_write_hists(const char *file, size_t n, const struct il_hist *const h[], const char *const names[])
{
	struct il_out o = { .f = stdout };
	if (file && il_out_open(&o, file) != IL_OK)
		return IL_NORES;
	for (size_t i = 0; i < n; i++) {
		if (i)
			(void)fputs("\n\n", o.f);
		(void)il_hist_write_tsv(h[i], names[i], o.f);
	}
	if (file)
		return il_out_commit(&o);
	if (fflush(stdout) != 0) {
		il_errno("cannot write the histograms to standard output");
		return IL_NORES;
	}
	return IL_OK;
}

json_t *il_json_summary(const struct il_hist *h)
{
	struct il_summary s;
	il_hist_summary(h, &s);
	return json_pack("{sI sI sf sf sI sI sI sI sI sI}", "count", (json_int_t)s.count,
			 "min", (json_int_t)s.min, "mean", s.mean, "stddev", s.stddev,
			 "p50", (json_int_t)s.p50, "p90", (json_int_t)s.p90, "p99", (json_int_t)s.p99,
			 "p999", (json_int_t)s.p999, "max", (json_int_t)s.max,
			 "overflow", (json_int_t)s.overflow);
}

/* The envelope: schema, experiment, command line as typed ("ipclab", group, experiment,
 * options), times, sysinfo, params, results, warnings, exit code. NULL on failure. */
static json_t *envelope(struct il_ctx *x, int exit_code)
{
	char start[40], end[40];
	il_format_utc(x->start_rt_ns, start, sizeof(start));
	il_format_utc(il_realtime_ns(), end, sizeof(end));
	json_t *cmd = json_array();
	(void)json_array_append_new(cmd, json_string("ipclab"));
	char words[128];
	(void)snprintf(words, sizeof(words), "%s", x->experiment);
	char *save = NULL;
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		(void)json_array_append_new(cmd, il_json_string_lossy(w));
	for (int i = 1; i < x->argc; i++)
		(void)json_array_append_new(cmd, il_json_string_lossy(x->argv[i]));
	return json_pack("{ss ss so ss ss sO sO sO sO si}", "schema", IL_SCHEMA, "experiment", x->experiment,
			 "cmdline", cmd, "start_time", start, "end_time", end, "sysinfo", il_ctx_sysinfo(x),
			 "params", x->params, "results", x->results, "warnings", x->warnings, "exit_code", exit_code);
}

/* Writes env to --json's FILE (atomically) or stdout. IL_OK or IL_NORES (one line). */
static int write_json(const struct il_ctx *x, const json_t *env)
{
	const size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS;
	if (!x->c.json_file) {
		int rc = json_dumpf(env, stdout, flags);
		(void)fputc('\n', stdout);
		if (fflush(stdout) != 0 || rc < 0) {
			il_errno("cannot write the JSON result to standard output");
			return IL_NORES;
		}
		return IL_OK;
	}
	struct il_out o;
	int rc = il_out_open(&o, x->c.json_file);
	if (rc != IL_OK)
		return rc;
	(void)json_dumpf(env, o.f, flags); /* a write error shows in il_out_commit */
	return il_out_commit(&o);
}

int il_ctx_finish(struct il_ctx *x, int exit_code)
{
	if (x->c.json) {
		json_t *env = envelope(x, exit_code);
		int rc = IL_NORES;
		if (env)
			rc = write_json(x, env);
		else
			il_err("cannot build the JSON result (invalid UTF-8 in the command line?)");
		json_decref(env);
		if (rc != IL_OK && exit_code == IL_OK)
			exit_code = rc;
	}
	ctx_free(x);
	return exit_code;
}
