/* bus_roles.c - the driver and the conductor of "ipclab signal bus".
 *
 * The driver forks the conductor. Ctrl-C (SIGINT) and Ctrl-\ (SIGQUIT) are the
 * conductor's keys: it forwards them to the driver as SIGUSR1 / SIGUSR2, and the driver
 * prints "start" / "too fast". Ctrl-Z (SIGTSTP) is the driver's key: it forwards it to
 * the conductor as SIGUSR1; the conductor announces the station and gets off (exits);
 * the driver reaps it, says how it ended, and leaves. A terminal sends each key to the
 * whole foreground process group, so each role ignores the other's keys, and the
 * conductor ignores SIGTSTP so Ctrl-Z never stops the job (signal(7), termios(3) ISIG).
 *
 * Each role keeps its signals blocked and waits in sigsuspend() (no lost wake-up between
 * testing a flag and sleeping); handlers do only async-signal-safe work: a clock read,
 * stores into MAP_SHARED memory, write(2), kill(2) and tracepoints (signal-safe once the
 * thread is registered: il_trace_init_thread() at the start of each role). Events:
 * ipclab_sig:sig_send and sig_receive for every signal a role sends or receives (seq:
 * the key index), bus_state per change, child_reap when the driver reaps. */
#include "bus.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/spawn.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const bus_role_names[] = { "driver", "conductor", "ipclab", "terminal" };
const char *const bus_lang_names[] = { "zh", "en", NULL };
static const char *const lines_zh[] = { "老司机开车了", "车速有点快，系好安全带", "到站了请下车" };
static const char *const lines_en[] = { "The old driver is starting the bus",
					"We're going a bit fast, fasten your seat belts",
					"We've arrived at the station, please get off" };

static struct bus *B;                 /* the shared bus, inherited by both roles */
/* Per-process descriptors (plain statics: each process closes its own copies). */
static int effect_wr = -1;            /* script mode: a byte per ready/line to the feeder */
static int ready_rd = -1, ready_wr = -1;   /* conductor -> driver: "my handlers are installed" */
static int cur_state = -1;            /* this process's role state (each role's own copy) */
static volatile sig_atomic_t got_chld, leave;

void bus_roles_init(struct bus *b, int effect)
{
	B = b;
	effect_wr = effect;
	ready_rd = ready_wr = -1;
	got_chld = leave = 0;
}

const char *bus_line_text(const struct bus *b, int line)
{
	if (line < LINE_START || line > LINE_ARRIVE)
		return NULL;
	return b->lang == 1 ? lines_en[line] : lines_zh[line];
}

static struct bus_key *rec_at(uint32_t seq)
{
	return seq < IL_BUS_MAX_KEYS ? &B->rec[seq] : NULL;
}

/* Writes a line or a byte (async-signal-safe: one write(2) for a whole line on a tty or
 * pipe); a failure to tell is not the bus's to report. */
static void write_all(int fd, const char *s, size_t n)
{
	(void)il_write_full(fd, s, n);
}

/* Records and traces a state change of this process's role (signal-safe). */
static void set_state(int role, int st)
{
	if (cur_state == st)
		return;
	cur_state = st;
	uint32_t i = __atomic_fetch_add(&B->nstates, 1, __ATOMIC_RELAXED);
	if (i < BUS_MAX_STATES) {
		B->states[i].role = role;
		B->states[i].state = st;
		B->states[i].t = il_now_ns();
	}
	lttng_ust_tracepoint(ipclab_sig, bus_state, bus_role_names[role], bus_state_name(st));
}

