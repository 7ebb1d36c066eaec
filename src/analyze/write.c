/* write.c - the one output writer: the result document member by member from a table
 * (the core's head, the runs, each analysis's member rendered by its descriptor, the
 * warnings), the summary TSV files each descriptor names, the streamed TSV files closed,
 * and the JSON written whole (temporary file, then rename). */
#include "ana_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What rendering needs: the analyses, the caller's event counts, the open TSV files. */
struct out {
	struct ana *a;
	json_t *events;            /* stolen into the result */
	FILE *tsv[ANA_N][2];       /* per analysis, as its descriptor names them */
};

static int complete(const struct ana *a)
{
	return a->discarded_events == 0 && a->discarded_packets == 0 && !a->discards_unknown &&
	       json_array_size(a->incomplete) == 0;
}

static json_t *v_schema(struct out *o)
{
	(void)o;
	return json_string(ANA_SCHEMA);
}

static json_t *v_complete(struct out *o)
{
	return json_boolean(complete(o->a));
}

static json_t *v_discarded_events(struct out *o)
{
	return json_integer((json_int_t)o->a->discarded_events);
}

static json_t *v_discarded_packets(struct out *o)
{
	return json_integer((json_int_t)o->a->discarded_packets);
}

static json_t *v_discards_unknown(struct out *o)
{
	return json_boolean(o->a->discards_unknown);
}

static json_t *v_incomplete(struct out *o)
{
	return json_incref(o->a->incomplete);
}

static json_t *v_time_range(struct out *o)
{
	const struct ana *a = o->a;
	if (!a->have_time)
		return json_null();
	return json_pack("{sI sI sI}", "begin_ns", (json_int_t)a->t_first, "end_ns", (json_int_t)a->t_last,
			 "duration_ns", (json_int_t)(a->t_last - a->t_first));
}

static json_t *v_events(struct out *o)
{
	json_t *e = o->events;
	o->events = NULL;
	return e;
}

static json_t *v_runs(struct out *o)
{
	return ana_runs_json(o->a);
}

static json_t *v_runs_dropped(struct out *o)
{
	return json_integer((json_int_t)ana_runs_dropped(o->a));
}

/* Last: the end-of-trace notes of the core and of each analysis, then every warning. */
static json_t *v_warnings(struct out *o)
{
	struct ana *a = o->a;
	if (a->oom)
		ana_warn(a, "out of memory during the analysis: some results are missing");
	for (int i = 0; i < ANA_N; i++)
		if (ana_modules[i]->notes)
			ana_modules[i]->notes(a);
	if (a->negative_offsets)
		ana_warn(a, "%" PRIu64 " timed intervals are shorter in the trace than the experiment's own stamps "
			 "say: is the trace clock not CLOCK_MONOTONIC?", a->negative_offsets);
	return json_incref(a->warnings);
}

/* The result's members in order; an analysis's member is its descriptor's render. */
static const struct member {
	const char *key;
	json_t *(*value)(struct out *o);
	const struct ana_module *m;
} members[] = {
	{ "schema", v_schema, NULL },
	{ "complete", v_complete, NULL },
	{ "discarded_events", v_discarded_events, NULL },
	{ "discarded_packets", v_discarded_packets, NULL },
	{ "discard_counts_unknown", v_discards_unknown, NULL },
	{ "incomplete_streams", v_incomplete, NULL },
	{ "time_range", v_time_range, NULL },
	{ "events", v_events, NULL },
	{ "runs", v_runs, NULL },
	{ "runs_dropped", v_runs_dropped, NULL },
	{ NULL, NULL, &ana_msg_module },
	{ NULL, NULL, &ana_sig_module },
	{ NULL, NULL, &ana_lock_module },
	{ NULL, NULL, &ana_race_module },
	{ NULL, NULL, &ana_task_module },
	{ NULL, NULL, &ana_bus_module },
	{ "warnings", v_warnings, NULL },
};

/* Renders every member into a new object; NULL when out of memory. */
static json_t *render(struct out *o)
{
	json_t *root = json_object();
	for (size_t i = 0; root && i < sizeof(members) / sizeof(members[0]); i++) {
		const struct member *m = &members[i];
		json_t *v = m->m ? m->m->render(o->a, o->tsv[m->m->id]) : m->value(o);
		if (json_object_set_new(root, m->m ? m->m->key : m->key, v) < 0) {
			json_decref(root);
			root = NULL;
		}
	}
	json_decref(o->events); /* not consumed if rendering stopped early */
	return root;
}

json_t *ana_result(struct ana *a, json_t *events)
{
	struct out o = { .a = a, .events = events };
	return render(&o);
}

/* ---------------------------------------------------------------- files */

/* Opens the summary TSV files of every analysis; -1 (err set) at the first failure. */
static int open_summaries(struct out *o, char *err, size_t errlen)
{
	for (int i = 0; i < ANA_N; i++)
		for (int j = 0; j < 2 && ana_modules[i]->tsv[j]; j++)
			if (!(o->tsv[i][j] = ana_tsv_open(o->a, ana_modules[i]->tsv[j], err, errlen)))
				return -1;
	return 0;
}

/* Closes f, noting the first failure in err. */
static void close_tsv(FILE *f, const char *name, int *failed, char *err, size_t errlen)
{
	if (f && (ferror(f) | fclose(f))) {
		if (!*failed)
			(void)snprintf(err, errlen, "writing %s failed", name);
		*failed = 1;
	}
}

/* Closes the summary files, then the streamed ones (their header even without a row). */
static void close_all(struct out *o, int *failed, char *err, size_t errlen)
{
	for (int i = 0; i < ANA_N; i++)
		for (int j = 0; j < 2; j++)
			close_tsv(o->tsv[i][j], ana_modules[i]->tsv[j], failed, err, errlen);
	for (int i = 0; i < ANA_N; i++) {
		FILE *f = ana_modules[i]->stream ? ana_stream(o->a, ana_modules[i]) : NULL;
		o->a->stream[i].f = NULL;
		close_tsv(f, ana_modules[i]->stream, failed, err, errlen);
	}
}

/* Writes the document to path (NULL or "-": standard output); -1 with err set. */
static int write_json(json_t *root, const char *path, char *err, size_t errlen)
{
	if (!path || strcmp(path, "-") == 0) {
		if (json_dumpf(root, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF || fflush(stdout)) {
			(void)snprintf(err, errlen, "writing the JSON result to stdout failed");
			return -1;
		}
		return 0;
	}
	char tmp[4096];
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	if (json_dump_file(root, tmp, JSON_INDENT(2)) < 0 || rename(tmp, path) < 0) {
		(void)snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int ana_finish(struct ana *a, json_t *events, const char *json_path, char *err, size_t errlen)
{
	struct out o = { .a = a, .events = events };
	int failed = a->tsv_dir && open_summaries(&o, err, errlen) < 0;
	if (failed)
		for (int i = 0; i < ANA_N; i++)
			for (int j = 0; j < 2; j++)
				if (o.tsv[i][j])
					(void)fclose(o.tsv[i][j]), o.tsv[i][j] = NULL;
	json_t *root = render(&o);
	int rc = 0;
	if (!root) {
		(void)snprintf(err, errlen, "out of memory building the JSON result");
		rc = -1;
	} else {
		rc = write_json(root, json_path, err, errlen);
	}
	json_decref(root);
	close_all(&o, &failed, err, errlen);
	return failed ? -1 : rc;
}
