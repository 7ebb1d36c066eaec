/* bus.c - "ipclab signal bus": the driver/conductor bus of the OS course homework.
 *
 * The driver (parent) forks the conductor (child). Ctrl-C (SIGINT) and Ctrl-\ (SIGQUIT)
 * are the conductor's keys: it forwards them to the driver as SIGUSR1 / SIGUSR2, and the
 * driver prints "start" / "too fast". Ctrl-Z (SIGTSTP) is the driver's key: it forwards
 * it to the conductor as SIGUSR1; the conductor announces the station and gets off
 * (exits); the driver reaps it, says how it ended, and leaves. A terminal sends each key
 * to the whole foreground process group, so each role ignores the other's keys, and the
 * conductor ignores SIGTSTP so Ctrl-Z never stops the job (signal(7), termios(3) ISIG).
 *
 * Each role keeps its signals blocked and waits in sigsuspend() (no lost wake-up between
 * testing a flag and sleeping); handlers do only async-signal-safe work: a clock read,
 * stores into MAP_SHARED memory, write(2), kill(2) and tracepoints (signal-safe once the
 * thread is registered: il_trace_init_thread() at the start of each role).
 *
 * Interactive (no --script): this process is the driver, in the terminal's foreground
 * process group, waiting for real keys. --script: this process becomes the feeder; it
 * forks the driver into a new process group (setpgid) and sends each key to that group
 * with kill(-pgid, sig) only after the previous key's line was printed (the printing
 * role writes one byte to a pipe per line: no sleeps). Events: ipclab_sig:sig_send and
 * sig_receive for every signal we send or receive (seq: the key index; keys typed on a
 * terminal are sent by the kernel, so they have no sig_send), bus_state per change. */
#include "bus.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_STATES 256
#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)

enum role { DRIVER, CONDUCTOR, FEEDER, TERMINAL };
static const char *const role_names[] = { "driver", "conductor", "ipclab", "terminal" };

enum bus_state_id { ST_WAITING, ST_DRIVING, ST_SPEEDING, ST_AT_STATION, ST_SELLING, ST_ANNOUNCING, ST_OFF };
static const char *const state_names[] = { "waiting", "driving", "speeding", "at_station",
					   "selling", "announcing", "off" };

enum line_id { LINE_NONE = -1, LINE_START, LINE_FAST, LINE_ARRIVE };
static const char *const lines_zh[] = { "老司机开车了", "车速有点快，系好安全带", "到站了请下车" };
static const char *const lines_en[] = { "The old driver is starting the bus",
					"We're going a bit fast, fasten your seat belts",
					"We've arrived at the station, please get off" };
static const char *const lang_names[] = { "zh", "en", NULL };

/* One key, from its signal to the printed line (CLOCK_MONOTONIC ns; 0: did not happen). */
struct key_rec {
	int key_signo;   /* SIGINT/SIGQUIT/SIGTSTP as received; 0: never received */
	int fwd_signo;   /* SIGUSR1/SIGUSR2 forwarded to the other role; 0: none */
	int receiver;    /* enum role that caught the key */
	int printer;     /* enum role that printed the line */
	int line;        /* enum line_id printed */
	int ignored;     /* a second Ctrl-Z after the station: nothing to do */
	uint64_t t_sent;     /* feeder, just before kill(-pgid) (script mode only) */
	uint64_t t_recv;     /* first thing in the receiving handler */
	uint64_t t_fwd;      /* just before kill() of the forwarded signal */
	uint64_t t_fwd_recv; /* first thing in the forwarded signal's handler */
	uint64_t t_printed;  /* just after write(2) of the line returned */
};

struct state_rec {
	int role, state;
	uint64_t t;
};

/* Everything the roles share (MAP_SHARED, so the forked roles and the feeder see it). */
struct bus {
	/* Set before the forks, read-only afterwards. */
	int lang;
	int out_fd;          /* where the lines go: stdout, or stderr when JSON is on stdout */
	/* Counters updated from handlers (atomics: the roles are separate processes). */
	uint32_t keys;       /* keys received so far: the next key's seq */
	uint32_t lines;      /* lines printed */
	uint32_t nstates;
	uint32_t seq_to_driver[2]; /* seq of the key forwarded as SIGUSR1 / SIGUSR2 */
	uint32_t seq_to_conductor; /* seq of the Ctrl-Z forwarded as SIGUSR1 */
	pid_t driver, conductor, pgid;
	struct key_rec rec[IL_BUS_MAX_KEYS];
	struct state_rec states[MAX_STATES];
	/* How it ended. */
	uint64_t t_ready;
	uint64_t t_conductor_exit;    /* conductor, just before it exits */
	uint64_t t_conductor_reaped;  /* driver, when waitpid() returned the conductor */
	uint64_t t_driver_exit;       /* driver, just before it exits (or returns) */
	int conductor_reaped, conductor_exited, conductor_status, conductor_signal;
	int driver_rc;
	char why[256];                /* the driver's failure, for the report */
};

