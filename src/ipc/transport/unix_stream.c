/* unix_stream.c - one AF_UNIX SOCK_STREAM socketpair(2), full duplex: side s uses sk[s]. */
#include "sock.h"

#include <sys/socket.h>

static const char *us_unsupported(void)
{
	return il_sock_unsupported(AF_UNIX, SOCK_STREAM, "AF_UNIX sockets not available (CONFIG_UNIX)");
}

static int us_setup(struct il_link *l)
{
	return il_sock_pair_setup(l, SOCK_STREAM);
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