/* Prints one line with a single write(2), stamps it, tells the feeder (signal-safe). */
static void print_line(int line, struct bus_key *r, int role)
{
	char buf[128];
	const char *t = bus_line_text(B, line);
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

/* A key's signal reached role `who` at t (signal-safe): takes the key's seq (in *seq),
 * traces the receipt and records it; the key's record, NULL past IL_BUS_MAX_KEYS. */
static struct bus_key *key_received(int sig, const siginfo_t *si, int who, uint64_t t, uint32_t *seq)
{
	*seq = __atomic_fetch_add(&B->keys, 1, __ATOMIC_ACQ_REL);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, *seq, si ? si->si_pid : 0, "handler", 0, 0);
	struct bus_key *r = rec_at(*seq);
	if (r) {
		r->key_signo = sig;
		r->t_recv = t;
		r->receiver = who;
	}
	return r;
}

/* Forwards key seq as signal fwd to process `to`, its seq published in *slot first for
 * the receiver's handler (signal-safe). */
static void forward(struct bus_key *r, uint32_t seq, int fwd, uint32_t *slot, pid_t to)
{
	if (r)
		r->fwd_signo = fwd;
	__atomic_store_n(slot, seq, __ATOMIC_RELEASE);
	lttng_ust_tracepoint(ipclab_sig, sig_send, fwd, seq, to);
	if (r)
		r->t_fwd = il_now_ns();
	(void)kill(to, fwd);
}

/* A forwarded signal reached its role at t (signal-safe): the key's seq from *slot (its
 * sender's forward()), traced and recorded; the key's record, NULL past IL_BUS_MAX_KEYS. */
static struct bus_key *fwd_received(int sig, const siginfo_t *si, const uint32_t *slot, uint64_t t)
{
	uint32_t seq = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, si ? si->si_pid : 0, "handler", 0, 0);
	struct bus_key *r = rec_at(seq);
	if (r)
		r->t_fwd_recv = t;
	return r;
}

/* Conductor: Ctrl-C / Ctrl-\ -> SIGUSR1 / SIGUSR2 to the driver. */
static void conductor_on_key(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	uint32_t seq;
	struct bus_key *r = key_received(sig, si, CONDUCTOR, t, &seq);
	int fwd = sig == SIGINT ? SIGUSR1 : SIGUSR2;
	forward(r, seq, fwd, &B->seq_to_driver[fwd == SIGUSR1 ? 0 : 1], B->driver);
	errno = saved;
}

/* Conductor: SIGUSR1 from the driver -> announce the station, then get off. */
static void conductor_on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uint64_t t = il_now_ns();
	struct bus_key *r = fwd_received(sig, si, &B->seq_to_conductor, t);
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
	struct bus_key *r = fwd_received(sig, si, &B->seq_to_driver[k], t);
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
	uint32_t seq;
	struct bus_key *r = key_received(sig, si, DRIVER, t, &seq);
	if (cur_state == ST_AT_STATION || cur_state == ST_OFF) {
		if (r)
			r->ignored = 1;
		errno = saved;
		return;
	}
	set_state(DRIVER, ST_AT_STATION);
	forward(r, seq, SIGUSR1, &B->seq_to_conductor, B->conductor);
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

/* The driver's signals: its keys and the conductor's blocked (the conductor inherits
 * them pending, not lost, until its handlers are installed), handlers installed, the
 * conductor's keys ignored. *wait is the mask to sleep with. An exit code, logged. */
static int driver_setup(sigset_t *old, sigset_t *wait)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	(void)sigprocmask(SIG_BLOCK, &block, old);
	*wait = *old;
	sigdelset(wait, SIGUSR1);
	sigdelset(wait, SIGUSR2);
	sigdelset(wait, SIGTSTP);
	sigdelset(wait, SIGCHLD);
	sigaddset(wait, SIGINT);
	sigaddset(wait, SIGQUIT);
	set_disposition(SIGINT, SIG_IGN); /* the conductor's keys */
	set_disposition(SIGQUIT, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_mask = block;
	sa.sa_flags = SA_NOCLDSTOP;
	if (set_handler(SIGUSR1, driver_on_usr, &block) < 0 || set_handler(SIGUSR2, driver_on_usr, &block) < 0 ||
	    set_handler(SIGTSTP, driver_on_tstp, &block) < 0 || sigaction(SIGCHLD, &sa, NULL) < 0) {
		il_errno("driver: sigaction failed");
		return IL_FAIL;
	}
	return IL_OK;
}

