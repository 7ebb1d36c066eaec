/* latency.c - "ipclab signal latency": signal delivery latency between two peers
 * (processes or threads), by five ways of receiving, standard or real-time signals.
 *
 * Ping-pong: the initiator sends "ping" to the responder, which answers with "pong"
 * the same way; the initiator measures the round trip. One-way: the sender stores its
 * CLOCK_MONOTONIC time in shared memory just before the send call, the receiver reads
 * the clock at its first instruction after delivery (in the handler for handler and
 * sigsuspend, right after sigwaitinfo/sigtimedwait/read(signalfd) returns).
 * Every iteration, warm-up included, emits exactly two sig_send and two sig_receive
 * events. A dead responder is noticed through SIGCHLD (process mode), a failed peer
 * thread through a stop flag plus one wake-up signal (thread mode). */
#include "sigutil.h"
#include "../core/clock.h"
#include "../core/cleanup.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMON (IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST)
#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define TIMEDWAIT_NS (200 * 1000 * 1000) /* sigtimedwait: look at the peer this often */

enum method { M_HANDLER, M_SIGWAITINFO, M_SIGTIMEDWAIT, M_SIGNALFD, M_SIGSUSPEND };
static const char *const method_names[] = { "handler", "sigwaitinfo", "sigtimedwait", "signalfd",
					    "sigsuspend", NULL };
static const char *const signal_kinds[] = { "std", "rt", NULL };

enum { PING = 0, PONG = 1 }; /* direction: initiator -> responder, and back */

/* Shared between the two sides (MAP_SHARED in process mode). */
struct shared {
	struct il_barrier start;
	struct il_hist oneway_ab;       /* filled by the responder */
	volatile uint64_t t_send[2];    /* per direction: sender's clock just before sending */
	volatile uint64_t seq[2];       /* per direction: the iteration (std signals carry none) */
	volatile int stop;              /* a side failed: the other stops at its next wake-up */
	struct sigu_target to_init, to_resp;
	int resp_status;
	int cpu_start, cpu_end;         /* responder's observed CPU */
	char why[256];                  /* responder's failure, for the initiator to report */
};

/* What one delivery told the receiver. */
struct obs {
	uint64_t t, seq;
	int pid, code;
};

/* The handler's mailbox, per direction; in thread mode each direction has its own thread. */
struct slot {
	volatile sig_atomic_t got;
	uint64_t t, seq;
	int pid, code;
};

/* Run configuration, read by the handlers (set before any signal can arrive). */
static struct {
	int sig[2];
	bool rt;
	int method;
	uint64_t warmup;
	struct shared *sh;
} g;
static struct slot slots[2];
static volatile sig_atomic_t chld_seen;

/* sig_receive with the experiment's stamps of delivery seq received at t (0, 0 for a
 * warm-up delivery: the histograms get exactly the stamped ones). */
static void trace_receive(int sig, uint64_t seq, int pid, uint64_t t)
{
	const int dir = sig == g.sig[PING] ? PING : PONG;
	const bool timed = seq >= g.warmup;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, pid, method_names[g.method],
			     timed ? g.sh->t_send[dir] : 0, timed ? t : 0);
}

/* The measured handler: clock first, then the trace event, then the mailbox. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	uint64_t t = il_now_ns();
	int saved = errno;
	int dir = sig == g.sig[PING] ? PING : PONG;
	uint64_t seq = g.rt ? (uint64_t)(uintptr_t)si->si_value.sival_ptr : g.sh->seq[dir];
	trace_receive(sig, seq, si->si_pid, t);
	slots[dir].t = t;
	slots[dir].seq = seq;
	slots[dir].pid = si->si_pid;
	slots[dir].code = si->si_code;
	slots[dir].got = 1;
	errno = saved;
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	chld_seen = 1;
}

/* One side's receiving state. */
struct side {
	int dir;            /* the direction it receives */
	int sigfd;          /* M_SIGNALFD */
	sigset_t waitset;   /* sigwait*, signalfd: its signal (+ SIGCHLD when watching a child) */
	sigset_t suspmask;  /* M_SIGSUSPEND: the mask to sleep with */
	pid_t child;        /* process mode initiator: the responder to watch, else 0 */
};