static struct bus *B;                 /* the shared bus, inherited by both roles */
/* Per-process descriptors (plain statics: each process closes its own copies). */
static int effect_wr = -1, effect_rd = -1; /* script mode: a byte per ready/line to the feeder */
static int ready_rd = -1, ready_wr = -1;   /* conductor -> driver: "my handlers are installed" */
static int cur_state = -1;            /* this process's role state (each role's own copy) */
static volatile sig_atomic_t got_chld, leave;

int il_bus_parse_script(const char *s, int sigs[IL_BUS_MAX_KEYS], char *why, size_t whylen)
{
	static const struct { const char *name; int sig; } keys[] = {
		{ "INT", SIGINT }, { "QUIT", SIGQUIT }, { "TSTP", SIGTSTP },
	};
	int n = 0;
	const char *p = s;
	if (!s || !*s) {
		(void)snprintf(why, whylen, "empty script");
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *tok = p;
		if (len >= 3 && !strncasecmp(tok, "SIG", 3)) {
			tok += 3;
			len -= 3;
		}
		int sig = 0;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (len == strlen(keys[i].name) && !strncasecmp(tok, keys[i].name, len))
				sig = keys[i].sig;
		if (!sig) {
			if (end ? end == p : !*p)
				(void)snprintf(why, whylen, "empty key at position %d", n + 1);
			else
				(void)snprintf(why, whylen, "unknown key '%.*s' at position %d", (int)(end ? end - p : (long)strlen(p)), p, n + 1);
			return -1;
		}
		if (n == IL_BUS_MAX_KEYS) {
			(void)snprintf(why, whylen, "more than %d keys", IL_BUS_MAX_KEYS);
			return -1;
		}
		if (n > 0 && sigs[n - 1] == SIGTSTP) {
			(void)snprintf(why, whylen, "TSTP at position %d is not the last key: the conductor has got off", n);
			return -1;
		}
		sigs[n++] = sig;
		if (!end)
			break;
		p = end + 1;
	}
	if (sigs[n - 1] != SIGTSTP) {
		(void)snprintf(why, whylen, "the last key must be TSTP (the conductor gets off)");
		return -1;
	}
	return n;
}

static const char *sig_short(int sig)
{
	const char *n = sig > 0 ? sigabbrev_np(sig) : NULL;
	return n ? n : "?";
}

static const char *line_text(int line)
{
	if (line < LINE_START || line > LINE_ARRIVE)
		return NULL;
	return B->lang == 1 ? lines_en[line] : lines_zh[line];
}

static struct key_rec *rec_at(uint32_t seq)
{
	return seq < IL_BUS_MAX_KEYS ? &B->rec[seq] : NULL;
}

/* write(2) until done: async-signal-safe, one call for a whole line on a tty or pipe. */
static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Records and traces a state change of this process's role (signal-safe). */
static void set_state(int role, int st)
{
	if (cur_state == st)
		return;
	cur_state = st;
	uint32_t i = __atomic_fetch_add(&B->nstates, 1, __ATOMIC_RELAXED);
	if (i < MAX_STATES) {
		B->states[i].role = role;
		B->states[i].state = st;
		B->states[i].t = il_now_ns();
	}
	lttng_ust_tracepoint(ipclab_sig, bus_state, role_names[role], state_names[st]);
}

/* Prints one line with a single write(2), stamps it, tells the feeder (signal-safe). */
static void print_line(int line, struct key_rec *r, int role)
{
	char buf[128];
	const char *t = line_text(line);
	size_t n = strlen(t);
	memcpy(buf, t, n);
	buf[n++] = '\n';
	write_all(B->out_fd, buf, n);
	uint64_t now = il_now_ns();
	if (r) {
		r->t_printed = now;
		r->printer = role;
		r->line = line;
	}
	__atomic_fetch_add(&B->lines, 1, __ATOMIC_RELEASE);
	if (effect_wr >= 0)
		write_all(effect_wr, "L", 1);
}

