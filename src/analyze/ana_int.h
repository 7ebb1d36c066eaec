/* ana_int.h - inside the analyses (no babeltrace2): the small core every analysis uses
 * (core.c: life cycle, string interning, the key -> array index, warnings, time range,
 * histograms; runs.c: the runs; timed.c: the experiment's and the tracer's views of a
 * timed interval) and the descriptor each analysis file ends with (msg.c, sig.c, lock.c,
 * race.c, task.c, bus.c), which the output writer (write.c) walks as a table.
 * Ownership: struct ana owns the core state and one state struct per analysis (created
 * by its init, freed by its fini); an analysis touches only its own state and the core. */
#ifndef IPCLAB_ANA_INT_H
#define IPCLAB_ANA_INT_H

#include "ana.h"
#include "pairtab.h"
#include "core/hist.h"

#include <stdio.h>

/* values above are counted as overflow, as in "ipclab ipc latency" (HIST_MAX_NS there) */
#define LAT_HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

/* The analyses, in the order of the result's members. */
enum ana_id { ANA_MSG, ANA_SIG, ANA_LOCK, ANA_RACE, ANA_TASK, ANA_BUS, ANA_N };

/* A TSV file written while the trace is read (one row per interval or task). */
struct ana_stream {
	FILE *f;
	int hdr; /* header written */
};

struct strtab {
	char **s;
	uint32_t n, cap, last;
};

struct ana {
	char *tsv_dir;
	struct ana_stream stream[ANA_N];

	int64_t t_first, t_last; /* the time range */
	int have_time;

	uint64_t discarded_events, discarded_packets;
	int discards_unknown;

	struct strtab str;
	struct pairtab index;       /* (namespace, key) -> array index (channels, locks, threads) */
	struct runs *runs;          /* runs.c */
	struct msgs *msgs;          /* msg.c */
	struct sigs *sigs;          /* sig.c */
	struct locks *locks;        /* lock.c */
	struct races *races;        /* race.c */
	struct tasks *tasks;        /* task.c */
	struct buses *bus;          /* bus.c */

	uint64_t negative_offsets;  /* timed.c: tracer's view shorter than the experiment's */
	struct il_hist *empty;      /* rendered for a view nothing filled */
	int oom;
	json_t *warnings;
	json_t *incomplete;         /* [{stream, reason}] */
};

/* What the writer knows of an analysis: its JSON member, its summary TSV files (opened by
 * the writer at the end, NULL: none), the TSV it streams while the trace is read (its
 * name, what it holds and its column line), and its functions. */
struct ana_module {
	enum ana_id id;
	const char *key;
	const char *tsv[2];
	const char *stream, *stream_what, *stream_cols;
	int (*init)(struct ana *a);                       /* -1: out of memory */
	void (*fini)(struct ana *a);
	json_t *(*render)(struct ana *a, FILE *const tsv[2]); /* its member of the result */
	void (*notes)(struct ana *a);                     /* end-of-trace warnings, or NULL */
	void (*summary)(struct ana *a, FILE *f, int final); /* its part of a summary line, or NULL */
};

extern const struct ana_module ana_msg_module, ana_sig_module, ana_lock_module, ana_race_module,
	ana_task_module, ana_bus_module;
/* The analyses in result order (index: enum ana_id). */
extern const struct ana_module *const ana_modules[ANA_N];

/* ---------------------------------------------------------------- core.c */

/* Interns s (id 0 is "?": NULL, or the table full/out of memory). */
uint32_t ana_intern(struct ana *a, const char *s);
const char *ana_str(const struct ana *a, uint32_t id);

/* Namespaces of the shared index. */
enum { NS_CHAN = 1, NS_LOCK = 2, NS_THREAD = 3 };
/* Index of (ns, k1, k2), or -1 if absent and create is 0. A fresh entry gets next (the
 * caller appends that element; *fresh = 1). */
int64_t ana_index(struct ana *a, uint32_t ns, uint64_t k1, uint32_t k2, int create, uint32_t next, int *fresh);

/* A histogram on the heap (~18 KiB: never on the stack, never per event); NULL (and the
 * result's out-of-memory warning) on failure. */
struct il_hist *ana_hist_new(struct ana *a, uint64_t max_ns);
static inline void ana_hist_add(struct il_hist *h, uint64_t v)
{
	if (h)
		il_hist_add(h, v);
}
/* Grows an array of elements of size sz to hold n+1 (doubling, zeroed); -1 on failure. */
int ana_grow(void **arr, size_t *cap, size_t n, size_t sz);

/* Creates TSV file name in the TSV directory; NULL with err set. */
FILE *ana_tsv_open(struct ana *a, const char *name, char *err, size_t errlen);
/* The stream TSV of analysis m, its header written at the first call; NULL without TSV. */
FILE *ana_stream(struct ana *a, const struct ana_module *m);

/* " NAME.p50=N NAME.p99=N" of h (nothing if h is empty): a summary line's percentiles. */
void ana_summary_pcts(FILE *f, const char *name, const struct il_hist *h);

/* The experiments' summary object {count, min, mean, ...} of h (null if h is NULL). */
json_t *ana_jsum(const struct il_hist *h);
/* The same as TSV cells, and their column names. */
void ana_tsv_summary(FILE *f, const struct il_hist *h);
void ana_tsv_summary_cols(FILE *f);

/* ---------------------------------------------------------------- runs.c */

int ana_runs_init(struct ana *a);
void ana_runs_fini(struct ana *a);
/* The warm-up of the latest run of variant (an interned transport) and repeat: 1 and
 * *warmup if there is one. */
int ana_run_warmup(const struct ana *a, uint32_t variant, uint64_t repeat, uint64_t *warmup);
json_t *ana_runs_json(struct ana *a);
uint64_t ana_runs_dropped(const struct ana *a);

/* Hooks the runs call (a run's begin and end close a race segment; a run's end finishes
 * its group signals; a run's warm-up applies to the channels of its transport). */
void ana_race_close(struct ana *a);
void ana_sig_sweep_groups(struct ana *a);
void ana_msg_warmup(struct ana *a, uint32_t variant, uint64_t repeat, uint64_t warmup);

/* ---------------------------------------------------------------- timed.c */

/* Intervals an experiment timed itself (stamps carried by the closing event): its own
 * values, exactly as it recorded them, and per interval the tracer's view minus the
 * experiment's (the cost of tracing it), where the tracer saw both ends. */
struct timed {
	struct il_hist *exp, *offset; /* allocated at the first stamped event */
};

/* Records one interval the experiment timed from t0 to t1 (its own stamps). */
void ana_timed_add(struct ana *a, struct timed *t, uint64_t t0, uint64_t t1);
/* The tracer saw the same interval as `tracer` ns. */
void ana_timed_offset(struct ana *a, struct timed *t, int64_t tracer, uint64_t t0, uint64_t t1);
void ana_timed_free(struct timed *t);
/* obj gets "experiment" and "tracing_offset"; returns obj. */
json_t *ana_timed_json(struct ana *a, json_t *obj, const struct timed *t);

#endif