enum wres { WR_OK, WR_STOP, WR_DEAD, WR_ERR };

/* Has the watched child exited (without reaping it: il_join does that), with no signal
 * of ours still pending? A child's last pong and its exit's SIGCHLD are pending together,
 * and SIGCHLD, a lower number, is dequeued first: the pong must still be taken. */
static bool child_gone(pid_t pid, int sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno != ECHILD)
			return false;
	} else if (si.si_pid != pid) {
		return false;
	}
	sigset_t pend;
	return sigpending(&pend) < 0 || !sigismember(&pend, sig);
}

/* Prepares a side's mask and descriptors, in the thread that will receive. The ping,
 * pong and SIGCHLD signals are blocked on entry (inherited from the spawning thread). */
static int side_setup(struct side *s, int dir, pid_t child)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->child = child;
	s->sigfd = -1;
	sigemptyset(&s->waitset);
	sigaddset(&s->waitset, g.sig[dir]);
	if (child)
		sigaddset(&s->waitset, SIGCHLD);
	(void)pthread_sigmask(SIG_SETMASK, NULL, &s->suspmask);
	sigdelset(&s->suspmask, g.sig[dir]);
	if (child)
		sigdelset(&s->suspmask, SIGCHLD);
	slots[dir].got = 0;
	if (g.method == M_HANDLER) {
		/* Delivered asynchronously at any moment: never blocked. */
		sigset_t un;
		sigemptyset(&un);
		sigaddset(&un, g.sig[dir]);
		if (child)
			sigaddset(&un, SIGCHLD);
		sigu_mask(SIG_UNBLOCK, &un);
	} else if (g.method == M_SIGNALFD) {
		s->sigfd = signalfd(-1, &s->waitset, SFD_CLOEXEC);
		if (s->sigfd < 0)
			return -1;
	}
	return 0;
}

static void side_teardown(struct side *s)
{
	if (s->sigfd >= 0)
		(void)close(s->sigfd);
	s->sigfd = -1;
}

/* Waits for the next signal of direction s->dir. WR_OK with *o filled, WR_STOP when the
 * peer asked to stop, WR_DEAD when the watched child exited, WR_ERR with errno. */
static enum wres wait_signal(struct side *s, struct obs *o)
{
	const int sig = g.sig[s->dir];
	struct slot *sl = &slots[s->dir];
	siginfo_t si;
	for (;;) {
		int r;
		switch (g.method) {
		case M_HANDLER:
		case M_SIGSUSPEND:
			if (sl->got) {
				sl->got = 0;
				o->t = sl->t;
				o->seq = sl->seq;
				o->pid = sl->pid;
				o->code = sl->code;
				return g.sh->stop ? WR_STOP : WR_OK;
			}
			if (g.sh->stop)
				return WR_STOP;
			if (chld_seen) {
				chld_seen = 0;
				if (s->child && child_gone(s->child, sig))
					return WR_DEAD;
			}
			if (g.method == M_HANDLER)
				(void)sched_yield(); /* let a same-CPU peer run; the handler interrupts us */
			else
				(void)sigsuspend(&s->suspmask); /* always -1/EINTR after a handler ran */
			continue;
		case M_SIGWAITINFO:
			r = sigwaitinfo(&s->waitset, &si);
			o->t = il_now_ns();
			break;
		case M_SIGTIMEDWAIT: {
			static const struct timespec to = { 0, TIMEDWAIT_NS };
			r = sigtimedwait(&s->waitset, &si, &to);
			o->t = il_now_ns();
			if (r < 0 && errno == EAGAIN) {
				if (g.sh->stop)
					return WR_STOP;
				if (s->child && child_gone(s->child, sig))
					return WR_DEAD;
				continue;
			}
			break;
		}
		case M_SIGNALFD: {
			struct signalfd_siginfo fi;
			ssize_t n = read(s->sigfd, &fi, sizeof(fi));
			o->t = il_now_ns();
			if (n != (ssize_t)sizeof(fi)) {
				if (n < 0 && errno == EINTR)
					continue;
				if (n >= 0)
					errno = EIO;
				return WR_ERR;
			}
			r = (int)fi.ssi_signo;
			memset(&si, 0, sizeof(si));
			si.si_pid = (pid_t)fi.ssi_pid;
			si.si_code = fi.ssi_code;
			si.si_value.sival_ptr = (void *)(uintptr_t)fi.ssi_ptr;
			break;
		}
		default:
			errno = EINVAL;
			return WR_ERR;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return WR_ERR;
		}
		if (r == SIGCHLD) {
			if (s->child && child_gone(s->child, sig))
				return WR_DEAD;
			continue;
		}
		o->seq = g.rt ? (uint64_t)(uintptr_t)si.si_value.sival_ptr : g.sh->seq[s->dir];
		o->pid = si.si_pid;
		o->code = si.si_code;
		trace_receive(sig, o->seq, o->pid, o->t); /* the handler emits its own */
		return g.sh->stop ? WR_STOP : WR_OK;
	}
}