/* Conductor: Ctrl-C / Ctrl-\ -> SIGUSR1 / SIGUSR2 to the driver. */
static void conductor_on_key(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	uint32_t seq = __atomic_fetch_add(&B->keys, 1, __ATOMIC_ACQ_REL);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, si ? si->si_pid : 0, "handler", 0, 0);
	int fwd = sig == SIGINT ? SIGUSR1 : SIGUSR2;
	struct key_rec *r = rec_at(seq);
	if (r) {
		r->key_signo = sig;
		r->t_recv = t;
		r->receiver = CONDUCTOR;
		r->fwd_signo = fwd;
	}
	__atomic_store_n(&B->seq_to_driver[fwd == SIGUSR1 ? 0 : 1], seq, __ATOMIC_RELEASE);
	lttng_ust_tracepoint(ipclab_sig, sig_send, fwd, seq, B->driver);
	if (r)
		r->t_fwd = il_now_ns();
	(void)kill(B->driver, fwd);
	errno = saved;
}

/* Conductor: SIGUSR1 from the driver -> announce the station, then get off. */
static void conductor_on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	uint32_t seq = __atomic_load_n(&B->seq_to_conductor, __ATOMIC_ACQUIRE);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, si ? si->si_pid : 0, "handler", 0, 0);
	struct key_rec *r = rec_at(seq);
	if (r)
		r->t_fwd_recv = t;
	set_state(CONDUCTOR, ST_ANNOUNCING);
	print_line(LINE_ARRIVE, r, CONDUCTOR);
	leave = 1;
	errno = saved;
}

/* Driver: SIGUSR1 / SIGUSR2 from the conductor -> "starting" / "too fast". */
static void driver_on_usr(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	int k = sig == SIGUSR1 ? 0 : 1;
	uint32_t seq = __atomic_load_n(&B->seq_to_driver[k], __ATOMIC_ACQUIRE);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, si ? si->si_pid : 0, "handler", 0, 0);
	struct key_rec *r = rec_at(seq);
	if (r)
		r->t_fwd_recv = t;
	set_state(DRIVER, k == 0 ? ST_DRIVING : ST_SPEEDING);
	print_line(k == 0 ? LINE_START : LINE_FAST, r, DRIVER);
	errno = saved;
}

/* Driver: Ctrl-Z -> at the station: SIGUSR1 to the conductor (the job is not stopped). */
static void driver_on_tstp(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	uint32_t seq = __atomic_fetch_add(&B->keys, 1, __ATOMIC_ACQ_REL);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, si ? si->si_pid : 0, "handler", 0, 0);
	struct key_rec *r = rec_at(seq);
	if (r) {
		r->key_signo = sig;
		r->t_recv = t;
		r->receiver = DRIVER;
	}
	if (cur_state == ST_AT_STATION || cur_state == ST_OFF) {
		if (r)
			r->ignored = 1;
		errno = saved;
		return;
	}
	set_state(DRIVER, ST_AT_STATION);
	if (r)
		r->fwd_signo = SIGUSR1;
	__atomic_store_n(&B->seq_to_conductor, seq, __ATOMIC_RELEASE);
	lttng_ust_tracepoint(ipclab_sig, sig_send, SIGUSR1, seq, B->conductor);
	if (r)
		r->t_fwd = il_now_ns();
	(void)kill(B->conductor, SIGUSR1);
	errno = saved;
}

static void on_chld(int sig)
{
	(void)sig;
	got_chld = 1;
}

static int set_handler(int sig, void (*fn)(int, siginfo_t *, void *), const sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sa.sa_mask = *mask;
	return sigaction(sig, &sa, NULL);
}

static void set_disposition(int sig, void (*h)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	(void)sigaction(sig, &sa, NULL);
}

/* The conductor: sells tickets until the driver's SIGUSR1, announces, gets off. */
static int conductor_main(void *arg)
{
	struct bus *b = arg;
	il_trace_init_thread();
	il_set_task_name("ipclab-conduct");
	cur_state = -1;
	set_state(CONDUCTOR, ST_SELLING);
	(void)close(ready_rd);
	if (effect_rd >= 0)
		(void)close(effect_rd);
	/* The driver blocked our keys before the fork: a key typed now stays pending. */
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &block, NULL);
	if (set_handler(SIGINT, conductor_on_key, &block) < 0 || set_handler(SIGQUIT, conductor_on_key, &block) < 0 ||
	    set_handler(SIGUSR1, conductor_on_usr1, &block) < 0) {
		il_errno("conductor: sigaction failed");
		return IL_FAIL;
	}
	set_disposition(SIGTSTP, SIG_IGN); /* the driver's key; must not stop us */
	set_disposition(SIGUSR2, SIG_DFL);
	set_disposition(SIGCHLD, SIG_DFL);
	write_all(ready_wr, "R", 1);
	(void)close(ready_wr);
	while (!leave)
		(void)sigsuspend(&none);
	set_state(CONDUCTOR, ST_OFF);
	b->t_conductor_exit = il_now_ns();
	return IL_OK;
}

