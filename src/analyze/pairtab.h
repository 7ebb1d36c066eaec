/* pairtab.h - open-addressing hash table of in-flight pairings (a send waiting for its
 * receive, a request waiting for its acquire...). Linear probing with backward-shift
 * deletion: no tombstones, so a table whose entries are removed as fast as they are
 * added stays at its peak size and never degrades. Keys are three integers, built by one
 * typed constructor per kind of pairing; values are four timestamps and two small
 * integers. No allocation except when the table grows. */
#ifndef IPCLAB_PAIRTAB_H
#define IPCLAB_PAIRTAB_H

#include <stddef.h>
#include <stdint.h>

/* A key: one 64-bit and two 32-bit words. Build it with the constructor of its table
 * (below), never by position: the words mean different things per table. */
struct pt_key {
	uint64_t a;
	uint32_t b, c;
};

/* A message in flight: (transport id, chan, seq). */
static inline struct pt_key pt_key_msg(uint32_t transport, uint32_t chan, uint64_t seq)
{
	return (struct pt_key){ .a = seq, .b = chan, .c = transport };
}

/* A signal in flight: (signo, seq). */
static inline struct pt_key pt_key_sig(int64_t signo, uint64_t seq)
{
	return (struct pt_key){ .a = seq, .b = (uint32_t)signo, .c = 0 };
}

static inline int64_t pt_key_signo(const struct pt_key *k)
{
	return (int64_t)k->b;
}

/* A lock request waiting for its acquire: (thread, lock, kind id). */
static inline struct pt_key pt_key_lock(int64_t vtid, uint32_t lock, uint32_t kind)
{
	return (struct pt_key){ .a = (uint64_t)vtid, .b = lock, .c = kind };
}

/* A task's timeline: its seq. */
static inline struct pt_key pt_key_task(uint64_t seq)
{
	return (struct pt_key){ .a = seq, .b = 0, .c = 0 };
}

static inline uint64_t pt_key_seq(const struct pt_key *k)
{
	return k->a;
}

/* A bus role's current state: (vpid, role id). */
static inline struct pt_key pt_key_bus(int64_t vpid, uint32_t role)
{
	return (struct pt_key){ .a = (uint64_t)vpid, .b = role, .c = 0 };
}

static inline int64_t pt_key_vpid(const struct pt_key *k)
{
	return (int64_t)k->a;
}

static inline uint32_t pt_key_role(const struct pt_key *k)
{
	return k->b;
}

/* An entry of an index table: (namespace, key, subkey) -> array index in aux. */
static inline struct pt_key pt_key_index(uint32_t ns, uint64_t key, uint32_t sub)
{
	return (struct pt_key){ .a = key, .b = sub, .c = ns };
}

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