/* Sends the signal of direction dir for iteration seq: trace, stamp, send. */
static int send_signal(const struct sigu_target *to, int dir, uint64_t seq)
{
	struct shared *sh = g.sh;
	lttng_ust_tracepoint(ipclab_sig, sig_send, g.sig[dir], seq, sigu_target_id(to));
	sh->seq[dir] = seq;
	sh->t_send[dir] = il_now_ns();
	return sigu_send(to, g.sig[dir], g.rt, seq);
}

/* A side failed: tell the other one to stop, and wake it (one untraced extra signal). */
static void stop_peer(const struct sigu_target *to, int dir)
{
	g.sh->stop = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	(void)sigu_send(to, g.sig[dir], g.rt, UINT64_MAX);
}

/* The si_code a receiver sees: glibc's sigwaitinfo/sigtimedwait rewrite the kernel's
 * SI_TKILL into SI_USER (sysdeps/unix/sysv/linux/sigtimedwait.c); signalfd and handlers
 * show the kernel's value. */
static int seen_code(int mode, bool queue)
{
	int code = sigu_expected_code(mode, queue);
	if (code == SI_TKILL && (g.method == M_SIGWAITINFO || g.method == M_SIGTIMEDWAIT))
		code = SI_USER;
	return code;
}

/* Checks what a delivery carried; returns NULL or what was wrong (in buf). */
static const char *check_obs(const struct obs *o, uint64_t seq, int want_pid, int want_code, char *buf,
			     size_t len)
{
	char a[32], b[32];
	if (o->seq != seq)
		(void)snprintf(buf, len, "expected seq %" PRIu64 ", got %" PRIu64, seq, o->seq);
	else if (o->code != want_code)
		(void)snprintf(buf, len, "si_code %s, expected %s", sigu_code_name(o->code, a, sizeof(a)),
			       sigu_code_name(want_code, b, sizeof(b)));
	else if (o->pid != want_pid)
		(void)snprintf(buf, len, "si_pid %d, expected %d", o->pid, want_pid);
	else
		return NULL;
	return buf;
}

struct run {
	struct shared *sh;
	int mode;
	uint64_t total, warmup;
};

/* The responder: wait for ping i, stamp the one-way latency, answer pong i. */
static int responder(void *arg)
{
	struct run *r = arg;
	struct shared *sh = r->sh;
	struct side s;
	int rc = IL_OK;

	il_set_task_name("ipclab-sigresp");
	il_trace_init_thread();
	sigu_target_self(&sh->to_resp, r->mode);
	if (side_setup(&s, PING, 0) < 0) {
		(void)snprintf(sh->why, sizeof(sh->why), "responder: signalfd failed: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
	}
	sh->resp_status = rc;
	sh->cpu_start = il_cpu_now();
	il_barrier_wait(&sh->start);
	const int want_pid = sh->to_init.pid, want_code = seen_code(r->mode, g.rt);
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		struct obs o;
		enum wres w = wait_signal(&s, &o);
		if (w == WR_STOP)
			break; /* the initiator reports why */
		if (w != WR_OK) {
			(void)snprintf(sh->why, sizeof(sh->why), "responder: waiting for ping %" PRIu64 " failed: %s", i,
				       strerror(errno));
			rc = IL_FAIL;
			break;
		}
		char bad[160];
		if (check_obs(&o, i, want_pid, want_code, bad, sizeof(bad))) {
			(void)snprintf(sh->why, sizeof(sh->why), "ping %" PRIu64 ": %s", i, bad);
			rc = IL_FAIL;
			break;
		}
		if (i >= r->warmup)
			il_hist_add(&sh->oneway_ab, o.t - sh->t_send[PING]);
		if (send_signal(&sh->to_init, PONG, i) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "responder: sending pong %" PRIu64 " failed: %s", i,
				       strerror(errno));
			rc = errno == EAGAIN ? IL_NORES : IL_FAIL;
		}
	}
	if (rc != IL_OK)
		stop_peer(&sh->to_init, PONG);
	sh->cpu_end = il_cpu_now();
	side_teardown(&s);
	sh->resp_status = rc;
	return rc;
}