/* Describes a wait status: "exited with status 0" / "killed by signal 9 (Killed)". */
static void describe_status(int exited, int status, int sig, char *buf, size_t len)
{
	if (exited)
		(void)snprintf(buf, len, "exited with status %d", status);
	else
		(void)snprintf(buf, len, "killed by signal %d (%s)", sig, strsignal(sig));
}

/* The driver: waits for the conductor's signals and the Ctrl-Z, reaps the conductor. */
static int driver_main(struct bus *b)
{
	il_trace_init_thread();
	il_set_task_name("ipclab-driver");
	b->driver = getpid();
	cur_state = -1;
	set_state(DRIVER, ST_WAITING);

	int rc = IL_OK;
	sigset_t block, wait, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);  /* blocked, so the conductor inherits them pending, */
	sigaddset(&block, SIGQUIT); /* not lost, until its handlers are installed */
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	wait = old;
	sigdelset(&wait, SIGUSR1);
	sigdelset(&wait, SIGUSR2);
	sigdelset(&wait, SIGTSTP);
	sigdelset(&wait, SIGCHLD);
	sigaddset(&wait, SIGINT);
	sigaddset(&wait, SIGQUIT);
	set_disposition(SIGINT, SIG_IGN);  /* the conductor's keys */
	set_disposition(SIGQUIT, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_mask = block;
	sa.sa_flags = SA_NOCLDSTOP;
	if (set_handler(SIGUSR1, driver_on_usr, &block) < 0 || set_handler(SIGUSR2, driver_on_usr, &block) < 0 ||
	    set_handler(SIGTSTP, driver_on_tstp, &block) < 0 || sigaction(SIGCHLD, &sa, NULL) < 0) {
		il_errno("driver: sigaction failed");
		(void)snprintf(b->why, sizeof(b->why), "driver: sigaction failed: %s", strerror(errno));
		rc = IL_FAIL;
		goto out;
	}

	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		il_errno("driver: pipe failed");
		(void)snprintf(b->why, sizeof(b->why), "driver: pipe failed: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		goto out;
	}
	ready_rd = rp[0];
	ready_wr = rp[1];
	struct il_peer peer;
	rc = il_spawn(&peer, IL_MODE_PROCESS, -1, conductor_main, b);
	(void)close(rp[1]);
	if (rc != IL_OK) {
		(void)close(rp[0]);
		(void)snprintf(b->why, sizeof(b->why), "driver: cannot fork the conductor");
		goto out;
	}
	b->conductor = peer.pid;
	char c;
	ssize_t n;
	while ((n = read(rp[0], &c, 1)) < 0 && errno == EINTR)
		;
	(void)close(rp[0]);
	if (n == 1) {
		b->t_ready = il_now_ns();
		if (effect_wr >= 0)
			write_all(effect_wr, "R", 1);
		il_info("bus ready: driver %d, conductor %d, process group %d; %s", (int)b->driver,
			(int)b->conductor, (int)getpgrp(),
			effect_wr >= 0 ? "feeding the script" :
			"keys: Ctrl-C start, Ctrl-\\ too fast, Ctrl-Z next stop (the conductor gets off)");
	}
	/* Sleep in sigsuspend only: the handlers run there and nowhere else. */
	while (!b->conductor_reaped) {
		while (!got_chld)
			(void)sigsuspend(&wait);
		got_chld = 0;
		int st;
		pid_t r = waitpid(b->conductor, &st, WNOHANG);
		if (r == b->conductor) {
			b->t_conductor_reaped = il_now_ns();
			il_peer_untrack(r);
			peer.running = false;
			lttng_ust_tracepoint(ipclab_sig, child_reap, r, st, 0);
			b->conductor_reaped = 1;
			b->conductor_exited = WIFEXITED(st);
			b->conductor_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			b->conductor_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		} else if (r < 0 && errno != EINTR) {
			il_errno("driver: waitpid(%d) failed", (int)b->conductor);
			il_peer_abort(&peer);
			break;
		}
	}
	char how[96], line[256];
	describe_status(b->conductor_exited, b->conductor_status, b->conductor_signal, how, sizeof(how));
	rc = IL_OK;
	if (!b->conductor_reaped) {
		(void)snprintf(b->why, sizeof(b->why), "the driver could not reap the conductor");
		rc = IL_FAIL;
	} else if (cur_state != ST_AT_STATION) {
		(void)snprintf(b->why, sizeof(b->why), "the conductor (pid %d) got off before the station: %s",
			       (int)b->conductor, how);
		rc = IL_FAIL;
	} else if (!b->conductor_exited || b->conductor_status != 0) {
		(void)snprintf(b->why, sizeof(b->why), "the conductor (pid %d) %s", (int)b->conductor, how);
		rc = IL_FAIL;
	}
	set_state(DRIVER, ST_OFF);
	n = snprintf(line, sizeof(line), "driver: the conductor (pid %d) got off: %s; the driver (pid %d) leaves\n",
		     (int)b->conductor, how, (int)b->driver);
	write_all(b->out_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
out:
	/* Keys after the ride change nothing: keep them from stopping or killing us. */
	set_disposition(SIGTSTP, SIG_IGN);
	set_disposition(SIGUSR1, SIG_DFL);
	set_disposition(SIGUSR2, SIG_DFL);
	set_disposition(SIGCHLD, SIG_DFL);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	b->driver_rc = rc;
	b->t_driver_exit = il_now_ns();
	return rc;
}

/* Script mode, in the forked driver: a new process group, then the driver's life. */
static int driver_child(void *arg)
{
	struct bus *b = arg;
	if (setpgid(0, 0) < 0) {
		il_errno("driver: setpgid failed");
		return IL_FAIL;
	}
	(void)close(effect_rd);
	effect_rd = -1;
	return driver_main(b);
}

/* Reads one byte, retrying on EINTR; returns the byte, or -1 at EOF or error. */
static int read_byte(int fd)
{
	unsigned char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? c : -1;
}

/* Script mode: fork the driver into its own group, feed the keys, reap the driver.
 * Returns the exit code; *drv_status gets the driver's raw wait status (-1 if none). */
static int run_script(struct bus *b, const int *keys, int nkeys, int *drv_status, uint64_t *t_drv_reaped)
{
	int ep[2];
	*drv_status = -1;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		il_errno("pipe failed");
		return il_exit_for_errno(errno);
	}
	effect_rd = ep[0];
	effect_wr = ep[1];
	/* If the driver dies, its orphaned conductor is reparented to us and reaped here. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct il_peer drv;
	int rc = il_spawn(&drv, IL_MODE_PROCESS, -1, driver_child, b);
	(void)close(ep[1]);
	effect_wr = -1;
	if (rc != IL_OK) {
		(void)close(ep[0]);
		effect_rd = -1;
		(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
		return rc;
	}
	(void)setpgid(drv.pid, drv.pid); /* both sides, so kill(-pgid) cannot race the child */
	b->pgid = drv.pid;
	il_guard_set_pgid(drv.pid);
	il_trace_init_thread();

	int c = read_byte(ep[0]);
	if (c != 'R') {
		il_fail("the bus ended before it was ready");
		rc = IL_FAIL;
	}
	for (int i = 0; rc == IL_OK && i < nkeys; i++) {
		if (i > 0 && (c = read_byte(ep[0])) != 'L') {
			il_fail("the bus ended after %d of %d keys", i, nkeys);
			rc = IL_FAIL;
			break;
		}
		b->rec[i].t_sent = il_now_ns();
		lttng_ust_tracepoint(ipclab_sig, sig_send, keys[i], (uint64_t)i, -b->pgid);
		if (kill(-b->pgid, keys[i]) < 0) {
			il_errno("kill(-%d, %s) failed", (int)b->pgid, sig_short(keys[i]));
			rc = IL_FAIL;
		}
	}
	if (rc == IL_OK && read_byte(ep[0]) != 'L') {
		il_fail("no line after the last key");
		rc = IL_FAIL;
	}
	/* EOF: the driver and the conductor have both closed the pipe, i.e. exited. A
	 * failure above kills the group instead, so this never waits on a stuck bus. */
	if (rc != IL_OK)
		(void)kill(-b->pgid, SIGKILL);
	while (read_byte(ep[0]) >= 0)
		;
	(void)close(ep[0]);
	effect_rd = -1;
	int st;
	pid_t r;
	while ((r = waitpid(drv.pid, &st, 0)) < 0 && errno == EINTR)
		;
	*t_drv_reaped = il_now_ns();
	il_peer_untrack(drv.pid);
	il_guard_set_pgid(0);
	if (r == drv.pid)
		*drv_status = st;
	/* Anything reparented to us (the conductor, if the driver died first). */
	while ((r = waitpid(-1, NULL, 0)) > 0 || (r < 0 && errno == EINTR))
		;
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	return rc;
}

