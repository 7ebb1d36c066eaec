/* pipe.c - two anonymous pipes, one per direction (pipe(2)). */
#include "transport.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Creates channel 0 (side 0 writes) and channel 1 (side 1 writes), close-on-exec. */
static int pipe_setup(struct il_link *l)
{
	for (int c = 0; c < 2; c++) {
		if (pipe2(l->fd[c], O_CLOEXEC) < 0) {
			il_errno("pipe2 failed");
			int rc = il_exit_for_errno(errno);
			for (int k = 0; k < c; k++) {
				il_fd_close(&l->fd[k][0]);
				il_fd_close(&l->fd[k][1]);
			}
			return rc;
		}
	}
	return 0;
}

/* A forked side keeps only the write end of its outgoing and the read end of its
 * incoming channel, so the peer's exit shows up as EOF/EPIPE. */
static int pipe_attach(struct il_link *l, int side)
{
	if (l->mode == IL_MODE_PROCESS) {
		il_fd_close(&l->fd[side][0]);
		il_fd_close(&l->fd[1 - side][1]);
	}
	return 0;
}

static int pipe_send(struct il_link *l, int side, const void *buf)
{
	return il_fd_write_all(l->fd[side][1], buf, l->size);
}

static int pipe_recv(struct il_link *l, int side, void *buf)
{
	return il_fd_read_all(l->fd[1 - side][0], buf, l->size);
}

static void pipe_detach(struct il_link *l, int side)
{
	il_fd_close(&l->fd[side][1]);
	if (l->mode == IL_MODE_PROCESS)
		il_fd_close(&l->fd[1 - side][0]);
}

static void pipe_teardown(struct il_link *l)
{
	for (int c = 0; c < 2; c++) {
		il_fd_close(&l->fd[c][0]);
		il_fd_close(&l->fd[c][1]);
	}
}

const struct il_transport il_transport_pipe = {
	.name = "pipe",
	.summary = "anonymous pipe(2), one per direction",
	.setup = pipe_setup,
	.attach = pipe_attach,
	.send = pipe_send,
	.recv = pipe_recv,
	.detach = pipe_detach,
	.teardown = pipe_teardown,
};
