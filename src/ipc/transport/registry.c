/* registry.c - the transport registry, from transports.def: every transport once, its
 * command-line name, lookups by name and index. */
#include "transport.h"

#include <string.h>

#define IL_TRANSPORT(id, name) extern const struct il_transport il_transport_##id;
#include "transports.def"
#undef IL_TRANSPORT

static const struct il_transport *const all[] = {
#define IL_TRANSPORT(id, name) &il_transport_##id,
#include "transports.def"
#undef IL_TRANSPORT
};
#define N_ALL (sizeof(all) / sizeof(all[0]))

const char *const il_transport_choices[] = {
#define IL_TRANSPORT(id, name) name,
#include "transports.def"
#undef IL_TRANSPORT
	NULL,
};

int il_transport_index(const char *name)
{
	for (size_t i = 0; i < N_ALL; i++)
		if (!strcmp(il_transport_choices[i], name))
			return (int)i;
	return -1;
}

const struct il_transport *il_transport_at(int i)
{
	return i >= 0 && (size_t)i < N_ALL ? all[i] : NULL;
}

const struct il_transport *il_transport_find(const char *name)
{
	return il_transport_at(il_transport_index(name));
}

const struct il_transport *const *il_transport_all(size_t *n)
{
	*n = N_ALL;
	return all;
}

/* The transports' convention (-1 and errno) over il_write_full / il_read_full. */
