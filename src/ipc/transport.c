/* transport.c - the transport registry and fd helpers shared by fd-based transports. */
#include "transport.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define IL_TRANSPORT(n) extern const struct il_transport il_transport_##n;
#include "transports.def"
#undef IL_TRANSPORT

static const struct il_transport *const all[] = {
#define IL_TRANSPORT(n) &il_transport_##n,
#include "transports.def"
#undef IL_TRANSPORT
};
#define N_ALL (sizeof(all) / sizeof(all[0]))

static const char *names[N_ALL + 1];

const struct il_transport *il_transport_find(const char *name)
{
	for (size_t i = 0; i < N_ALL; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

const struct il_transport *const *il_transport_all(size_t *n)
{
	*n = N_ALL;
	return all;
}

const char *const *il_transport_names(void)
{
	for (size_t i = 0; i < N_ALL; i++)
		names[i] = all[i]->name;
	names[N_ALL] = NULL;
	return names;
}

int il_fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int il_fd_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void il_fd_close(int *fd)
{
	if (*fd >= 0) {
		(void)close(*fd);
		*fd = -1;
	}
}
