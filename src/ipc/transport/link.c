/* link.c - the life cycle of a link between two sides (transport.h): init, attach,
 * detach, free, the lifelines and their watcher thread; the fd helpers of the fd-based
 * transports and the /proc number reader of the limit messages. */
#include "transport.h"

#include "../../core/log.h"
#include "../../core/sys.h"
#include "../../core/opts.h"
#include "../../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int il_fd_write_all(int fd, const void *buf, size_t len)
{
	int r = il_write_full(fd, buf, len);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

int il_fd_read_all(int fd, void *buf, size_t len)
{
	int r = il_read_full(fd, buf, len);
	if (r < 0) {
		errno = -r;
		return -1;
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

int il_link_init(struct il_link *l, const struct il_transport *t, int mode, size_t size)
{
	/* The ops promise EPIPE for a gone peer: a write(2) to a pipe or FIFO whose reader
	 * died must fail with EPIPE instead of killing us with SIGPIPE (pipe(7)). */
	(void)signal(SIGPIPE, SIG_IGN);
	memset(l, 0, sizeof(*l));
	l->t = t;
	l->mode = mode;
	l->size = size;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			l->fd[i][j] = l->life[i][j] = -1;
	l->ls = il_shared_alloc(sizeof(*l->ls));
	if (!l->ls) {
		il_errno("cannot map link state");
		return IL_NORES;
	}
	for (int s = 0; s < 2; s++) {
		if (pipe2(l->life[s], O_CLOEXEC) < 0) {
			il_errno("cannot create a lifeline pipe");
			int rc = il_exit_for_errno(errno);
			il_link_free(l);
			return rc;
		}
	}
	int rc = t->setup(l);
	if (rc)
		il_link_free(l);
	return rc;
}

int il_link_attach(struct il_link *l, int side)
{
	if (l->mode == IL_MODE_PROCESS) {
		il_fd_close(&l->life[side][0]);
		il_fd_close(&l->life[1 - side][1]);
	}
	return l->t->attach(l, side);
}

void il_link_detach(struct il_link *l, int side)
{
	l->t->detach(l, side);
	l->ls->closed[side] = 1;
	il_fd_close(&l->life[side][1]);
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&l->life[1 - side][0]);
}

void il_link_both_attached(struct il_link *l)
{
	if (l->t->both_attached)
		l->t->both_attached(l);
}

bool il_link_peer_gone(struct il_link *l, int side)
{
	if (l->ls->closed[1 - side])
		return true;
	if (l->mode != IL_MODE_PROCESS || l->life[1 - side][0] < 0)
		return false;
	struct pollfd p = { .fd = l->life[1 - side][0], .events = POLLIN };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

void il_link_free(struct il_link *l)
{
	if (l->t && l->ls)
		l->t->teardown(l);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			il_fd_close(&l->life[i][j]);
	il_shared_free(l->ls, sizeof(*l->ls));
	l->ls = NULL;
}

/* Watcher thread: wait for the peer's lifeline to hang up (or for stop), then wake. */
static void *watch_main(void *arg)
{
	struct il_link_watch *w = arg;
	struct pollfd p[2] = {
		{ .fd = w->l->life[1 - w->side][0], .events = POLLIN },
		{ .fd = w->stop[0], .events = POLLIN },
	};
	for (;;) {
		int n = poll(p, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[1].revents)
			return NULL;
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			w->wake(w->l, w->side);
			return NULL;
		}
	}
}

int il_link_watch_start(struct il_link_watch *w, struct il_link *l, int side,
			void (*wake)(struct il_link *l, int side))
{
	w->running = false;
	w->stop[0] = w->stop[1] = -1;
	if (l->mode != IL_MODE_PROCESS || l->life[1 - side][0] < 0)
		return 0;
	w->l = l;
	w->side = side;
	w->wake = wake;
	if (pipe2(w->stop, O_CLOEXEC) < 0)
		return -1;
	/* Signals stay with the measuring thread (EINTR semantics, guard handlers). */
	sigset_t block, old;
	sigfillset(&block);
	(void)pthread_sigmask(SIG_SETMASK, &block, &old);
	int e = pthread_create(&w->thread, NULL, watch_main, w);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		il_fd_close(&w->stop[0]);
		il_fd_close(&w->stop[1]);
		errno = e;
		return -1;
	}
	w->running = true;
	return 0;
}

void il_link_watch_stop(struct il_link_watch *w)
{
	if (!w->running)
		return;
	w->running = false;
	(void)!write(w->stop[1], "", 1);
	(void)pthread_join(w->thread, NULL);
	il_fd_close(&w->stop[0]);
	il_fd_close(&w->stop[1]);
}

long il_read_long(const char *path)
{
	char buf[32], *end;
	if (il_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	errno = 0;
	long v = strtol(buf, &end, 10);
	return errno || end == buf ? -1 : v;
}
