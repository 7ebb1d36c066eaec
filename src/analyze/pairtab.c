/* pairtab.c - linear-probing hash table with backward-shift deletion (see pairtab.h). */
#include "pairtab.h"

#include <stdlib.h>
#include <string.h>

/* splitmix64 finaliser over the three key words: cheap and well mixed for sequential seqs. */
static inline size_t pt_hash(const struct pt_key *k)
{
	uint64_t x = k->a ^ ((uint64_t)k->b << 32 | k->c) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x;
}

static inline int pt_eq(const struct pt_key *x, const struct pt_key *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c;
}

int pt_init(struct pairtab *t, size_t capacity)
{
	size_t cap = 16;
	while (cap < capacity)
		cap <<= 1;
	memset(t, 0, sizeof(*t));
	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot)
		return -1;
	t->mask = cap - 1;
	return 0;
}

void pt_free(struct pairtab *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

struct pt_entry *pt_find(const struct pairtab *t, const struct pt_key *k)
{
	size_t i = pt_hash(k) & t->mask;
	for (;;) {
		struct pt_entry *e = &t->slot[i];
		if (!e->used)
			return NULL;
		if (pt_eq(&e->k, k))
			return e;
		i = (i + 1) & t->mask;
	}
}

/* Doubles the capacity, rehashing every entry. */
static int pt_grow(struct pairtab *t)
{
	size_t ncap = (t->mask + 1) * 2;
	struct pt_entry *n = calloc(ncap, sizeof(*n));
	if (!n)
		return -1;
	for (size_t i = 0; i <= t->mask; i++) {
		const struct pt_entry *e = &t->slot[i];
		if (!e->used)
			continue;
		size_t j = pt_hash(&e->k) & (ncap - 1);
		while (n[j].used)
			j = (j + 1) & (ncap - 1);
		n[j] = *e;
	}
	free(t->slot);
	t->slot = n;
	t->mask = ncap - 1;
	return 0;
}

struct pt_entry *pt_upsert(struct pairtab *t, const struct pt_key *k, int *fresh)
{
	*fresh = 0;
	/* keep the load factor at most 1/2: short probe sequences */
	if ((t->count + 1) * 2 > t->mask + 1 && pt_grow(t) < 0)
		return NULL;
	size_t i = pt_hash(k) & t->mask;
	for (;;) {
		struct pt_entry *e = &t->slot[i];
		if (!e->used) {
			memset(e, 0, sizeof(*e));
			e->k = *k;
			e->used = 1;
			*fresh = 1;
			if (++t->count > t->peak)
				t->peak = t->count;
			return e;
		}
		if (pt_eq(&e->k, k))
			return e;
		i = (i + 1) & t->mask;
	}
}

void pt_remove(struct pairtab *t, struct pt_entry *e)
{
	size_t i = (size_t)(e - t->slot), j = i;
	/* backward shift: move later members of the probe run into the hole when their
	 * home slot does not lie (cyclically) in (hole, their slot] */
	for (;;) {
		j = (j + 1) & t->mask;
		struct pt_entry *n = &t->slot[j];
		if (!n->used)
			break;
		size_t home = pt_hash(&n->k) & t->mask;
		int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		t->slot[i] = *n;
		i = j;
	}
	t->slot[i].used = 0;
	t->count--;
}

void pt_foreach(const struct pairtab *t, void (*fn)(const struct pt_entry *e, void *arg), void *arg)
{
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slot[i].used)
			fn(&t->slot[i], arg);
}
