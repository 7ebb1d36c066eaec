/* result.h - one result, two renderings: every experiment fills params/results (jansson
 * objects) once; the envelope, the JSON file and the exit code are handled here. */
#ifndef IPCLAB_RESULT_H
#define IPCLAB_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "opts.h"

#define IL_SCHEMA "ipclab-result/1"

/* A histogram registered for --hist (il_ctx_hist): a copy owned by the context. */
struct il_named_hist {
	const char *name; /* static storage */
	struct il_hist *h;
};

struct il_ctx {
	const char *experiment;  /* "ipc latency" */
	int argc;
	char **argv;
	struct il_common c;
	const struct il_opt *extra; /* the experiment's option table (il_ctx_parse) */
	void *cfg;                  /* the experiment's config struct (descriptor experiments) */
	uint64_t start_rt_ns;
	json_t *params;   /* owned */
	json_t *results;  /* owned */
	json_t *warnings; /* array of strings, owned */
	json_t *sysinfo;  /* owned; NULL until il_ctx_sysinfo() or the envelope needs it */
	struct il_named_hist *hists; /* owned, nhists of them */
	size_t nhists;
	bool hist_nomem;  /* a histogram could not be kept: --hist fails with IL_NORES */
};

/* An empty context (no argv, log state untouched): il_experiment_call's. */
void il_ctx_init(struct il_ctx *x, const char *experiment);
/* Starts a run: records start time, creates empty params/results, sets the log prefix
 * and the common option defaults (an experiment may change x->c before il_ctx_parse). */
void il_ctx_begin(struct il_ctx *x, const char *experiment, int argc, char **argv);

#define IL_RUN (-1)
/* Parses the command line and checks the --json/--hist FILEs can be written
 * (il_out_check). Returns IL_RUN to go on (common params recorded), or the exit code to
 * return now (IL_OK after --help, IL_USAGE or IL_NORES after one message); then x is
 * freed. */
int il_ctx_parse(struct il_ctx *x, const char *summary, unsigned mask, const struct il_opt *extra);
/* True if the experiment's own option `name` was given (il_opt_given). */
bool il_ctx_given(const struct il_ctx *x, const char *name);
/* Adds a warning (also printed unless quiet). */
void il_ctx_warn(struct il_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps a copy of h for --hist, written after the human table under name (a string
 * literal: "rtt"), in the order registered; nothing when --hist was not given. */
void il_ctx_hist(struct il_ctx *x, const char *name, const struct il_hist *h);
/* The environment recorded in the envelope (il_sysinfo_json), read once per run. */
json_t *il_ctx_sysinfo(struct il_ctx *x);
/* Adds the common params (iterations, warmup, repeat, mode, cpu, timeout) selected by mask. */
void il_ctx_common_params(struct il_ctx *x, unsigned mask);
/* Writes the envelope if --json was given (a FILE atomically: outfile.h), frees
 * everything, returns the exit code (IL_NORES, after one line naming the file, if an
 * otherwise successful run's JSON could not be written). */
int il_ctx_finish(struct il_ctx *x, int exit_code);

/* The human latency table every experiment prints: a header line and one row per
 * summary (ns), same columns as the JSON summary. */
void il_print_summary_header(void);
void il_print_summary_row(const char *label, const struct il_hist *h);
/* The same row from a summary object il_json_summary() made (for print(), which renders
 * x->results only); a missing field prints as 0. */
void il_print_summary_json(const char *label, const json_t *summary);
/* Readers of a results object, for print() (which renders x->results only): obj[key]
 * of one type, or a default when obj is not an object, the key is missing or its value
 * has another type. obj may be NULL, so nested reads chain:
 * il_jint(json_object_get(r, "rtt"), "p50"). */
/* A number (integer or real); 0 otherwise. */
double il_jnum(const json_t *obj, const char *key);
/* An integer; 0 otherwise (a real is not read as an integer). */
json_int_t il_jint(const json_t *obj, const char *key);
/* A string (owned by obj); none otherwise. */
const char *il_jstr(const json_t *obj, const char *key, const char *none);
/* True only for JSON true. */
bool il_jtrue(const json_t *obj, const char *key);

/* One latency across --repeat runs: each repeat's p50 and mean (of its own histogram)
 * and their spread, reported as results.repeat_rel_stddev_p50 / _mean by every
 * repeated latency experiment (the report flags a row above 5 %). */
struct il_repeats {
	double *p50, *mean;
	size_t n, cap;
};
/* Room for `repeats` repeats; -1 when out of memory. */
int il_repeats_init(struct il_repeats *r, uint64_t repeats);
/* Records one finished repeat's histogram. */
void il_repeats_add(struct il_repeats *r, const struct il_hist *h);
/* Sets results.repeat_rel_stddev_p50 and _mean over the repeats recorded, and returns
 * them (for the human table; either pointer may be NULL). */
void il_repeats_results(struct il_ctx *x, const struct il_repeats *r, double *rsd_p50, double *rsd_mean);
void il_repeats_free(struct il_repeats *r);

/* What every ping-pong experiment reports (ipc latency, signal latency): the rtt,
 * oneway_ab and oneway_ba summaries, the clock read cost, the repeat spread
 * (il_repeats_results); a warning when round trips
 * overflowed the histogram. */
void il_ctx_pingpong_results(struct il_ctx *x, const struct il_hist *rtt, const struct il_hist *ab,
			     const struct il_hist *ba, uint64_t clock_cost, const struct il_repeats *reps,
			     double *rsd_p50, double *rsd_mean);

/* --hist[=FILE]: writes n histograms as gnuplot blocks (il_hist_write_tsv, separated by
 * two blank lines: "plot FILE index i") to file (atomically: outfile.h), or stdout when
 * file is NULL. IL_OK, or IL_NORES after one line. */
int il_write_hists(const char *file, size_t n, const struct il_hist *const h[], const char *const names[]);

/* {count min mean stddev p50 p90 p99 p999 max overflow} in ns. */
json_t *il_json_summary(const struct il_hist *h);
/* The environment: kernel, cpu model, nproc, clocksource, libc, tracing state. */
json_t *il_sysinfo_json(void);
/* A JSON string of s; bytes that are not valid UTF-8 become U+FFFD (never NULL). */
json_t *il_json_string_lossy(const char *s);
/* json_object_set_new that reports allocation failure only once: we never crash on it. */
void il_jset(json_t *obj, const char *key, json_t *val);

#endif