/* Forks the conductor and waits until its handlers are installed. An exit code, logged. */
static int driver_start_conductor(struct bus *b, struct il_peer *peer)
{
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		int e = errno;
		il_errno("driver: pipe failed");
		return il_exit_for_errno(e);
	}
	ready_rd = rp[0];
	ready_wr = rp[1];
	int rc = il_spawn(peer, IL_MODE_PROCESS, -1, conductor_main, b);
	(void)close(rp[1]);
	if (rc != IL_OK) {
		(void)close(rp[0]);
		return rc;
	}
	b->conductor = peer->pid;
	char c;
	const bool ready = il_read_full(rp[0], &c, 1) == 0;
	(void)close(rp[0]);
	if (ready) {
		b->t_ready = il_now_ns();
		if (effect_wr >= 0)
			write_all(effect_wr, "R", 1);
		il_info("bus ready: driver %d, conductor %d, process group %d; %s", (int)b->driver,
			(int)b->conductor, (int)getpgrp(),
			effect_wr >= 0 ? "feeding the script" :
			"keys: Ctrl-C start, Ctrl-\\ too fast, Ctrl-Z next stop (the conductor gets off)");
	}
	return IL_OK;
}

/* Sleeps in sigsuspend only (the handlers run there and nowhere else) until the
 * conductor has exited, and reaps it. IL_OK, or IL_FAIL (logged) if waitpid failed. */
static int driver_wait_conductor(struct bus *b, struct il_peer *peer, const sigset_t *wait)
{
	while (!b->conductor_reaped) {
		while (!got_chld)
			(void)sigsuspend(wait);
		got_chld = 0;
		int st;
		pid_t r = il_waitpid(b->conductor, &st, WNOHANG);
		if (r == b->conductor) {
			b->t_conductor_reaped = il_now_ns();
			il_peer_untrack(r);
			peer->running = false;
			lttng_ust_tracepoint(ipclab_sig, child_reap, r, st, 0);
			b->conductor_reaped = 1;
			b->conductor_wstatus = st;
		} else if (r < 0) {
			errno = -r;
			il_errno("driver: waitpid(%d) failed", (int)b->conductor);
			il_peer_abort(peer);
			return IL_FAIL;
		}
	}
	return IL_OK;
}

/* The driver's verdict on the reaped conductor (one FAIL line), then its last line. */
static int driver_leave(struct bus *b)
{
	char how[96], line[256];
	int rc = IL_OK;
	const int st = b->conductor_wstatus;
	(void)il_wait_status_text(st, how, sizeof(how));
	if (cur_state != ST_AT_STATION) {
		il_fail("the conductor (pid %d) got off before the station: %s", (int)b->conductor, how);
		rc = IL_FAIL;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		il_fail("the conductor (pid %d) %s", (int)b->conductor, how);
		rc = IL_FAIL;
	}
	set_state(DRIVER, ST_OFF);
	int n = snprintf(line, sizeof(line), "driver: the conductor (pid %d) got off: %s; the driver (pid %d) leaves\n",
			 (int)b->conductor, how, (int)b->driver);
	write_all(b->out_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return rc;
}

int bus_driver_main(struct bus *b)
{
	il_trace_init_thread();
	il_set_task_name("ipclab-driver");
	b->driver = getpid();
	cur_state = -1;
	set_state(DRIVER, ST_WAITING);
	sigset_t old, wait;
	struct il_peer peer;
	int rc = driver_setup(&old, &wait);
	if (rc == IL_OK)
		rc = driver_start_conductor(b, &peer);
	if (rc == IL_OK)
		rc = driver_wait_conductor(b, &peer, &wait);
	if (rc == IL_OK)
		rc = driver_leave(b);
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
