/* race.c - lost updates of "ipclab sync race": one segment per measured run; a worker's
 * race_read then race_write (value read + 1) is one increment;
 * lost_updates = increments - (final - initial), exact when no race event was lost, and
 * overlapping_windows counts the increments whose read -> write window contains another
 * worker's write (where the races happened). */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RACE_SEGMENTS 1000
#define MAX_RACE_WORKERS 65536

struct worker {
	uint64_t last_read, read_gen;
	int has_read;
	uint64_t reads, writes, overlapped;
};

struct race_seg {
	int64_t begin, end;
	uint64_t reads, writes, initial, final, overlapping, writes_without_read;
	int initial_from_write;
	uint32_t nworkers;
};

struct races {
	int active;
	struct race_seg seg;
	struct worker *workers;
	size_t nworkers;
	uint64_t write_gen;
	json_t *segments;
	uint64_t total_lost, total_writes, segments_total, workers_dropped;
};

static int race_init(struct ana *a)
{
	struct races *r = calloc(1, sizeof(*r));
	if (!r || !(r->segments = json_array())) {
		free(r);
		return -1;
	}
	a->races = r;
	return 0;
}

static void race_fini(struct ana *a)
{
	struct races *r = a->races;
	if (!r)
		return;
	free(r->workers);
	json_decref(r->segments);
	free(r);
}

static void race_open(struct races *r, int64_t ts)
{
	memset(&r->seg, 0, sizeof(r->seg));
	r->seg.begin = ts;
	r->active = 1;
	r->write_gen = 0;
	if (r->workers)
		memset(r->workers, 0, r->nworkers * sizeof(*r->workers));
}

/* The workers of the segment that ended (at most 256). */
static json_t *workers_json(const struct races *r)
{
	json_t *workers = json_array();
	for (size_t w = 0; w < r->nworkers && json_array_size(workers) < 256; w++) {
		const struct worker *k = &r->workers[w];
		if (!k->reads && !k->writes)
			continue;
		(void)json_array_append_new(workers, json_pack("{sI sI sI sI}", "worker", (json_int_t)w, "reads",
							       (json_int_t)k->reads, "writes", (json_int_t)k->writes,
							       "overlapped", (json_int_t)k->overlapped));
	}
	return workers ? workers : json_array();
}

/* Ends the current segment: lost updates = increments - (final - initial). */
void ana_race_close(struct ana *a)
{
	struct races *r = a->races;
	if (!r->active)
		return;
	r->active = 0;
	struct race_seg *s = &r->seg;
	int64_t advance = (int64_t)(s->final - s->initial);
	int64_t lost = (int64_t)s->writes - advance;
	r->total_lost += lost > 0 ? (uint64_t)lost : 0;
	r->total_writes += s->writes;
	r->segments_total++;
	if (json_array_size(r->segments) >= MAX_RACE_SEGMENTS)
		return;
	json_t *o = json_pack("{sI sI sI sI sI sI sI sI sb sI sI so}", "begin_ns", (json_int_t)s->begin, "end_ns",
			      (json_int_t)s->end, "reads", (json_int_t)s->reads, "increments", (json_int_t)s->writes,
			      "initial", (json_int_t)s->initial, "final", (json_int_t)s->final, "lost_updates",
			      (json_int_t)lost, "overlapping_windows", (json_int_t)s->overlapping, "initial_from_write",
			      s->initial_from_write, "writes_without_read", (json_int_t)s->writes_without_read,
			      "workers_seen", (json_int_t)s->nworkers, "workers", workers_json(r));
	if (o)
		(void)json_array_append_new(r->segments, o);
}

static struct worker *worker_get(struct ana *a, uint32_t w)
{
	struct races *r = a->races;
	if (w >= MAX_RACE_WORKERS) {
		r->workers_dropped++;
		return NULL;
	}
	if (w >= r->nworkers) {
		size_t n = r->nworkers ? r->nworkers : 8;
		while (n <= w)
			n *= 2;
		struct worker *p = realloc(r->workers, n * sizeof(*p));
		if (!p) {
			a->oom = 1;
			return NULL;
		}
		memset(p + r->nworkers, 0, (n - r->nworkers) * sizeof(*p));
		r->workers = p;
		r->nworkers = n;
	}
	return &r->workers[w];
}

/* A write of value by worker w (r's segment s). */
static void race_write(struct races *r, struct race_seg *s, struct worker *w, uint64_t value)
{
	if (!s->reads && !s->writes) { /* the segment starts with a write: its read was cut off */
		s->initial = value - 1;
		s->initial_from_write = 1;
	}
	s->writes++;
	w->writes++;
	if (w->has_read) {
		/* another write between this worker's read and its write: it overwrote that one */
		if (r->write_gen != w->read_gen) {
			s->overlapping++;
			w->overlapped++;
		}
		w->has_read = 0;
	} else {
		s->writes_without_read++;
	}
	r->write_gen++;
	s->final = value;
}

void ana_race(struct ana *a, int is_write, int64_t ts, uint32_t worker, uint64_t value)
{
	struct races *r = a->races;
	if (!r->active)
		race_open(r, ts);
	struct race_seg *s = &r->seg;
	s->end = ts;
	struct worker *w = worker_get(a, worker);
	if (!w)
		return;
	if (!w->reads && !w->writes)
		s->nworkers++;
	if (is_write) {
		race_write(r, s, w, value);
		return;
	}
	if (!s->reads && !s->writes)
		s->initial = value;
	s->reads++;
	w->reads++;
	w->last_read = value;
	w->read_gen = r->write_gen;
	w->has_read = 1;
}

/* ---------------------------------------------------------------- output */

static void tsv_segments(const struct races *r, FILE *tsv)
{
	static const char *const cols[] = { "begin_ns",	    "end_ns", "reads",	      "increments",
					    "initial",	    "final",  "lost_updates", "overlapping_windows" };
	(void)fprintf(tsv, "# shared-counter race segments (one per measured run)\n"
		      "# lost_updates = increments - (final - initial)\n# segment");
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		(void)fprintf(tsv, "\t%s", cols[c]);
	(void)fputc('\n', tsv);
	size_t i;
	json_t *s;
	json_array_foreach(r->segments, i, s)
	{
		(void)fprintf(tsv, "%zu", i);
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
			(void)fprintf(tsv, "\t%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(s, cols[c])));
		(void)fputc('\n', tsv);
	}
}

static json_t *race_render(struct ana *a, FILE *const tsv[2])
{
	struct races *r = a->races;
	ana_race_close(a);
	if (tsv[0])
		tsv_segments(r, tsv[0]);
	return json_pack("{sI sI sI sI sO}", "segments_total", (json_int_t)r->segments_total, "increments",
			 (json_int_t)r->total_writes, "lost_updates", (json_int_t)r->total_lost, "workers_dropped",
			 (json_int_t)r->workers_dropped, "segments", r->segments);
}

const struct ana_module ana_race_module = {
	.id = ANA_RACE,
	.key = "races",
	.tsv = { "races.tsv" },
	.init = race_init,
	.fini = race_fini,
	.render = race_render,
};