static json_t *ns_or_null(uint64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

static int expected_line(int key)
{
	return key == SIGINT ? LINE_START : key == SIGQUIT ? LINE_FAST : LINE_ARRIVE;
}

static int bus_run(int argc, char **argv)
{
	int lang = 0;
	const char *script = NULL;
	const struct il_opt opts[] = {
		{ "lang", IL_OPT_CHOICE, "L", "language of the lines (default zh)", 0, 0, lang_names, &lang },
		{ "script", IL_OPT_STR, "KEYS", "no keyboard: send these keys (INT|QUIT|TSTP, comma-separated, "
		  "TSTP last, e.g. INT,QUIT,INT,TSTP) to the bus in its own process group", 0, 0, NULL, &script },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "The driver/conductor bus (the OS course homework). The driver (parent) forks the\n"
			       "conductor (child). Ctrl-C: the conductor sends SIGUSR1, the driver prints 'starting'.\n"
			       "Ctrl-\\: the conductor sends SIGUSR2, the driver prints 'too fast'. Ctrl-Z: the driver\n"
			       "sends SIGUSR1, the conductor announces the station and gets off; the driver reaps it\n"
			       "and leaves. Interactive by default: type the keys in the terminal (without one: exit\n"
			       "4). --script sends the keys itself, each after the previous line appeared. Lines go\n"
			       "to stdout (to stderr when --json writes to stdout).",
			       0, opts);
	if (prc != IL_RUN)
		return prc;
	int keys[IL_BUS_MAX_KEYS], nkeys = 0;
	if (script) {
		char why[160];
		nkeys = il_bus_parse_script(script, keys, why, sizeof(why));
		if (nkeys < 0) {
			return il_ctx_usage(&x, "invalid value '%s' for --script (expected keys INT|QUIT|TSTP separated "
					    "by commas, ending with TSTP): %s", script, why);
		}
	}
	const struct il_common *c = &x.c;
	if (!script) {
		/* The keys come from the controlling terminal, to its foreground process group. */
		const char *why = NULL;
		struct termios tio;
		if (!isatty(STDIN_FILENO))
			why = "standard input is not a terminal, so nobody can type Ctrl-C, Ctrl-\\ or Ctrl-Z";
		else if (tcgetpgrp(STDIN_FILENO) != getpgrp())
			why = "this is not the terminal's foreground job, so its keys go to another process group";
		else if (tcgetattr(STDIN_FILENO, &tio) == 0 && !(tio.c_lflag & ISIG))
			why = "the terminal has ISIG off (stty -isig), so its keys are not signals";
		if (why) {
			il_err("interactive mode needs a terminal: %s; give --script KEYS (e.g. --script INT,QUIT,TSTP)", why);
			il_jset(x.results, "unsupported", json_string(why));
			return il_ctx_finish(&x, IL_UNSUP);
		}
	}
	il_jset(x.params, "lang", json_string(lang_names[lang]));
	il_jset(x.params, "script", script ? json_string(script) : json_null());
	il_jset(x.params, "mode", json_string(script ? "script" : "interactive"));

	struct bus *b = il_shared_alloc(sizeof(*b));
	if (!b) {
		il_errno("cannot map shared memory");
		return il_ctx_finish(&x, IL_NORES);
	}
	B = b;
	got_chld = leave = 0;
	b->lang = lang;
	b->out_fd = c->json && !c->json_file ? STDERR_FILENO : STDOUT_FILENO;
	effect_wr = effect_rd = ready_rd = ready_wr = -1;
	for (int i = 0; i < IL_BUS_MAX_KEYS; i++)
		b->rec[i].line = LINE_NONE;
	(void)fflush(NULL);
	set_disposition(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would auto-reap our children */
	il_guard_install((unsigned)c->timeout_s);

	int rc, drv_status = -1;
	uint64_t t_drv_reaped = 0;
	if (script) {
		rc = run_script(b, keys, nkeys, &drv_status, &t_drv_reaped);
	} else {
		b->pgid = getpgrp();
		rc = driver_main(b);
	}
	il_guard_disarm();

	/* Checks: every key made its line, in order; the conductor got off first, cleanly. */
	char how[96];
	describe_status(b->conductor_exited, b->conductor_status, b->conductor_signal, how, sizeof(how));
	bool driver_ok;
	char dhow[96] = "";
	if (script) {
		if (drv_status < 0)
			(void)snprintf(dhow, sizeof(dhow), "not reaped");
		else
			describe_status(WIFEXITED(drv_status), WIFEXITED(drv_status) ? WEXITSTATUS(drv_status) : -1,
					WIFSIGNALED(drv_status) ? WTERMSIG(drv_status) : 0, dhow, sizeof(dhow));
		driver_ok = drv_status >= 0 && WIFEXITED(drv_status) && WEXITSTATUS(drv_status) == 0;
	} else {
		(void)snprintf(dhow, sizeof(dhow), "returned %d", b->driver_rc);
		driver_ok = b->driver_rc == IL_OK;
	}
	if (!driver_ok && b->why[0])
		il_fail("%s", b->why);
	else if (!driver_ok)
		il_fail("the driver %s", dhow);
	if (!driver_ok && rc == IL_OK)
		rc = IL_FAIL;
	bool first = b->conductor_reaped && b->t_conductor_exit && b->t_conductor_exit <= b->t_conductor_reaped &&
		     b->t_conductor_reaped <= b->t_driver_exit;
	if (rc == IL_OK && !first) {
		il_fail("the conductor did not get off before the driver left");
		rc = IL_FAIL;
	}
	uint32_t nrec = b->keys < IL_BUS_MAX_KEYS ? b->keys : IL_BUS_MAX_KEYS;
	if (script && rc == IL_OK) {
		if (b->keys != (uint32_t)nkeys || b->lines != (uint32_t)nkeys) {
			il_fail("%d keys sent, %u received, %u lines printed", nkeys, b->keys, b->lines);
			rc = IL_FAIL;
		}
		for (int i = 0; rc == IL_OK && i < nkeys; i++)
			if (b->rec[i].key_signo != keys[i] || b->rec[i].line != expected_line(keys[i])) {
				il_fail("key %d (%s) was received as %s and printed line %d", i + 1, sig_short(keys[i]),
					sig_short(b->rec[i].key_signo), b->rec[i].line);
				rc = IL_FAIL;
			}
	}
	if (!script && b->keys > IL_BUS_MAX_KEYS)
		il_ctx_warn(&x, "%u keys; only the first %d are recorded", b->keys, IL_BUS_MAX_KEYS);

	/* The result. */
	struct il_hist *h = malloc(sizeof(*h));
	json_t *jkeys = json_array();
	uint32_t missing = 0;
	if (h)
		il_hist_init(h, HIST_MAX_NS);
	for (uint32_t i = 0; i < nrec; i++) {
		const struct key_rec *r = &b->rec[i];
		int ksig = r->key_signo ? r->key_signo : (script && (int)i < nkeys ? keys[i] : 0);
		uint64_t from = r->t_sent ? r->t_sent : r->t_recv;
		bool printed = r->line != LINE_NONE && r->t_printed && from;
		if (!printed && !r->ignored)
			missing++;
		if (printed && h)
			il_hist_add(h, r->t_printed - from);
		const char *kname = ksig == SIGINT ? "INT" : ksig == SIGQUIT ? "QUIT" : ksig == SIGTSTP ? "TSTP" : "?";
		const char *fwd_to = r->receiver == CONDUCTOR ? "driver" : "conductor";
		json_t *o = json_pack("{sI ss ss ss}", "index", (json_int_t)i, "key", kname,
				      "key_signal", ksig == SIGINT ? "SIGINT" : ksig == SIGQUIT ? "SIGQUIT" : ksig == SIGTSTP ? "SIGTSTP" : "?",
				      "received_by", r->key_signo ? role_names[r->receiver] : "nobody");
		il_jset(o, "signal_sent", r->fwd_signo ? json_sprintf("SIG%s", sig_short(r->fwd_signo)) : json_null());
		il_jset(o, "sent_by", r->fwd_signo ? json_string(role_names[r->receiver]) : json_null());
		il_jset(o, "sent_to", r->fwd_signo ? json_string(fwd_to) : json_null());
		il_jset(o, "printed_by", printed ? json_string(role_names[r->printer]) : json_null());
		il_jset(o, "line", printed ? json_string(line_text(r->line)) : json_null());
		il_jset(o, "latency_ns", printed ? json_integer((json_int_t)(r->t_printed - from)) : json_null());
		il_jset(o, "latency_from", json_string(r->t_sent ? "key_sent" : "key_received"));
		il_jset(o, "ignored", json_boolean(r->ignored));
		il_jset(o, "t_key_sent_ns", ns_or_null(r->t_sent));
		il_jset(o, "t_key_received_ns", ns_or_null(r->t_recv));
		il_jset(o, "t_forward_sent_ns", ns_or_null(r->t_fwd));
		il_jset(o, "t_forward_received_ns", ns_or_null(r->t_fwd_recv));
		il_jset(o, "t_printed_ns", ns_or_null(r->t_printed));
		(void)json_array_append_new(jkeys, o);
	}
	if (!script && missing)
		il_ctx_warn(&x, "%u key(s) printed no line: a second key of the same kind arrived while the "
			    "first was pending (standard signals do not queue)", missing);
	json_t *jstates = json_array();
	uint32_t ns = b->nstates < MAX_STATES ? b->nstates : MAX_STATES;
	for (uint32_t i = 0; i < ns; i++)
		(void)json_array_append_new(jstates, json_pack("{ss ss sI}", "role", role_names[b->states[i].role],
			"state", state_names[b->states[i].state], "t_ns", (json_int_t)b->states[i].t));
	il_jset(x.results, "keys", jkeys);
	il_jset(x.results, "keys_received", json_integer(b->keys));
	il_jset(x.results, "lines_printed", json_integer(b->lines));
	il_jset(x.results, "key_to_line", h ? il_json_summary(h) : NULL);
	il_jset(x.results, "states", jstates);
	il_jset(x.results, "process_group", json_integer(b->pgid));
	il_jset(x.results, "driver_pid", json_integer(b->driver));
	il_jset(x.results, "conductor_pid", json_integer(b->conductor));
	json_t *cend = json_pack("{sI sb ss ss}", "pid", (json_int_t)b->conductor, "reaped", b->conductor_reaped,
				 "how", b->conductor_reaped ? how : "not reaped", "reaped_by", "driver");
	il_jset(cend, "exit_status", b->conductor_reaped && b->conductor_exited ? json_integer(b->conductor_status) : json_null());
	il_jset(cend, "signal", b->conductor_signal ? json_integer(b->conductor_signal) : json_null());
	il_jset(cend, "t_exit_ns", ns_or_null(b->t_conductor_exit));
	il_jset(cend, "t_reaped_ns", ns_or_null(b->t_conductor_reaped));
	il_jset(x.results, "conductor_end", cend);
	json_t *dend = json_pack("{sI ss ss}", "pid", (json_int_t)b->driver, "how", dhow,
				 "reaped_by", script ? "ipclab (the feeder)" : "none: the driver is this process");
	il_jset(dend, "exit_status", script ? (drv_status >= 0 && WIFEXITED(drv_status) ? json_integer(WEXITSTATUS(drv_status)) : json_null())
					    : json_integer(b->driver_rc));
	il_jset(dend, "t_exit_ns", ns_or_null(b->t_driver_exit));
	il_jset(dend, "t_reaped_ns", ns_or_null(t_drv_reaped));
	il_jset(x.results, "driver_end", dend);
	il_jset(x.results, "exit_order", json_pack("[{ss sI so} {ss sI so}]", "role", "conductor",
		"pid", (json_int_t)b->conductor, "t_exit_ns", ns_or_null(b->t_conductor_exit),
		"role", "driver", "pid", (json_int_t)b->driver, "t_exit_ns", ns_or_null(b->t_driver_exit)));
	il_jset(x.results, "conductor_exited_first", json_boolean(first));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		printf("signal bus: %s%s, lang %s, process group %d%s\n", script ? "script " : "interactive",
		       script ? script : "", lang_names[lang], (int)b->pgid, il_trace_loaded() ? ", traced" : "");
		printf("%3s  %-4s  %-9s  %-7s  %-9s  %-10s  %12s  %s\n", "#", "key", "caught by", "sends", "to",
		       "printed by", "key->line us", "line");
		for (uint32_t i = 0; i < nrec; i++) {
			const struct key_rec *r = &b->rec[i];
			uint64_t from = r->t_sent ? r->t_sent : r->t_recv;
			bool printed = r->line != LINE_NONE && r->t_printed && from;
			char lat[32] = "-";
			if (printed)
				(void)snprintf(lat, sizeof(lat), "%.1f", (double)(r->t_printed - from) / 1000.0);
			printf("%3u  %-4s  %-9s  %-7s  %-9s  %-10s  %12s  %s\n", i + 1,
			       r->key_signo ? sig_short(r->key_signo) : "?",
			       r->key_signo ? role_names[r->receiver] : "-",
			       r->fwd_signo ? sig_short(r->fwd_signo) : "-",
			       r->fwd_signo ? (r->receiver == CONDUCTOR ? "driver" : "conductor") : "-",
			       printed ? role_names[r->printer] : "-", lat,
			       printed ? line_text(r->line) : r->ignored ? "(ignored)" : "(none)");
		}
		printf("conductor %d %s%s; driver %d %s\n", (int)b->conductor, how,
		       first ? ", got off first" : ", did NOT get off first", (int)b->driver, dhow);
		(void)fflush(stdout);
	}
	free(h);
	il_shared_free(b, sizeof(*b));
	B = NULL;
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_signal_bus = {
	.group = "signal",
	.name = "bus",
	.summary = "driver/conductor bus: Ctrl-C/Ctrl-\\/Ctrl-Z forwarded as SIGUSR1/SIGUSR2 between two processes",
	.run = bus_run,
};
