/* pairtab.h - open-addressing hash table of in-flight pairings (a send waiting for its
 * receive, a request waiting for its acquire...). Linear probing with backward-shift
 * deletion: no tombstones, so a table whose entries are removed as fast as they are
 * added stays at its peak size and never degrades. Keys are three integers (what a
 * namespace of pairings needs: e.g. transport, chan, seq); values are four timestamps
 * and two small integers. No allocation except when the table grows. */
#ifndef IPCLAB_PAIRTAB_H
#define IPCLAB_PAIRTAB_H

#include <stddef.h>
#include <stdint.h>

struct pt_key {
	uint64_t a;  /* e.g. seq */
	uint32_t b;  /* e.g. chan */
	uint32_t c;  /* e.g. transport id; 0 reserved for "empty" is NOT needed: see used */
};

struct pt_entry {
	struct pt_key k;
	uint64_t t[4];   /* timestamps (ns from origin) */
	uint32_t aux;    /* e.g. channel index */
	uint32_t used;   /* 0: empty slot; else flags (bit 0 always set) */
};

struct pairtab {
	struct pt_entry *slot;
	size_t mask;      /* capacity - 1 (capacity a power of two) */
	size_t count;
	size_t peak;      /* highest count seen: the "bounded memory" evidence */
};

/* Initial capacity (rounded up to a power of two); -1 on allocation failure. */
int pt_init(struct pairtab *t, size_t capacity);
void pt_free(struct pairtab *t);

/* The entry for k, or NULL. */
struct pt_entry *pt_find(const struct pairtab *t, const struct pt_key *k);
/* The entry for k, inserted zeroed (used = 1) if absent (*fresh = 1 then); NULL only on
 * allocation failure. A pointer stays valid until the next insert or remove. */
struct pt_entry *pt_upsert(struct pairtab *t, const struct pt_key *k, int *fresh);
/* Removes an entry returned by pt_find/pt_upsert. */
void pt_remove(struct pairtab *t, struct pt_entry *e);
/* Calls fn on every entry (order unspecified); fn must not modify the table. */
void pt_foreach(const struct pairtab *t, void (*fn)(const struct pt_entry *e, void *arg), void *arg);

#endif
