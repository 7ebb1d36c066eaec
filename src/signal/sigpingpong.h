/* sigpingpong.h - the two sides of a signal ping-pong ("signal latency"): send one
 * direction with the sender's clock read in shared memory, receive it by one of six
 * methods with the receiver's clock read at its first instruction after delivery, and
 * notice a peer that stopped or died.
 *
 * Direction PING goes initiator -> responder, PONG back. One process-wide configuration
 * (spp_configure) is read by the handlers, so one ping-pong runs at a time. In thread
 * mode each direction has its own receiving thread. */
#ifndef IPCLAB_SIGNAL_SIGPINGPONG_H
#define IPCLAB_SIGNAL_SIGPINGPONG_H

#include "sigsend.h"
#include "../core/hist.h"
#include "../core/spawn.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How the receiver takes the signal. SPP_SIGWAIT is sigwait(3), the call rt-tests'
 * sigwaittest uses: no siginfo, so no payload and no sender checks. */
enum spp_method { SPP_HANDLER, SPP_SIGWAITINFO, SPP_SIGTIMEDWAIT, SPP_SIGNALFD, SPP_SIGSUSPEND, SPP_SIGWAIT };
/* The --method choices (SPP_SIGWAIT is not one: it comes with --loop sigwaittest). */
extern const char *const spp_method_choices[];
const char *spp_method_name(int method);

enum { PING = 0, PONG = 1 };

/* Shared by the two sides (MAP_SHARED in process mode). */
struct spp_shared {
	struct il_barrier start;
	struct il_hist oneway_ab;       /* filled by the responder */
	volatile uint64_t t_send[2];    /* per direction: sender's clock just before sending */
	volatile uint64_t seq[2];       /* per direction: the iteration (std signals carry none) */
	volatile int stop;              /* a side failed: the other stops at its next wake-up */
	struct sig_target to_init, to_resp;
	int resp_status;                /* the responder's set-up, before the start barrier */
	int cpu_start, cpu_end;         /* the responder's observed CPU */
};

/* The run's settings, read by the handlers: set before any signal can arrive. */
struct spp_config {
	int sig[2];       /* per direction */
	bool rt;          /* sigqueue with the iteration as payload */
	int method;       /* enum spp_method */
	uint64_t warmup;  /* iterations below this are not stamped in the trace */
	bool pthread_kill; /* a thread target gets pthread_kill(3), as sigwaittest sends, not
			    * tgkill(2): glibc blocks every signal around its tgkill (two more
			    * rt_sigprocmask calls) so the thread cannot exit meanwhile */
	struct spp_shared *sh;
};

/* Installs cfg and the handlers of both directions and SIGCHLD; blocks the three in the
 * calling thread first (spawned peers inherit the mask). 0 or -errno. */
int spp_install(const struct spp_config *cfg);
/* Restores what spp_install changed, discarding anything still pending. */
void spp_uninstall(void);
/* Before a repeat: empty the handlers' mailboxes. */
void spp_reset(void);

/* One receiving side, opened in the thread that receives. */
struct spp_side {
	int dir;            /* the direction it receives */
	int sigfd;          /* SPP_SIGNALFD */
	sigset_t waitset;   /* sigwait*, signalfd: its signal (+ SIGCHLD when watching a child) */
	sigset_t suspmask;  /* SPP_SIGSUSPEND: the mask to sleep with */
	pid_t child;        /* process-mode initiator: the responder to watch, else 0 */
};

/* What one delivery told the receiver. */
struct spp_obs {
	uint64_t t, seq;
	int pid, code;
};

enum spp_wres { SPP_OK, SPP_STOP, SPP_DEAD, SPP_ERR };

/* Opens s for direction dir (child: the process to watch, or 0). 0 or -errno. */
int spp_open(struct spp_side *s, int dir, pid_t child);
void spp_close(struct spp_side *s);
/* Waits for the next signal of s's direction: SPP_OK with *o filled, SPP_STOP when the
 * peer asked to stop, SPP_DEAD when the watched child exited, SPP_ERR with errno. */
enum spp_wres spp_wait(struct spp_side *s, struct spp_obs *o);

/* Sends direction dir's signal for iteration seq: trace, stamp, send. 0 or -1/errno. */
int spp_send(const struct sig_target *to, int dir, uint64_t seq);
/* A side failed: tell the other one to stop and wake it (one untraced extra signal). */
void spp_stop_peer(const struct sig_target *to, int dir);
/* Checks the iteration, si_code and sender of a delivery (what the method can see);
 * IL_OK, or IL_FAIL after one line naming what (e.g. "ping") and seq. */
int spp_check(const struct spp_obs *o, const char *what, uint64_t seq, int want_pid, int mode);

#endif
