/* timed.c - an interval the experiment timed itself, seen twice (see ana_int.h): its own
 * values, exactly, and the tracer's view of the same intervals as an offset. */
#include "ana_int.h"

#include <stdlib.h>

void ana_timed_add(struct ana *a, struct timed *t, uint64_t t0, uint64_t t1)
{
	if (!t->exp && !(t->exp = ana_hist_new(a, LAT_HIST_MAX_NS)))
		return;
	ana_hist_add(t->exp, t1 - t0); /* the unsigned difference, as the experiment computes it */
}

void ana_timed_offset(struct ana *a, struct timed *t, int64_t tracer, uint64_t t0, uint64_t t1)
{
	int64_t off = tracer - (int64_t)(t1 - t0);
	if (off < 0) {
		a->negative_offsets++;
		return;
	}
	if (!t->offset && !(t->offset = ana_hist_new(a, LAT_HIST_MAX_NS)))
		return;
	ana_hist_add(t->offset, (uint64_t)off);
}

void ana_timed_free(struct timed *t)
{
	free(t->exp);
	free(t->offset);
}

json_t *ana_timed_json(struct ana *a, json_t *obj, const struct timed *t)
{
	(void)json_object_set_new(obj, "experiment", ana_jsum(t->exp ? t->exp : a->empty));
	(void)json_object_set_new(obj, "tracing_offset", ana_jsum(t->offset ? t->offset : a->empty));
	return obj;
}
