/* syncstat.c - fairness, bounded series, work split (see syncstat.h). */
#include "syncstat.h"

void ss_fairness(const uint64_t *x, unsigned n, struct ss_fair *f)
{
	double sum = 0, sumsq = 0;
	f->total = 0;
	f->min = n ? UINT64_MAX : 0;
	f->max = 0;
	for (unsigned i = 0; i < n; i++) {
		f->total += x[i];
		if (x[i] < f->min)
			f->min = x[i];
		if (x[i] > f->max)
			f->max = x[i];
		sum += (double)x[i];
		sumsq += (double)x[i] * (double)x[i];
	}
	f->min_share = f->total ? (double)f->min / (double)f->total : 0;
	f->max_share = f->total ? (double)f->max / (double)f->total : 0;
	f->min_over_max = f->max ? (double)f->min / (double)f->max : 1;
	f->jain = sumsq > 0 ? sum * sum / ((double)n * sumsq) : 1;
}

void ss_series_init(struct ss_series *s, struct ss_point *buf, unsigned cap)
{
	s->pt = buf;
	s->cap = cap < 2 ? 2 : cap & ~1u;
	s->n = 0;
	s->every = 1;
	s->seen = 0;
}

void ss_series_add(struct ss_series *s, uint64_t t_ns, int64_t a, int64_t b)
{
	uint64_t k = s->seen++;
	if (k % s->every)
		return;
	if (s->n == s->cap) {
		/* keep the samples whose index is a multiple of 2*every: points 0, 2, 4, ... */
		for (unsigned i = 0; 2 * i < s->n; i++)
			s->pt[i] = s->pt[2 * i];
		s->n = (s->n + 1) / 2;
		s->every *= 2;
		if (k % s->every)
			return;
	}
	s->pt[s->n++] = (struct ss_point){ t_ns, a, b };
}

uint64_t ss_split(uint64_t total, unsigned n, unsigned i)
{
	if (!n || i >= n)
		return 0;
	return total / n + (i < total % n ? 1 : 0);
}

/* A sweep over the 2n interval ends in time order (an insertion sort: n is small). */
uint64_t ss_overlap(const uint64_t *start, const uint64_t *stop, unsigned n, unsigned k)
{
	struct edge {
		uint64_t t;
		int d; /* +1 opens, -1 closes */
	} e[2 * SS_MAX_INTERVALS];
	unsigned m = 0;
	for (unsigned i = 0; i < n && i < SS_MAX_INTERVALS; i++) {
		if (!start[i] || stop[i] <= start[i])
			continue;
		e[m++] = (struct edge){ start[i], +1 };
		e[m++] = (struct edge){ stop[i], -1 };
	}
	for (unsigned i = 1; i < m; i++) { /* closes before opens at the same instant */
		struct edge x = e[i];
		unsigned j = i;
		for (; j > 0 && (e[j - 1].t > x.t || (e[j - 1].t == x.t && e[j - 1].d > x.d)); j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
	uint64_t total = 0;
	int open = 0;
	for (unsigned i = 0; i < m; i++) {
		if (open >= (int)k)
			total += e[i].t - e[i - 1].t;
		open += e[i].d;
	}
	return total;
}
