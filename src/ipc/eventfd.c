/* eventfd.c - shared-memory payload plus one eventfd(2) per direction for the
 * notification: the sender copies the message into the channel's MAP_SHARED buffer,
 * then eventfd_write(1); the receiver's blocking eventfd read returns, then it copies
 * the message out. The two syscalls order the copies (they imply full barriers).
 *
 * Dead peer: a blocking eventfd read has no timeout and nothing else to wait on, so
 * the wait is kept as is (one read(2) on the fast path) and the peer's departure is
 * delivered as a "poke": POKE added to our counter, by the peer's detach or, when the
 * peer is a killed process, by a lifeline watcher thread (il_link_watch). A message
 * counts 1, so one read tells apart a message (low bits), a departure (high bits) or
 * both (the message is delivered and the poke re-armed for the next read). */
#include "transport.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/spawn.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSG 1ull
#define POKE (1ull << 32)

/* In MAP_SHARED memory: both sides see the same buffers; each side uses only its own
 * watch slot. */
struct efd_priv {
	int efd[2];                   /* channel c: side c writes, side 1-c reads */
	void *buf[2];                 /* channel c's payload buffer, l->size bytes */
	struct il_link_watch watch[2];
};

static const char *efd_unsupported(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 && (errno == ENOSYS || errno == EINVAL))
		return "eventfd not available (CONFIG_EVENTFD)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

static int efd_setup(struct il_link *l)
{
	struct efd_priv *p = il_shared_alloc(sizeof(*p));
	if (!p) {
		il_errno("cannot map the eventfd link state");
		return IL_NORES;
	}
	l->priv = p;
	p->efd[0] = p->efd[1] = -1;
	for (int c = 0; c < 2; c++) {
		if (!(p->buf[c] = il_shared_alloc(l->size))) {
			il_errno("cannot map a %zu-byte shared buffer", l->size);
			return il_exit_for_errno(errno);
		}
		if ((p->efd[c] = eventfd(0, EFD_CLOEXEC)) < 0) {
			il_errno("eventfd failed");
			return il_exit_for_errno(errno);
		}
	}
	return 0;
}

/* The watcher's wake: our peer died; poke our own incoming counter. */
static void efd_wake(struct il_link *l, int side)
{
	struct efd_priv *p = l->priv;
	(void)eventfd_write(p->efd[1 - side], POKE);
}

/* Both sides need both eventfds (one to write, one to read): nothing to close; a
 * forked side watches its peer's lifeline. */
static int efd_attach(struct il_link *l, int side)
{
	struct efd_priv *p = l->priv;
	if (il_link_watch_start(&p->watch[side], l, side, efd_wake) < 0) {
		il_errno("cannot start the lifeline watcher");
		return il_exit_for_errno(errno);
	}
	return 0;
}

static int efd_send(struct il_link *l, int side, const void *buf)
{
	struct efd_priv *p = l->priv;
	memcpy(p->buf[side], buf, l->size);
	return eventfd_write(p->efd[side], MSG);
}

static int efd_recv(struct il_link *l, int side, void *buf)
{
	struct efd_priv *p = l->priv;
	int fd = p->efd[1 - side];
	eventfd_t v;
	for (;;) {
		if (eventfd_read(fd, &v) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (v & (POKE - 1))
			break;
		if (v >= POKE) {
			(void)eventfd_write(fd, POKE); /* stays gone for later reads */
			errno = EPIPE;
			return -1;
		}
	}
	memcpy(buf, p->buf[1 - side], l->size);
	if (v >= POKE)
		(void)eventfd_write(fd, POKE);
	return 0;
}

/* Stops our watcher (before the lifelines close), then pokes the peer's incoming
 * counter so a blocked read returns EPIPE. */
static void efd_detach(struct il_link *l, int side)
{
	struct efd_priv *p = l->priv;
	il_link_watch_stop(&p->watch[side]);
	(void)eventfd_write(p->efd[side], POKE);
}

static void efd_teardown(struct il_link *l)
{
	struct efd_priv *p = l->priv;
	if (!p)
		return;
	il_link_watch_stop(&p->watch[0]);
	for (int c = 0; c < 2; c++) {
		il_fd_close(&p->efd[c]);
		il_shared_free(p->buf[c], l->size);
	}
	il_shared_free(p, sizeof(*p));
	l->priv = NULL;
}

const struct il_transport il_transport_eventfd = {
	.name = "eventfd",
	.summary = "shared-memory payload, one eventfd(2) per direction to notify",
	.unsupported = efd_unsupported,
	.setup = efd_setup,
	.attach = efd_attach,
	.send = efd_send,
	.recv = efd_recv,
	.detach = efd_detach,
	.teardown = efd_teardown,
};
