/* coalesce.c - "ipclab signal coalesce": standard signals coalesce, real-time signals
 * queue (in order, payloads intact) up to RLIMIT_SIGPENDING, and the order in which
 * several pending signals are delivered.
 *
 * The receiver (a forked process or a thread) blocks SIGUSR1 and SIGRTMIN; the sender
 * sigqueue()s N SIGUSR1 then N SIGRTMIN, payload = index, and only then tells the
 * receiver (through the start barrier, never a signal) to take what is pending, with
 * sigtimedwait(timeout 0) or by unblocking into a handler. Linux keeps one pending
 * instance of a standard signal (kernel/signal.c legacy_queue(): later ones are dropped,
 * the first one's siginfo survives) and queues every real-time one, while the real uid's
 * count of pending signals stays within the target's RLIMIT_SIGPENDING (beyond it,
 * sigqueue fails with EAGAIN). Then SIGRTMIN+2, SIGRTMIN+1, SIGRTMIN and SIGUSR1 are
 * queued in that order: Linux delivers standard signals first, then real-time ones
 * lowest number first (kernel/signal.c next_signal()). */
#include "sigutil.h"
#include "../core/cleanup.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define COMMON (IL_C_MODE)
#define N_ORD 4

enum cmethod { C_SIGTIMEDWAIT, C_HANDLER };
static const char *const cmethod_names[] = { "sigtimedwait", "handler", NULL };

/* One delivered signal as the receiver saw it. */
struct rec {
	int signo, code, pid;
	uint64_t value;
};

/* Shared between sender and receiver (MAP_SHARED in process mode). */
struct cshared {
	struct il_barrier bar;
	struct sigu_target to_recv;
	int recv_status;
	char why[256];
	uint64_t limit;           /* --limit, 0: unchanged */
	long rlim_cur;            /* receiver's RLIMIT_SIGPENDING during the main phase */
	long pending_before;      /* SigQ: signals pending for our real uid before the sends */
	uint64_t n_main, n_ord;   /* records taken in each phase */
	uint64_t overflow;        /* deliveries beyond the record capacity */
	uint64_t late;            /* handler method: pending after the unblock window (never) */
	struct rec ord[N_ORD + 4];
	uint64_t cap;
	struct rec main[];        /* cap records */
};

/* Where the handler writes (the receiver's own view; set before unblocking). */
static struct {
	struct rec *buf;
	uint64_t *n, cap, *overflow;
	const char *method;
} hw;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, v, si->si_pid, hw.method, 0, 0);
	uint64_t n = *hw.n;
	if (n < hw.cap) {
		hw.buf[n] = (struct rec){ .signo = sig, .code = si->si_code, .pid = si->si_pid, .value = v };
		*hw.n = n + 1;
	} else {
		(*hw.overflow)++;
	}
}

struct crun {
	struct cshared *sh;
	int mode, method;
	sigset_t main_set, ord_set;
};

/* Takes every pending signal of set into buf (cap records): sigtimedwait with a zero
 * timeout until EAGAIN, or unblocking into the handler (whose sa_mask holds all our
 * signals, so each handler returns before the next one is dequeued). */
static void take_pending(const struct crun *r, const sigset_t *set, struct rec *buf, uint64_t cap, uint64_t *n)
{
	struct cshared *sh = r->sh;
	*n = 0;
	if (r->method == C_HANDLER) {
		hw.buf = buf;
		hw.n = n;
		hw.cap = cap;
		hw.overflow = &sh->overflow;
		hw.method = cmethod_names[C_HANDLER];
		/* Every pending signal is delivered on the way out of this call. */
		sigu_mask(SIG_UNBLOCK, set);
		sigu_mask(SIG_BLOCK, set);
		sh->late += sigu_drain(set);
		return;
	}
	static const struct timespec zero = { 0, 0 };
	siginfo_t si;
	int sig;
	while ((sig = sigtimedwait(set, &si, &zero)) > 0) {
		uint64_t v = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
		lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, v, si.si_pid, cmethod_names[C_SIGTIMEDWAIT], 0, 0);
		if (*n < cap)
			buf[(*n)++] = (struct rec){ .signo = sig, .code = si.si_code, .pid = si.si_pid, .value = v };
		else
			sh->overflow++;
	}
}