struct repeat_result {
	struct il_hist rtt, oneway_ba;
	int cpu_start, cpu_end;
};

/* One repeat: spawn the responder, ping-pong, join. */
static int one_repeat(struct il_ctx *x, uint32_t rep, struct shared *sh, struct repeat_result *res)
{
	const struct il_common *c = &x->c;
	struct run r = { .sh = sh, .mode = c->mode, .total = c->warmup + c->iterations, .warmup = c->warmup };
	struct il_peer peer;
	char how[128];
	int rc = IL_OK;

	memset(sh, 0, sizeof(*sh));
	il_hist_init(&sh->oneway_ab, HIST_MAX_NS);
	il_hist_init(&res->rtt, HIST_MAX_NS);
	il_hist_init(&res->oneway_ba, HIST_MAX_NS);
	sigu_target_self(&sh->to_init, c->mode);
	slots[PING].got = slots[PONG].got = 0;
	chld_seen = 0;
	if (il_barrier_init(&sh->start, 2) < 0) {
		il_err("cannot create the start barrier");
		return IL_NORES;
	}
	if (il_pin_main(c->cpu[0], "the initiator") != IL_OK) {
		il_barrier_destroy(&sh->start);
		return IL_NORES;
	}
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, method_names[g.method], c->mode, rep,
			     c->iterations, c->warmup);
	if ((rc = il_spawn(&peer, c->mode, c->cpu[1], responder, &r)) != 0) {
		il_barrier_destroy(&sh->start);
		return rc;
	}
	struct side s;
	const pid_t child = c->mode == IL_MODE_PROCESS ? peer.pid : 0;
	if (side_setup(&s, PONG, child) < 0) {
		il_errno("signalfd failed");
		rc = il_exit_for_errno(errno);
	}
	res->cpu_start = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL;
	if (rc == IL_OK && sh->resp_status != IL_OK)
		rc = sh->resp_status;
	if (rc != IL_OK)
		stop_peer(&sh->to_resp, PING);

	const int want_pid = c->mode == IL_MODE_PROCESS ? peer.pid : getpid();
	const int want_code = seen_code(c->mode, g.rt);
	bool dead = false;
	for (uint64_t i = 0; rc == IL_OK && i < r.total; i++) {
		if (send_signal(&sh->to_resp, PING, i) < 0) {
			if (errno == ESRCH) {
				il_fail("ping %" PRIu64 ": the responder is gone", i);
				rc = IL_FAIL;
			} else {
				il_errno("sending ping %" PRIu64 " failed", i);
				rc = errno == EAGAIN ? IL_NORES : IL_FAIL;
			}
			break;
		}
		const uint64_t t0 = sh->t_send[PING];
		struct obs o;
		enum wres w = wait_signal(&s, &o);
		if (w == WR_DEAD) {
			dead = true;
			rc = IL_FAIL;
			break;
		}
		if (w == WR_STOP) {
			rc = sh->resp_status != IL_OK ? sh->resp_status : IL_FAIL;
			break;
		}
		if (w == WR_ERR) {
			il_errno("waiting for pong %" PRIu64 " failed", i);
			rc = IL_FAIL;
			break;
		}
		char bad[160];
		if (check_obs(&o, i, want_pid, want_code, bad, sizeof(bad))) {
			il_fail("pong %" PRIu64 ": %s", i, bad);
			rc = IL_FAIL;
			break;
		}
		if (i >= c->warmup) {
			il_hist_add(&res->rtt, o.t - t0);
			il_hist_add(&res->oneway_ba, o.t - sh->t_send[PONG]);
		}
	}
	if (rc != IL_OK && !dead && !sh->stop)
		stop_peer(&sh->to_resp, PING);
	res->cpu_end = il_cpu_now();
	side_teardown(&s);
	int prc = il_join(&peer, how, sizeof(how));
	if (*how)
		il_fail("the responder was %s", how);
	else if (prc != IL_OK && sh->why[0])
		il_fail("%s", sh->why);
	else if (dead)
		il_fail("the responder exited early (status %d)", prc);
	if (rc == IL_OK)
		rc = prc;
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, method_names[g.method], rep, rc);
	il_barrier_destroy(&sh->start);
	return rc;
}

