/* run.c - the one life cycle of every experiment (experiment.h): parse, params, guard,
 * measure, print-or-JSON, exactly once; and the same measure called as a function. */
#include "experiment.h"
#include "cleanup.h"
#include "log.h"
#include "tp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool il_experiment_listed(const struct il_experiment *e)
{
	return !(e->flags & IL_EXP_HIDDEN);
}

/* The config struct with the descriptor's defaults; NULL (after one message) when out
 * of memory. Never NULL for cfg_size 0. */
static void *cfg_new(const struct il_experiment *e, const void *from)
{
	void *cfg = calloc(1, e->cfg_size ? e->cfg_size : 1);
	if (!cfg) {
		il_err("out of memory");
		return NULL;
	}
	if (!from)
		from = e->cfg_defaults;
	if (from && e->cfg_size)
		memcpy(cfg, from, e->cfg_size);
	return cfg;
}

/* The common option defaults: core's, then the descriptor's non-zero ones. */
static void apply_defaults(struct il_common *c, const struct il_defaults *d)
{
	if (d->iterations)
		c->iterations = d->iterations;
	if (d->warmup)
		c->warmup = d->warmup;
	if (d->repeat)
		c->repeat = d->repeat;
	if (d->timeout_s)
		c->timeout_s = d->timeout_s;
}

/* Records every option with a .param key in x->params, from cfg. */
static void record_params(struct il_ctx *x, const struct il_opt *opts, const void *cfg)
{
	for (const struct il_opt *o = opts; o && o->name; o++) {
		if (!o->param)
			continue;
		const void *v = o->dst ? o->dst : (const char *)cfg + o->off;
		json_t *j = NULL;
		switch (o->type) {
		case IL_OPT_U64:
		case IL_OPT_SIZE: j = json_integer((json_int_t) * (const uint64_t *)v); break;
		case IL_OPT_CHOICE: j = json_string(o->choices[*(const int *)v]); break;
		case IL_OPT_STR: {
			const char *s = *(const char *const *)v;
			j = s ? il_json_string_lossy(s) : json_null();
			break;
		}
		case IL_OPT_FLAG: j = json_boolean(*(const bool *)v); break;
		}
		il_jset(x->params, o->param, j);
	}
}

/* params then measure: what both the command and a composing caller run. */
static int params_measure(const struct il_experiment *e, struct il_ctx *x, void *cfg, bool guard)
{
	record_params(x, e->opts, cfg);
	int rc = e->params ? e->params(x, cfg) : IL_OK;
	if (rc != IL_OK)
		return rc;
	if (guard)
		il_guard_install((unsigned)x->c.timeout_s);
	rc = e->measure(x, cfg);
	if (guard)
		il_guard_disarm();
	if (e->flags & IL_EXP_TRACED)
		il_jset(x->results, "traced", json_boolean(il_trace_loaded()));
	return rc;
}

/* The human table (unless the JSON took stdout), then the --hist output. */
static int report(const struct il_experiment *e, struct il_ctx *x, const void *cfg, int rc)
{
	bool ran = rc == IL_OK || (rc == IL_FAIL && (e->flags & IL_EXP_PRINT_ON_FAIL));
	if (ran && e->print && (!x->c.json || x->c.json_file))
		e->print(x, cfg);
	if (rc != IL_OK || !x->c.hist)
		return rc;
	if (x->hist_nomem)
		return IL_NORES;
	const struct il_hist *h[16];
	const char *names[16];
	size_t n = x->nhists < 16 ? x->nhists : 16;
	for (size_t i = 0; i < n; i++) {
		h[i] = x->hists[i].h;
		names[i] = x->hists[i].name;
	}
	return il_write_hists(x->c.hist_file, n, h, names);
}

int il_experiment_main(const struct il_experiment *e, int argc, char **argv)
{
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	apply_defaults(&x.c, &e->defaults);
	void *cfg = x.cfg = cfg_new(e, NULL);
	if (!cfg)
		return il_ctx_finish(&x, IL_NORES);
	int rc = il_ctx_parse(&x, e->help, e->common, e->opts);
	if (rc != IL_RUN) {
		free(cfg);
		return rc;
	}
	rc = params_measure(e, &x, cfg, e->flags & IL_EXP_GUARD);
	if (rc == IL_USAGE)
		x.c.json = false; /* as for a bad option: one line, no result */
	rc = report(e, &x, cfg, rc);
	rc = il_ctx_finish(&x, rc);
	free(cfg);
	return rc;
}

/* Appends the callee's warnings to the caller's, prefixed with the callee's name. */
static void forward_warnings(struct il_ctx *to, const struct il_ctx *from)
{
	size_t i;
	json_t *w;
	json_array_foreach(from->warnings, i, w) {
		char buf[600];
		(void)snprintf(buf, sizeof(buf), "%s: %s", from->experiment, json_string_value(w));
		(void)json_array_append_new(to->warnings, il_json_string_lossy(buf));
	}
}

int il_experiment_call(struct il_ctx *x, const struct il_experiment *e, const struct il_common *c,
		       const void *cfg, json_t **results)
{
	*results = NULL;
	char name[64];
	(void)snprintf(name, sizeof(name), "%s %s", e->group, e->name);
	struct il_ctx y;
	il_ctx_init(&y, name);
	if (c) {
		y.c = *c;
	} else {
		apply_defaults(&y.c, &e->defaults);
		y.c.quiet = il_log_quiet();
	}
	y.c.json = y.c.hist = false;
	y.c.json_file = y.c.hist_file = NULL;
	y.c.given_extra = 0;
	y.extra = e->opts;
	void *own = y.cfg = cfg_new(e, cfg);
	int rc = own ? params_measure(e, &y, own, false) : IL_NORES;
	forward_warnings(x, &y);
	*results = json_incref(y.results);
	free(own);
	(void)il_ctx_finish(&y, rc);
	return rc;
}
