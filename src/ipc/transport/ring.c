/* ring.c - the shared block of the ring transports (see ring.h). */
#include "ring.h"
#include "../../core/log.h"
#include "../../core/spawn.h"

#include <errno.h>

void *il_ring_alloc(size_t header, size_t slot_bytes)
{
	size_t stride = il_pair_round(slot_bytes);
	unsigned slots = il_ring_slots(stride);
	size_t len = header + 2 * (size_t)slots * stride;
	struct il_ring *r = il_shared_alloc(len);
	if (!r) {
		il_errno("cannot map %zu bytes of shared memory", len);
		return NULL;
	}
	r->map_len = len;
	r->stride = stride;
	r->slots = slots;
	return r;
}
