/* runs.c - the measured runs (ipclab_run run_begin/run_end): listed in the result, and
 * the boundaries other analyses need (a race segment is one run; a run's warm-up applies
 * to the channels of its transport; a run's end finishes its group signals). */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 100000

struct run {
	int64_t vpid, begin, end, mode, status;
	uint32_t experiment, variant;
	uint64_t repeat, iterations, warmup;
	int ended;
};

struct runs {
	struct run *r;
	size_t n, cap;
	uint64_t dropped;
};

int ana_runs_init(struct ana *a)
{
	return (a->runs = calloc(1, sizeof(*a->runs))) ? 0 : -1;
}

void ana_runs_fini(struct ana *a)
{
	if (a->runs)
		free(a->runs->r);
	free(a->runs);
}

int ana_run_warmup(const struct ana *a, uint32_t variant, uint64_t repeat, uint64_t *warmup)
{
	const struct runs *rs = a->runs;
	for (size_t i = rs->n; i-- > 0;) {
		if (rs->r[i].variant == variant && rs->r[i].repeat == repeat) {
			*warmup = rs->r[i].warmup;
			return 1;
		}
	}
	return 0;
}

void ana_run_begin(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		   int64_t mode, uint64_t repeat, uint64_t iterations, uint64_t warmup)
{
	struct runs *rs = a->runs;
	ana_race_close(a); /* a race segment is one measured run */
	uint32_t var = ana_intern(a, variant);
	ana_msg_warmup(a, var, repeat, warmup);
	if (rs->n >= MAX_RUNS || ana_grow((void **)&rs->r, &rs->cap, rs->n, sizeof(*rs->r)) < 0) {
		rs->dropped++;
		return;
	}
	rs->r[rs->n++] = (struct run){ .vpid = vpid, .begin = ts, .mode = mode, .experiment = ana_intern(a, experiment),
				      .variant = var, .repeat = repeat, .iterations = iterations, .warmup = warmup };
}

void ana_run_end(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		 uint64_t repeat, int64_t status)
{
	struct runs *rs = a->runs;
	ana_race_close(a);
	ana_sig_sweep_groups(a);
	uint32_t exp = ana_intern(a, experiment), var = ana_intern(a, variant);
	for (size_t i = rs->n; i-- > 0;) {
		struct run *r = &rs->r[i];
		if (!r->ended && r->vpid == vpid && r->experiment == exp && r->variant == var && r->repeat == repeat) {
			r->ended = 1;
			r->end = ts;
			r->status = status;
			return;
		}
	}
	ana_warn(a, "run_end of \"%s\" %s repeat %" PRIu64 " (vpid %" PRId64 ") without its run_begin",
		 experiment ? experiment : "?", variant ? variant : "?", repeat, vpid);
}

json_t *ana_runs_json(struct ana *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->runs->n; i++) {
		const struct run *r = &a->runs->r[i];
		(void)json_array_append_new(
			arr, json_pack("{ss ss sI sI sI sI sI so so so}", "experiment", ana_str(a, r->experiment),
				       "variant", ana_str(a, r->variant), "vpid", (json_int_t)r->vpid, "mode",
				       (json_int_t)r->mode, "repeat", (json_int_t)r->repeat, "iterations",
				       (json_int_t)r->iterations, "warmup", (json_int_t)r->warmup, "begin_ns",
				       json_integer(r->begin), "end_ns",
				       r->ended ? json_integer(r->end) : json_null(), "status",
				       r->ended ? json_integer(r->status) : json_null()));
	}
	return arr;
}

uint64_t ana_runs_dropped(const struct ana *a)
{
	return a->runs->dropped;
}