/* The receiver: block, (lower the limit), let the sender fill the queue, take it all. */
static int receiver(void *arg)
{
	struct crun *r = arg;
	struct cshared *sh = r->sh;
	int rc = IL_OK;
	struct rlimit old = { 0, 0 };
	bool lowered = false;

	il_set_task_name("ipclab-sigrecv");
	il_trace_init_thread();
	sigu_target_self(&sh->to_recv, r->mode); /* our signals are blocked (inherited) */
	if (getrlimit(RLIMIT_SIGPENDING, &old) < 0) {
		(void)snprintf(sh->why, sizeof(sh->why), "getrlimit(RLIMIT_SIGPENDING) failed: %s", strerror(errno));
		rc = IL_FAIL;
	} else if (sh->limit) {
		/* The limit is checked against the target's rlimit (ours), the count against our
		 * real uid's pending signals in every process (kernel __sigqueue_alloc()). */
		struct rlimit nl = old;
		nl.rlim_cur = sh->limit;
		if (nl.rlim_max != RLIM_INFINITY && nl.rlim_max < nl.rlim_cur)
			nl.rlim_max = nl.rlim_cur; /* raising the hard limit needs CAP_SYS_RESOURCE */
		if (setrlimit(RLIMIT_SIGPENDING, &nl) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "setrlimit(RLIMIT_SIGPENDING, %" PRIu64 ") failed: %s",
				       sh->limit, strerror(errno));
			rc = il_exit_for_errno(errno);
		} else {
			lowered = true;
		}
	}
	long lim = 0;
	if (sigu_sigq(&sh->pending_before, &lim) < 0)
		sh->pending_before = -1;
	struct rlimit cur;
	sh->rlim_cur = getrlimit(RLIMIT_SIGPENDING, &cur) == 0 ?
		(cur.rlim_cur == RLIM_INFINITY ? -1 : (long)cur.rlim_cur) : -1;
	sh->recv_status = rc;
	il_barrier_wait(&sh->bar); /* 1: ready, everything blocked */
	il_barrier_wait(&sh->bar); /* 2: the sender has queued all */
	if (rc == IL_OK)
		take_pending(r, &r->main_set, sh->main, sh->cap, &sh->n_main);
	if (lowered && setrlimit(RLIMIT_SIGPENDING, &old) < 0 && rc == IL_OK) {
		(void)snprintf(sh->why, sizeof(sh->why), "cannot restore RLIMIT_SIGPENDING: %s", strerror(errno));
		rc = IL_FAIL;
	}
	il_barrier_wait(&sh->bar); /* 3: ready for the ordering phase */
	il_barrier_wait(&sh->bar); /* 4: the sender has queued the four */
	if (rc == IL_OK)
		take_pending(r, &r->ord_set, sh->ord, N_ORD + 4, &sh->n_ord);
	sh->recv_status = rc;
	return rc;
}

/* What the sender did in the main phase. */
struct sent {
	uint64_t ok, eagain, other;
	int other_errno;
};

static void send_one(const struct sigu_target *to, int sig, uint64_t v, struct sent *s, uint8_t *accepted)
{
	lttng_ust_tracepoint(ipclab_sig, sig_send, sig, v, sigu_target_id(to));
	if (sigu_send(to, sig, true, v) == 0) {
		s->ok++;
		if (accepted)
			accepted[v] = 1;
	} else if (errno == EAGAIN) {
		s->eagain++;
	} else {
		s->other++;
		s->other_errno = errno;
	}
}

static json_t *check(json_t *obj, bool pass, int *failed)
{
	il_jset(obj, "pass", json_boolean(pass));
	if (!pass)
		(*failed)++;
	return obj;
}

