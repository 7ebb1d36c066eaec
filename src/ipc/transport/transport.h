/* transport.h - one IPC mechanism behind a small ops struct, so every mechanism is
 * measured by the same timing code. A link has two sides (0: initiator, 1: responder)
 * and two channels: channel 0 carries side 0 -> side 1, channel 1 the way back. */
#ifndef IPCLAB_TRANSPORT_H
#define IPCLAB_TRANSPORT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* What both sides of a link see (MAP_SHARED). */
struct il_link_shared {
	volatile int closed[2];  /* side s has detached (set by il_link_detach) */
};

struct il_link {
	const struct il_transport *t;
	int mode;        /* enum il_mode: process peers need their unused ends closed */
	size_t size;     /* message size in bytes */
	int fd[2][2];    /* fd-based transports: [channel][0 read end, 1 write end]; -1 closed */
	void *priv;      /* transport state (in shared memory when the peer must see it) */
	struct il_link_shared *ls;
	/* Lifelines: side s keeps the write end of life[s]; when it dies or detaches the
	 * other side sees POLLHUP on life[s][0]. Lets polling and semaphore-based
	 * transports notice a killed peer instead of waiting forever. */
	int life[2][2];
};

struct il_transport {
	const char *name;     /* stable name used by scripts and docs */
	const char *summary;  /* one line for "ipclab ipc transports" */
	/* NULL when usable here, else the reason it is not (exit 4). */
	const char *(*unsupported)(void);
	/* Largest message in bytes (0: no limit of its own). */
	size_t max_size;
	/* Creates both channels before the peer is spawned. 0 or an exit code, message printed. */
	int (*setup)(struct il_link *l);
	/* Runs in each side once it is running (process mode: drop the other side's ends). */
	int (*attach)(struct il_link *l, int side);
	/* Sends/receives one whole message of l->size bytes on this side's channel.
	 * 0, or -1 with errno (EPIPE: the peer is gone). */
	int (*send)(struct il_link *l, int side, const void *buf);
	int (*recv)(struct il_link *l, int side, void *buf);
	/* Optional. Both sides have attached (called once, by side 0, after the start
	 * barrier, before any message): remove the names the ends were opened by, so a
	 * killed run leaves none; settle what depends on both sides (e.g. same CPU). */
	void (*both_attached)(struct il_link *l);
	/* This side is done: release its ends so a blocked peer sees end-of-stream. */
	void (*detach)(struct il_link *l, int side);
	/* Parent, after the peer was joined: release everything, remove named objects. */
	void (*teardown)(struct il_link *l);
	/* Optional, parent, after the join and before teardown: what the run showed about
	 * the mechanism (buffer sizes, kernel drop counts), a new JSON object. */
	json_t *(*facts)(const struct il_link *l);
};

/* Generic link life cycle, around the transport's own ops (used by every experiment
 * that drives a transport): init before spawning, attach/detach in each side, free
 * after the join. */
int il_link_init(struct il_link *l, const struct il_transport *t, int mode, size_t size);
int il_link_attach(struct il_link *l, int side);
void il_link_detach(struct il_link *l, int side);
/* Side 0, once both sides have attached (after the start barrier): both_attached. */
void il_link_both_attached(struct il_link *l);
void il_link_free(struct il_link *l);
/* True when the other side has detached, exited or was killed. Cheap (one poll(2));
 * transports that wait without a file descriptor call it every few milliseconds. */
bool il_link_peer_gone(struct il_link *l, int side);

/* Lifeline watcher (process mode only; a no-op in thread mode): a helper thread that
 * sleeps in poll(2) on the peer's lifeline and calls wake(l, side) once when the peer
 * exits or is killed, so a transport whose blocking wait has neither a file descriptor
 * nor a timeout (eventfd read, msgrcv) can be woken without polling on its fast path.
 * Start it in attach, stop it in detach/teardown (before the lifelines are closed). */
struct il_link_watch {
	struct il_link *l;
	int side;
	void (*wake)(struct il_link *l, int side);
	int stop[2];
	pthread_t thread;
	bool running;
};
int il_link_watch_start(struct il_link_watch *w, struct il_link *l, int side,
			void (*wake)(struct il_link *l, int side));
void il_link_watch_stop(struct il_link_watch *w);

/* The registry (transports.def): the transports in listing order, their names as a
 * NULL-terminated option choice list (static data, for il_opt.choices), a name's index
 * (-1: none), the transport at an index (NULL: out of range), by name (NULL: none). */
extern const char *const il_transport_choices[];
int il_transport_index(const char *name);
const struct il_transport *il_transport_at(int i);
const struct il_transport *il_transport_find(const char *name);

/* Explains a failed mq_open (errno) with the limit that applies (mq_open(3),
 * mq_overview(7)): the sysctl and its value, or RLIMIT_MSGQUEUE. Returns the exit code
 * (IL_NORES for a limit). posix-mq and "ipc queue" both create queues. */
int il_mq_open_error(long maxmsg, size_t size);
/* The same for a failed msgget (errno): kernel.msgmni named when it is the limit.
 * sysv-msg and "ipc queue" both create SysV queues. */
int il_msgget_error(void);
/* The number in a /proc/sys file (a queue limit, for the messages above), -1 if it
 * cannot be read. */
long il_read_long(const char *path);
const struct il_transport *const *il_transport_all(size_t *n);

/* Helpers for fd-based transports: full-length read/write with EINTR retry and EOF as EPIPE. */
int il_fd_write_all(int fd, const void *buf, size_t len);
int il_fd_read_all(int fd, void *buf, size_t len);
void il_fd_close(int *fd);

#endif