static json_t *cpu_pair(int a, int b)
{
	return json_pack("[ii]", a, b);
}

static int latency_run(int argc, char **argv)
{
	int method = M_SIGWAITINFO, kind = 0;
	const struct il_opt opts[] = {
		{ "method", IL_OPT_CHOICE, "M", "how the receiver takes the signal (default sigwaitinfo)", 0, 0, method_names, &method },
		{ "signal", IL_OPT_CHOICE, "S",
		  "std (default): SIGUSR1/SIGUSR2 by kill/tgkill; rt: SIGRTMIN+1/+2 by sigqueue/pthread_sigqueue, seq as value",
		  0, 0, signal_kinds, &kind },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 10000;
	x.c.warmup = 1000;
	int prc = il_ctx_parse(&x, "Signal delivery latency between two processes or threads: ping-pong round trip\n"
			       "and one-way (sender's timestamp in shared memory, receiver's clock read at its first\n"
			       "instruction after delivery). Methods: handler (never blocked; the receiver polls a flag\n"
			       "with sched_yield), sigwaitinfo, sigtimedwait, signalfd, sigsuspend (handler + atomic unblock).",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const bool rt = kind == 1;
	memset(&g, 0, sizeof(g));
	g.method = method;
	g.rt = rt;
	g.warmup = c->warmup;
	g.sig[PING] = rt ? SIGRTMIN + 1 : SIGUSR1;
	g.sig[PONG] = rt ? SIGRTMIN + 2 : SIGUSR2;
	char n1[32], n2[32];
	il_jset(x.params, "method", json_string(method_names[method]));
	il_jset(x.params, "signal", json_string(signal_kinds[kind]));
	il_jset(x.params, "ping_signal", json_string(sigu_name(g.sig[PING], n1, sizeof(n1))));
	il_jset(x.params, "pong_signal", json_string(sigu_name(g.sig[PONG], n2, sizeof(n2))));
	il_jset(x.params, "send_call", json_string(sigu_send_call(c->mode, rt)));

	il_guard_install((unsigned)c->timeout_s);
	il_trace_init_thread(); /* our handler may run on this thread and trace */
	uint64_t clock_cost = il_clock_read_cost_ns();
	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct repeat_result *res = calloc(1, sizeof(*res));
	struct il_hist *rtt = malloc(sizeof(*rtt)), *ab = malloc(sizeof(*ab)), *ba = malloc(sizeof(*ba));
	struct il_hist *ow = malloc(sizeof(*ow));
	struct il_repeats spread = { 0 };
	int rc = IL_OK;
	json_t *reps = json_array();
	sigset_t ours, oldmask;
	struct sigaction sa, old_ping, old_pong, old_chld;
	bool installed = false;
	if (!sh || !res || !rtt || !ab || !ba || !ow || il_repeats_init(&spread, c->repeat) < 0) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	g.sh = sh;
	il_hist_init(rtt, HIST_MAX_NS);
	il_hist_init(ab, HIST_MAX_NS);
	il_hist_init(ba, HIST_MAX_NS);
	il_hist_init(ow, HIST_MAX_NS);

	/* Blocked here first, so the peer inherits the mask and nothing arrives early;
	 * each side then opens what its method needs. */
	sigemptyset(&ours);
	sigaddset(&ours, g.sig[PING]);
	sigaddset(&ours, g.sig[PONG]);
	sigaddset(&ours, SIGCHLD);
	(void)pthread_sigmask(SIG_BLOCK, &ours, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(g.sig[PING], &sa, &old_ping);
	(void)sigaction(g.sig[PONG], &sa, &old_pong);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	(void)sigaction(SIGCHLD, &sa, &old_chld);
	installed = true;

	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s %s: repeat %u/%" PRIu64, method_names[method], signal_kinds[kind],
			c->mode == IL_MODE_THREAD ? "thread" : "process", rep + 1, c->repeat);
		rc = one_repeat(&x, rep, sh, res);
		(void)pthread_sigmask(SIG_BLOCK, &ours, NULL); /* the handler method opened some */
		(void)sigu_drain(&ours);                       /* the responder's exit SIGCHLD */
		if (rc != IL_OK)
			break;
		il_hist_merge(rtt, &res->rtt);
		il_hist_merge(ab, &sh->oneway_ab);
		il_hist_merge(ba, &res->oneway_ba);
		il_repeats_add(&spread, &res->rtt);
		(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{soso}}", "repeat", (json_int_t)rep,
			"rtt_mean", il_hist_mean(&res->rtt), "rtt_p50", (json_int_t)il_hist_percentile(&res->rtt, 50),
			"oneway_p50", (json_int_t)il_hist_percentile(&sh->oneway_ab, 50), "cpu",
			"initiator", cpu_pair(res->cpu_start, res->cpu_end),
			"responder", cpu_pair(sh->cpu_start, sh->cpu_end)));
	}
	il_guard_disarm();
	if (rc != IL_OK)
		goto out;

	il_hist_merge(ow, ab);
	il_hist_merge(ow, ba);
	double rsd_p50, rsd_mean;
	il_ctx_pingpong_results(&x, rtt, ab, ba, clock_cost, &spread, &rsd_p50, &rsd_mean);
	il_jset(x.results, "oneway", il_json_summary(ow));
	il_jset(x.results, "signals_per_repeat", json_integer((json_int_t)(2 * (c->warmup + c->iterations))));

	if (!c->json || c->json_file) {
		const char *pl = il_placement_text(c);
		printf("signal latency: %s, %s signals (%s/%s by %s), %s mode, %s", method_names[method],
		       signal_kinds[kind], n1, n2, sigu_send_call(c->mode, rt),
		       c->mode == IL_MODE_THREAD ? "thread" : "process", pl);
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n",
		       c->iterations, c->repeat, c->warmup, il_trace_loaded() ? ", traced" : "");
		il_print_summary_header();
		il_print_summary_row("round trip", rtt);
		il_print_summary_row("one-way", ow);
		il_print_summary_row("one-way A->B", ab);
		il_print_summary_row("one-way B->A", ba);
		printf("clock read %" PRIu64 " ns; repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n",
		       clock_cost, 100 * rsd_p50, 100 * rsd_mean);
	}
	if (c->hist) {
		const struct il_hist *hs[4] = { rtt, ow, ab, ba };
		static const char *const names[4] = { "rtt", "oneway", "oneway_ab", "oneway_ba" };
		rc = il_write_hists(c->hist_file, 4, hs, names);
	}
out:
	il_jset(x.results, "repeats", reps);
	if (installed) {
		(void)sigaction(g.sig[PING], &old_ping, NULL);
		(void)sigaction(g.sig[PONG], &old_pong, NULL);
		(void)sigaction(SIGCHLD, &old_chld, NULL);
		(void)pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	}
	il_shared_free(sh, sizeof(*sh));
	free(res);
	free(rtt);
	free(ab);
	free(ba);
	free(ow);
	il_repeats_free(&spread);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_signal_latency = {
	.group = "signal",
	.name = "latency",
	.summary = "signal delivery latency: round trip and one-way, 5 receive methods, std/rt, process/thread",
	.run = latency_run,
};