static int coalesce_run(int argc, char **argv)
{
	uint64_t count = 100, limit = 0;
	int method = C_SIGTIMEDWAIT;
	const struct il_opt opts[] = {
		{ "count", IL_OPT_U64, "N", "standard and real-time signals to send, N of each (default 100)", 1, 1000000, NULL, &count },
		{ "limit", IL_OPT_U64, "K",
		  "lower the receiver's RLIMIT_SIGPENDING to K for the run; the count is per real uid (default: unchanged)",
		  1, 1000000, NULL, &limit },
		{ "method", IL_OPT_CHOICE, "M", "how the receiver takes the pending signals (default sigtimedwait)", 0, 0, cmethod_names, &method },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.timeout_s = 60;
	int prc = il_ctx_parse(&x, "Standard signals coalesce, real-time signals queue: N SIGUSR1 and N SIGRTMIN are\n"
			       "sigqueue()d (payload = index) to a receiver that blocks both, then taken: 1 SIGUSR1,\n"
			       "N SIGRTMIN in order (up to RLIMIT_SIGPENDING: EAGAIN beyond, counted). Then the\n"
			       "delivery order of SIGRTMIN+2, SIGRTMIN+1, SIGRTMIN and SIGUSR1 queued in that order.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const int s_std = SIGUSR1, s_rt = SIGRTMIN;
	const int ord_sent[N_ORD] = { SIGRTMIN + 2, SIGRTMIN + 1, SIGRTMIN, SIGUSR1 };
	const uint64_t ord_val[N_ORD] = { 2, 1, 0, 3 };
	const int ord_want[N_ORD] = { SIGUSR1, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2 };
	il_jset(x.params, "count", json_integer((json_int_t)count));
	il_jset(x.params, "limit", limit ? json_integer((json_int_t)limit) : json_null());
	il_jset(x.params, "method", json_string(cmethod_names[method]));

	il_guard_install((unsigned)c->timeout_s);
	il_trace_init_thread();
	const uint64_t cap = count + 4;
	const size_t shsize = sizeof(struct cshared) + cap * sizeof(struct rec);
	struct cshared *sh = il_shared_alloc(shsize);
	uint8_t *accepted = calloc(count, 1);
	struct crun r = { .sh = sh, .mode = c->mode, .method = method };
	struct sent st = { 0 }, rt = { 0 }, ord = { 0 };
	struct sigaction sa, old[N_ORD];
	sigset_t all, oldmask;
	int rc = IL_OK, failed = 0;
	if (!sh || !accepted) {
		il_err("out of memory for %" PRIu64 " records", count);
		rc = IL_NORES;
		goto out;
	}
	sh->cap = cap;
	sh->limit = limit;
	sigemptyset(&r.main_set);
	sigaddset(&r.main_set, s_std);
	sigaddset(&r.main_set, s_rt);
	sigemptyset(&all);
	for (int i = 0; i < N_ORD; i++)
		sigaddset(&all, ord_sent[i]);
	r.ord_set = all;
	/* Blocked before the receiver exists: it inherits the mask. The handler (method
	 * "handler") blocks all four while it runs, so handlers never nest and run in the
	 * order the kernel dequeues. */
	(void)pthread_sigmask(SIG_BLOCK, &all, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_mask = all;
	for (int i = 0; i < N_ORD; i++)
		(void)sigaction(ord_sent[i], &sa, &old[i]);
	if (il_barrier_init(&sh->bar, 2) < 0) {
		il_err("cannot create the barrier");
		rc = IL_NORES;
		goto out_sig;
	}
	struct il_peer peer;
	char how[128];
	lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, cmethod_names[method], c->mode, 0, count, 0);
	if ((rc = il_spawn(&peer, c->mode, -1, receiver, &r)) != 0)
		goto out_bar;
	/* a receiver gone before a barrier (il_barrier_wait < 0): no more signals, no more waits */
	const bool broken = il_barrier_wait(&sh->bar) < 0; /* 1 */
	const int recv_status = broken ? IL_FAIL : sh->recv_status;
	const struct sigu_target to = sh->to_recv;
	if (recv_status == IL_OK) {
		for (uint64_t i = 0; i < count; i++)
			send_one(&to, s_std, i, &st, NULL);
		for (uint64_t i = 0; i < count; i++)
			send_one(&to, s_rt, i, &rt, accepted);
	}
	if (!broken && (il_barrier_wait(&sh->bar) < 0 || il_barrier_wait(&sh->bar) < 0)) /* 2, 3 */
		rc = IL_FAIL;
	if (recv_status == IL_OK && rc == IL_OK)
		for (int i = 0; i < N_ORD; i++)
			send_one(&to, ord_sent[i], ord_val[i], &ord, NULL);
	if (!broken && rc == IL_OK && il_barrier_wait(&sh->bar) < 0) /* 4 */
		rc = IL_FAIL;
	if (broken)
		rc = IL_FAIL;
	int jrc = il_join(&peer, how, sizeof(how));
	lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, cmethod_names[method], 0, jrc);
	if (*how) {
		il_fail("the receiver was %s", how);
		rc = IL_FAIL;
		goto out_bar;
	}
	if (jrc != IL_OK) {
		il_err("%s", sh->why[0] ? sh->why : "the receiver failed");
		rc = jrc;
		goto out_bar;
	}
	if (rc != IL_OK) /* the barrier gave up: the message is out */
		goto out_bar;
	if (st.other || rt.other || ord.other) {
		errno = st.other ? st.other_errno : rt.other ? rt.other_errno : ord.other_errno;
		il_errno("sigqueue failed");
		rc = il_exit_for_errno(errno);
		goto out_bar;
	}

	/* ---- analysis: one result, then two renderings ---- */
	const int sender_pid = getpid();
	char nbuf[32], cbuf[32];
	uint64_t std_n = 0, rt_n = 0, stray = 0, rt_next = 0;
	bool in_order = true, payloads_ok = true, info_ok = true, std_first = sh->n_main > 0 && sh->main[0].signo == s_std;
	const struct rec *survivor = NULL;
	uint8_t *seen = calloc(count, 1);
	if (!seen) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out_bar;
	}
	for (uint64_t i = 0; i < sh->n_main; i++) {
		const struct rec *e = &sh->main[i];
		if (e->signo == s_std) {
			if (!survivor)
				survivor = e;
			std_n++;
			continue;
		}
		if (e->signo != s_rt) {
			stray++;
			continue;
		}
		rt_n++;
		if (e->code != SI_QUEUE || e->pid != sender_pid)
			info_ok = false;
		if (e->value >= count || !accepted[e->value] || seen[e->value]) {
			payloads_ok = false; /* never sent, refused, or delivered twice */
			continue;
		}
		seen[e->value] = 1;
		while (rt_next < count && !accepted[rt_next])
			rt_next++;
		if (e->value != rt_next)
			in_order = false;
		rt_next = e->value + 1;
	}
	free(seen);
	payloads_ok = payloads_ok && rt_n == rt.ok; /* every accepted payload arrived exactly once */

	/* std: one pending instance; the first sent keeps its siginfo (later ones dropped).
	 * If even the first found the uid's count at the limit, it is queued without its
	 * siginfo (SI_USER, no payload): "info lost", not a failure. */
	const bool info_lost = survivor && survivor->code != SI_QUEUE;
	json_t *jstd = json_pack("{ss si ss sI sI sI sI sI si}", "signal", sigu_name(s_std, nbuf, sizeof(nbuf)),
				 "signo", s_std, "send_call", sigu_send_call(c->mode, true), "sent", (json_int_t)count,
				 "accepted", (json_int_t)st.ok, "eagain", (json_int_t)st.eagain,
				 "delivered", (json_int_t)std_n, "lost", (json_int_t)(st.ok - std_n),
				 "expected_delivered", st.ok ? 1 : 0);
	il_jset(jstd, "survivor_payload", survivor ? json_integer((json_int_t)survivor->value) : json_null());
	il_jset(jstd, "survivor_code", survivor ? json_string(sigu_code_name(survivor->code, cbuf, sizeof(cbuf))) : json_null());
	il_jset(jstd, "survivor_info_lost", json_boolean(info_lost));
	const bool std_pass = std_n == (st.ok ? 1u : 0u) && (!survivor || info_lost || survivor->value == 0);
	check(jstd, std_pass, &failed);

	json_t *jrt = json_pack("{ss si ss sI sI sI sI sI sb sb sb}", "signal", sigu_name(s_rt, nbuf, sizeof(nbuf)),
				"signo", s_rt, "send_call", sigu_send_call(c->mode, true), "sent", (json_int_t)count,
				"accepted", (json_int_t)rt.ok, "eagain", (json_int_t)rt.eagain,
				"delivered", (json_int_t)rt_n, "lost", (json_int_t)(rt.ok - rt_n),
				"in_order", in_order, "payloads_ok", payloads_ok, "siginfo_ok", info_ok);
	const bool rt_pass = rt_n == rt.ok && in_order && payloads_ok && info_ok && rt.ok + rt.eagain == count;
	check(jrt, rt_pass, &failed);

	/* RLIMIT_SIGPENDING: the std signal holds one of the uid's slots; other processes of
	 * the uid may hold some (pending_before), and may change it meanwhile: only the hard
	 * rules are checked (never more than limit-1 accepted; EAGAIN when N >= limit). */
	const long L = sh->rlim_cur, P = sh->pending_before;
	json_t *jlim = json_object();
	il_jset(jlim, "rlimit_sigpending", L >= 0 ? json_integer(L) : json_null());
	il_jset(jlim, "lowered", json_boolean(limit != 0));
	il_jset(jlim, "uid_pending_before", P >= 0 ? json_integer(P) : json_null());
	bool lim_pass = true;
	if (L >= 0) {
		long room = L - (P > 0 ? P : 0) - (st.ok ? 1 : 0);
		uint64_t expect = room <= 0 ? 0 : (uint64_t)room < count ? (uint64_t)room : count;
		il_jset(jlim, "expected_accepted", json_integer((json_int_t)expect));
		il_jset(jlim, "matches_expected", json_boolean(expect == rt.ok));
		lim_pass = (long)rt.ok <= L - 1 && ((long)count < L || rt.eagain > 0);
		if (expect != rt.ok)
			il_ctx_warn(&x, "%" PRIu64 " real-time signals accepted, %" PRIu64 " expected from the limit and the "
				    "uid's pending count before the run (another process of the uid changed it?)",
				    rt.ok, expect);
	}
	check(jlim, lim_pass, &failed);

	json_t *jsf = json_pack("{ss ss}", "expected", sigu_name(s_std, nbuf, sizeof(nbuf)), "actual",
				sh->n_main ? sigu_name(sh->main[0].signo, cbuf, sizeof(cbuf)) : "none");
	il_jset(jsf, "rule", json_string("standard signals are delivered before real-time ones"));
	check(jsf, std_first || !st.ok, &failed);

	json_t *q = json_array(), *want = json_array(), *got = json_array();
	bool ord_pass = sh->n_ord == N_ORD, ord_payloads = true;
	for (int i = 0; i < N_ORD; i++) {
		(void)json_array_append_new(q, json_string(sigu_name(ord_sent[i], nbuf, sizeof(nbuf))));
		(void)json_array_append_new(want, json_string(sigu_name(ord_want[i], nbuf, sizeof(nbuf))));
	}
	for (uint64_t i = 0; i < sh->n_ord; i++) {
		const struct rec *e = &sh->ord[i];
		(void)json_array_append_new(got, json_string(sigu_name(e->signo, nbuf, sizeof(nbuf))));
		if (i >= N_ORD || e->signo != ord_want[i])
			ord_pass = false;
		for (int k = 0; k < N_ORD; k++)
			if (ord_sent[k] == e->signo && ord_val[k] != e->value)
				ord_payloads = false;
	}
	json_t *jord = json_pack("{so so so sb ss}", "queued", q, "expected", want, "delivered", got,
				 "payloads_ok", ord_payloads,
				 "rule", "standard signals first, then real-time signals lowest number first");
	check(jord, ord_pass && ord_payloads, &failed);

	if (sh->overflow || stray || sh->late)
		failed++;
	il_jset(x.results, "std", jstd);
	il_jset(x.results, "rt", jrt);
	il_jset(x.results, "limit", jlim);
	il_jset(x.results, "std_before_rt", jsf);
	il_jset(x.results, "ordering", jord);
	il_jset(x.results, "unexpected", json_pack("{sI sI sI}", "stray_signals", (json_int_t)stray,
		"overflow", (json_int_t)sh->overflow, "late", (json_int_t)sh->late));
	il_jset(x.results, "trace_events", json_pack("{sI sI}", "sig_send", (json_int_t)(2 * count + N_ORD),
		"sig_receive", (json_int_t)(sh->n_main + sh->overflow + sh->n_ord)));
	il_jset(x.results, "checks_failed", json_integer(failed));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		printf("signal coalesce: %s mode, %" PRIu64 " of each, sent by %s, taken by %s%s\n",
		       c->mode == IL_MODE_THREAD ? "thread" : "process", count, sigu_send_call(c->mode, true),
		       cmethod_names[method], il_trace_loaded() ? ", traced" : "");
		printf("%-10s %-10s %9s %9s %9s %9s %9s  %s\n", "", "signal", "sent", "accepted", "eagain", "delivered",
		       "lost", "check");
		printf("%-10s %-10s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "  %s: coalesced, survivor payload ",
		       "standard", "SIGUSR1", count, st.ok, st.eagain, std_n, st.ok - std_n, std_pass ? "PASS" : "FAIL");
		if (survivor && !info_lost)
			printf("%" PRIu64 " (%s)\n", survivor->value, survivor->value == 0 ? "the first" : "not the first");
		else
			printf("lost with its siginfo\n");
		printf("%-10s %-10s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "  %s: queued, %s, %s\n",
		       "real-time", "SIGRTMIN", count, rt.ok, rt.eagain, rt_n, rt.ok - rt_n, rt_pass ? "PASS" : "FAIL",
		       in_order ? "in order" : "OUT OF ORDER", payloads_ok && info_ok ? "payloads intact" : "PAYLOADS WRONG");
		printf("RLIMIT_SIGPENDING %ld%s, uid's pending signals before: %ld  %s\n", L, limit ? " (lowered)" : "", P,
		       lim_pass ? "PASS" : "FAIL");
		printf("std before rt: first taken %s  %s\n", sh->n_main ? sigu_name(sh->main[0].signo, nbuf, sizeof(nbuf)) : "none",
		       std_first || !st.ok ? "PASS" : "FAIL");
		printf("order: queued");
		for (int i = 0; i < N_ORD; i++)
			printf(" %s", sigu_name(ord_sent[i], nbuf, sizeof(nbuf)));
		printf(" -> delivered");
		for (uint64_t i = 0; i < sh->n_ord; i++)
			printf(" %s", sigu_name(sh->ord[i].signo, nbuf, sizeof(nbuf)));
		printf("  %s\n", ord_pass && ord_payloads ? "PASS" : "FAIL");
	}
	if (failed) {
		il_fail("%d check%s failed", failed, failed > 1 ? "s" : "");
		rc = IL_FAIL;
	}
out_bar:
	il_barrier_destroy(&sh->bar);
out_sig:
	for (int i = 0; i < N_ORD; i++)
		(void)sigaction(ord_sent[i], &old[i], NULL);
	(void)sigu_drain(&all);
	(void)pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
out:
	il_guard_disarm();
	il_shared_free(sh, shsize);
	free(accepted);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_signal_coalesce = {
	.group = "signal",
	.name = "coalesce",
	.summary = "standard signals coalesce, real-time ones queue (to RLIMIT_SIGPENDING); delivery order",
	.run = coalesce_run,
};
