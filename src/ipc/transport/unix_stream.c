/* unix_stream.c - one AF_UNIX SOCK_STREAM socketpair(2), full duplex: side s uses sk[s]. */
#include "transport.h"
#include "../../core/log.h"
#include "../../core/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *us_unsupported(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == ENOSYS))
		return "AF_UNIX sockets not available (CONFIG_UNIX)";
	if (fd >= 0)
		(void)close(fd);
	return NULL;
}

static int us_setup(struct il_link *l)
{
	struct il_sock_pair *p = malloc(sizeof(*p));
	if (!p) {
		il_err("out of memory");
		return IL_NORES;
	}
	l->priv = p;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sk) < 0) {
		p->sk[0] = p->sk[1] = -1;
		il_errno("socketpair(AF_UNIX, SOCK_STREAM) failed");
		return il_exit_for_errno(errno);
	}
	return 0;
}

const struct il_transport il_transport_unix_stream = {
	.name = "unix-stream",
	.summary = "AF_UNIX SOCK_STREAM socketpair, full duplex",
	.unsupported = us_unsupported,
	.setup = us_setup,
	.attach = il_sock_attach,
	.send = il_sock_send,
	.recv = il_sock_recv,
	.detach = il_sock_detach,
	.teardown = il_sock_teardown,
};
