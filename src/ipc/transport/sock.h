/* sock.h - what the socket transports share (unix-stream, unix-dgram, tcp, udp): the
 * "unsupported" probe, socket-buffer options, and the ops of a socket pair. */
#ifndef IPCLAB_SOCK_H
#define IPCLAB_SOCK_H

#include "transport.h"

/* Why a socket of this family and type cannot be created here (the kernel lacks the
 * family or protocol: `why`), or NULL when it can. For a transport's .unsupported. */
const char *il_sock_unsupported(int family, int type, const char *why);
/* Asks for a socket buffer of want bytes: forced (force_opt, e.g. SO_SNDBUFFORCE) when
 * privileged, else opt (SO_SNDBUF), which the kernel caps by the sysctl. */
void il_sock_set_buf(int fd, int force_opt, int opt, int want);
/* An int socket option at SOL_SOCKET (0 if it cannot be read). */
int il_sock_get_int(int fd, int opt);

/* Ops shared by the connected stream-socket transports (unix-stream, tcp; unix-dgram
 * takes setup, attach and teardown): l->priv is a malloc'd struct il_sock_pair whose
 * sk[side] is that side's connected socket. A forked side drops the peer's socket (so the
 * peer's death reads as end-of-stream); send/recv are full-length loops where ECONNRESET
 * (a close with unread data, RST) means EPIPE. */
struct il_sock_pair {
	int sk[2];
};
/* Allocates l->priv as a socketpair(AF_UNIX, type) (SOCK_STREAM or SOCK_DGRAM). 0, or an
 * exit code after one error line (teardown frees what was made). */
int il_sock_pair_setup(struct il_link *l, int type);
int il_sock_attach(struct il_link *l, int side);
int il_sock_send(struct il_link *l, int side, const void *buf);
int il_sock_recv(struct il_link *l, int side, void *buf);
void il_sock_detach(struct il_link *l, int side);
void il_sock_teardown(struct il_link *l);

#endif
