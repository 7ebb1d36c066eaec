/* bus.c - the bus roles' states: consecutive bus_state events of one (vpid, role) make
 * one interval of the earlier state; the last state of each role stays open. Intervals
 * are streamed to bus_intervals.tsv as the trace is read. */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUS_STATES 256

struct busstat {
	uint32_t role, state;
	uint64_t count, total;
	struct il_hist *dur;
};

struct buses {
	struct pairtab open; /* (vpid, role) -> its current state (aux) since t[0] */
	struct busstat *st;
	size_t n, cap;
	uint64_t transitions;
};

static int bus_init(struct ana *a)
{
	struct buses *b = calloc(1, sizeof(*b));
	if (!b || pt_init(&b->open, 16) < 0) {
		free(b);
		return -1;
	}
	a->bus = b;
	return 0;
}

static void bus_fini(struct ana *a)
{
	struct buses *b = a->bus;
	if (!b)
		return;
	pt_free(&b->open);
	for (size_t i = 0; i < b->n; i++)
		free(b->st[i].dur);
	free(b->st);
	free(b);
}

static struct busstat *bus_stat(struct ana *a, uint32_t role, uint32_t state)
{
	struct buses *bs = a->bus;
	for (size_t i = 0; i < bs->n; i++)
		if (bs->st[i].role == role && bs->st[i].state == state)
			return &bs->st[i];
	if (bs->n >= MAX_BUS_STATES)
		return NULL;
	if (ana_grow((void **)&bs->st, &bs->cap, bs->n, sizeof(*bs->st)) < 0) {
		a->oom = 1;
		return NULL;
	}
	struct busstat *b = &bs->st[bs->n++];
	memset(b, 0, sizeof(*b));
	b->role = role;
	b->state = state;
	b->dur = ana_hist_new(a, 0);
	return b;
}

/* Role r of vpid left the state of e at ts. */
static void interval(struct ana *a, const struct pt_entry *e, uint32_t r, int64_t vpid, int64_t ts)
{
	int64_t d = ts - (int64_t)e->t[0];
	struct busstat *b = bus_stat(a, r, e->aux);
	if (b && d >= 0) {
		b->count++;
		b->total += (uint64_t)d;
		ana_hist_add(b->dur, (uint64_t)d);
	}
	FILE *f = ana_stream(a, &ana_bus_module);
	if (f)
		(void)fprintf(f, "%s\t%" PRId64 "\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", ana_str(a, r), vpid,
			      ana_str(a, e->aux), (int64_t)e->t[0] - a->t_first, ts - a->t_first, d);
}

void ana_bus_state(struct ana *a, int64_t ts, int64_t vpid, const char *role, const char *state)
{
	uint32_t r = ana_intern(a, role), s = ana_intern(a, state);
	struct pt_key k = pt_key_bus(vpid, r);
	int fresh;
	struct pt_entry *e = pt_upsert(&a->bus->open, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	a->bus->transitions++;
	if (!fresh)
		interval(a, e, r, vpid, ts);
	e->t[0] = (uint64_t)ts;
	e->aux = s;
}

/* ---------------------------------------------------------------- output */

struct open_bus {
	struct ana *a;
	json_t *arr;
};

static void list_open(const struct pt_entry *e, void *arg)
{
	struct open_bus *o = arg;
	(void)json_array_append_new(o->arr, json_pack("{ss sI ss sI}", "role", ana_str(o->a, pt_key_role(&e->k)),
						      "vpid", (json_int_t)pt_key_vpid(&e->k), "state",
						      ana_str(o->a, e->aux), "since_ns", (json_int_t)e->t[0]));
}

static json_t *bus_render(struct ana *a, FILE *const tsv[2])
{
	struct buses *bs = a->bus;
	json_t *states = json_array(), *open = json_array();
	if (tsv[0]) {
		(void)fprintf(tsv[0], "# bus driver/conductor: time spent per state, ns\n# role\tstate\t");
		ana_tsv_summary_cols(tsv[0]);
		(void)fprintf(tsv[0], "\ttotal\n");
	}
	for (size_t i = 0; i < bs->n; i++) {
		struct busstat *b = &bs->st[i];
		(void)json_array_append_new(states, json_pack("{ss ss sI sI so}", "role", ana_str(a, b->role), "state",
							      ana_str(a, b->state), "count", (json_int_t)b->count,
							      "total_ns", (json_int_t)b->total, "duration",
							      ana_jsum(b->dur)));
		if (tsv[0]) {
			(void)fprintf(tsv[0], "%s\t%s\t", ana_str(a, b->role), ana_str(a, b->state));
			ana_tsv_summary(tsv[0], b->dur);
			(void)fprintf(tsv[0], "\t%" PRIu64 "\n", b->total);
		}
	}
	struct open_bus ob = { a, open };
	pt_foreach(&bs->open, list_open, &ob);
	return json_pack("{sI so so}", "transitions", (json_int_t)bs->transitions, "states", states, "final_states",
			 open);
}

const struct ana_module ana_bus_module = {
	.id = ANA_BUS,
	.key = "bus",
	.tsv = { "bus_states.tsv" },
	.stream = "bus_intervals.tsv",
	.stream_what = "bus driver/conductor state intervals",
	.stream_cols = "role\tvpid\tstate\tbegin\tend\tduration",
	.init = bus_init,
	.fini = bus_fini,
	.render = bus_render,
};
