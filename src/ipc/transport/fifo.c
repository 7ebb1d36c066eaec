/* fifo.c - two named pipes (mkfifo(3)), one per direction, in a private 0700 directory
 * under /tmp. Unlike pipe, each side opens its own ends by name after it is running,
 * as unrelated processes would; the data path is then the kernel's pipe code. Once both
 * sides have opened their ends the names are removed (both_attached): nothing is left behind,
 * even by a SIGKILL. */
#include "transport.h"
#include "../../core/cleanup.h"
#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIFO_OPEN_WAIT_NS (10ull * 1000 * 1000 * 1000)

struct fifo_priv {
	char dir[64];
	char path[2][96];  /* channel c: side c writes, side 1-c reads */
	int h_dir, h_path[2]; /* cleanup registry handles, -1: none */
};

/* Creates the private directory and the two FIFOs (not opened yet), each registered for
 * removal right after it exists. */
static int fifo_setup(struct il_link *l)
{
	struct fifo_priv *p = calloc(1, sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	p->h_dir = p->h_path[0] = p->h_path[1] = -1;
	l->priv = p;
	(void)snprintf(p->dir, sizeof(p->dir), "/tmp/ipclab-fifo-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(p->dir)) { /* mode 0700 (mkdtemp(3)) */
		il_errno("cannot create a private directory under /tmp");
		p->dir[0] = 0;
		return il_exit_for_errno(errno);
	}
	if ((p->h_dir = il_cleanup_add(IL_OBJ_DIR, p->dir, 0)) < 0) {
		il_errno("cannot register %s for cleanup", p->dir);
		(void)rmdir(p->dir);
		return IL_NORES;
	}
	for (int c = 0; c < 2; c++) {
		(void)snprintf(p->path[c], sizeof(p->path[c]), "%s/chan%d", p->dir, c);
		if (mkfifo(p->path[c], 0600) < 0) {
			il_errno("mkfifo %s failed", p->path[c]);
			return il_exit_for_errno(errno);
		}
		if ((p->h_path[c] = il_cleanup_add(IL_OBJ_FILE, p->path[c], 0)) < 0) {
			il_errno("cannot register %s for cleanup", p->path[c]);
			(void)unlink(p->path[c]);
			return IL_NORES;
		}
	}
	return 0;
}

/* Clears O_NONBLOCK once an end is open: the fast path uses blocking read/write. */
static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Opens this side's read end (incoming channel) then its write end (outgoing channel).
 * Deadlock-free whatever the interleaving: an O_RDONLY|O_NONBLOCK open never waits
 * (fifo(7)), and the O_WRONLY|O_NONBLOCK open is retried (ENXIO: no reader yet) until
 * the peer has opened its read end, which is the first thing it does; gives up with
 * EPIPE if the peer exits or detaches first. Both sides finish before the start barrier,
 * so no read can see a FIFO without a writer (which would read as end-of-file). */
static int fifo_attach(struct il_link *l, int side)
{
	struct fifo_priv *p = l->priv;
	int *rd = &l->fd[1 - side][0], *wr = &l->fd[side][1];

	*rd = open(p->path[1 - side], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*rd < 0 || set_blocking(*rd) < 0) {
		il_errno("cannot open %s for reading", p->path[1 - side]);
		return il_exit_for_errno(errno);
	}
	const uint64_t give_up = il_now_ns() + FIFO_OPEN_WAIT_NS;
	for (unsigned tries = 0;; tries++) {
		*wr = open(p->path[side], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (*wr >= 0)
			break;
		if (errno != ENXIO && errno != EINTR) {
			il_errno("cannot open %s for writing", p->path[side]);
			return il_exit_for_errno(errno);
		}
		if (il_link_peer_gone(l, side)) {
			il_err("the peer went away before opening %s", p->path[side]);
			return IL_FAIL;
		}
		/* A peer whose own attach failed waits at the start barrier, alive: bounded. */
		if (il_now_ns() > give_up) {
			il_err("the peer did not open %s for reading within %d s", p->path[side],
			       (int)(FIFO_OPEN_WAIT_NS / 1000000000));
			return IL_FAIL;
		}
		/* Rendezvous only (not measured): yield first, then back off to 100 us. */
		if (tries < 100) {
			(void)sched_yield();
		} else {
			struct timespec ts = { 0, 100 * 1000 };
			(void)nanosleep(&ts, NULL);
		}
	}
	if (set_blocking(*wr) < 0) {
		il_errno("cannot make %s blocking", p->path[side]);
		return IL_FAIL;
	}
	return 0;
}

static int fifo_send(struct il_link *l, int side, const void *buf)
{
	return il_fd_write_all(l->fd[side][1], buf, l->size);
}

static int fifo_recv(struct il_link *l, int side, void *buf)
{
	return il_fd_read_all(l->fd[1 - side][0], buf, l->size);
}

/* Closing our write end makes the peer's read return end-of-file; closing our read end
 * makes its write fail with EPIPE. */
static void fifo_detach(struct il_link *l, int side)
{
	il_fd_close(&l->fd[side][1]);
	il_fd_close(&l->fd[1 - side][0]);
}

/* Both sides hold all four ends: the FIFOs and their directory can go (a FIFO, like any
 * file, lives on while it is open). */
static void fifo_both_attached(struct il_link *l)
{
	struct fifo_priv *p = l->priv;
	for (int c = 0; c < 2; c++) {
		il_cleanup_remove(p->h_path[c]);
		p->h_path[c] = -1;
	}
	il_cleanup_remove(p->h_dir);
	p->h_dir = -1;
}

static void fifo_teardown(struct il_link *l)
{
	struct fifo_priv *p = l->priv;
	for (int c = 0; c < 2; c++) {
		il_fd_close(&l->fd[c][0]);
		il_fd_close(&l->fd[c][1]);
	}
	if (!p)
		return;
	fifo_both_attached(l);
	free(p);
	l->priv = NULL;
}

const struct il_transport il_transport_fifo = {
	.name = "fifo",
	.summary = "named pipes (mkfifo), one per direction, in a private /tmp directory",
	.setup = fifo_setup,
	.attach = fifo_attach,
	.send = fifo_send,
	.recv = fifo_recv,
	.both_attached = fifo_both_attached,
	.detach = fifo_detach,
	.teardown = fifo_teardown,
};
