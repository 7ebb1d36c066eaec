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
 * sigqueue fails with EAGAIN): the receiver's own limit, lowered for the run so that it
 * never takes more than half of the room its uid has left (run_limit()). Then
 * SIGRTMIN+2, SIGRTMIN+1, SIGRTMIN and SIGUSR1 are queued in that order: Linux delivers
 * standard signals first, then real-time ones lowest number first (kernel/signal.c
 * next_signal()). Every signal is sent while the
 * receiver blocks it, so the effect shows on every run: nothing depends on timing
 * (results.effect; with --count 1 nothing can coalesce: exit 4, one line).
 * The verdict, the result and the table are in coalesce_result.c. */
#include "coalesce.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/tp.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>


static const struct coal_cfg coal_defaults = { .count = 100, .limit = 0, .method = C_SIGTIMEDWAIT };

static const struct il_opt coal_opts[] = {
	{ .name = "count", .type = IL_OPT_U64, .metavar = "N", .min = 1, .max = 1000000,
	  .help = "standard and real-time signals to send, N of each (default 100)",
	  .off = IL_CFG(struct coal_cfg, count, uint64_t), .param = "count" },
	{ .name = "limit", .type = IL_OPT_U64, .metavar = "K", .min = 1, .max = 1000000,
	  .help = "the receiver's RLIMIT_SIGPENDING for the run, to see EAGAIN sooner (the count is the real uid's; "
		  "never above half of the room the uid has left)",
	  .off = IL_CFG(struct coal_cfg, limit, uint64_t) },
	{ .name = "method", .type = IL_OPT_CHOICE, .metavar = "M", .choices = cmethod_names,
	  .help = "how the receiver takes the pending signals (default sigtimedwait)",
	  .off = IL_CFG(struct coal_cfg, method, int), .param = "method" },
	{ 0 },
};

/* Where the handler writes (the receiver's own view; set before unblocking). */
static struct {
	struct coal_rec *buf;
	uint64_t *n, cap, *overflow;
} hw;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, v, si->si_pid, cmethod_names[C_HANDLER], 0, 0);
	uint64_t n = *hw.n;
	if (n < hw.cap) {
		hw.buf[n] = (struct coal_rec){ .signo = sig, .code = si->si_code, .pid = si->si_pid, .value = v };
		*hw.n = n + 1;
	} else {
		(*hw.overflow)++;
	}
}

/* What the receiver needs. */
struct crun {
	struct coal_shared *sh;
	int mode, method;
	sigset_t main_set, ord_set;
};

/* Takes every pending signal of set into buf (cap records): sigtimedwait with a zero
 * timeout until EAGAIN, or unblocking into the handler (whose sa_mask holds all our
 * signals, so each handler returns before the next one is dequeued). */
static void take_pending(const struct crun *r, const sigset_t *set, struct coal_rec *buf, uint64_t cap, uint64_t *n)
{
	struct coal_shared *sh = r->sh;
	*n = 0;
	if (r->method == C_HANDLER) {
		hw.buf = buf;
		hw.n = n;
		hw.cap = cap;
		hw.overflow = &sh->overflow;
		/* Every pending signal is delivered on the way out of this call. */
		(void)pthread_sigmask(SIG_UNBLOCK, set, NULL);
		(void)pthread_sigmask(SIG_BLOCK, set, NULL);
		sh->late += sig_drain(set);
		return;
	}
	static const struct timespec zero = { 0, 0 };
	siginfo_t si;
	int sig;
	while ((sig = sigtimedwait(set, &si, &zero)) > 0) {
		uint64_t v = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
		lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, v, si.si_pid, cmethod_names[C_SIGTIMEDWAIT], 0, 0);
		if (*n < cap)
			buf[(*n)++] = (struct coal_rec){ .signo = sig, .code = si.si_code, .pid = si.si_pid, .value = v };
		else
			sh->overflow++;
	}
}

/* The soft RLIMIT_SIGPENDING the receiver runs with. The kernel checks a sigqueue
 * against the target's limit (ours) but counts the pending signals of the real uid in
 * every process (kernel __sigqueue_alloc()), so a run that filled its inherited limit
 * would leave the uid's other processes nothing: sigqueue and timer_create fail with
 * EAGAIN there. The run takes at most half of the room the uid has left (share), enough
 * for --count (twice, so that others' signals coming and going cannot make the exact
 * case short), or --limit if that is lower: beyond it, EAGAIN shows at this lowered
 * limit. */
static long run_limit(struct coal_shared *sh, const struct rlimit *old)
{
	const long P = sh->pending_before > 0 ? sh->pending_before : 0;
	const long cur = old->rlim_cur == RLIM_INFINITY || old->rlim_cur > LONG_MAX / 2 ? LONG_MAX / 2 : (long)old->rlim_cur;
	sh->share = cur > P ? (cur - P) / 2 : 0;
	const long need = (long)(sh->count < (uint64_t)LONG_MAX / 4 ? 2 * (sh->count + 1) : LONG_MAX / 2);
	long want = P + (need < sh->share ? need : sh->share);
	if (sh->limit) {
		sh->limit_capped = (long)sh->limit > P + sh->share;
		want = sh->limit_capped ? P + sh->share : (long)sh->limit;
	}
	return want < cur ? want : cur;
}

/* Sets the receiver's soft RLIMIT_SIGPENDING for the run (run_limit), keeping the old
 * one in *old, and records the limit in force and the uid's pending count. An exit code,
 * logged. */
static int lower_limit(struct coal_shared *sh, struct rlimit *old, bool *lowered)
{
	*lowered = false;
	if (getrlimit(RLIMIT_SIGPENDING, old) < 0) {
		il_errno("receiver: getrlimit(RLIMIT_SIGPENDING) failed");
		return IL_FAIL;
	}
	long lim = 0;
	if (sig_queue_count(&sh->pending_before, &lim) < 0)
		sh->pending_before = -1;
	sh->rlim_inherited = old->rlim_cur == RLIM_INFINITY ? -1 : (long)old->rlim_cur;
	const long want = run_limit(sh, old);
	if (old->rlim_cur == RLIM_INFINITY || (rlim_t)want < old->rlim_cur) {
		struct rlimit nl = { .rlim_cur = (rlim_t)want, .rlim_max = old->rlim_max };
		if (setrlimit(RLIMIT_SIGPENDING, &nl) < 0) {
			int e = errno;
			il_errno("receiver: setrlimit(RLIMIT_SIGPENDING, %ld) failed", want);
			return il_exit_for_errno(e);
		}
		*lowered = true;
	}
	struct rlimit cur;
	sh->rlim_cur = getrlimit(RLIMIT_SIGPENDING, &cur) == 0 ?
		(cur.rlim_cur == RLIM_INFINITY ? -1 : (long)cur.rlim_cur) : -1;
	return IL_OK;
}

/* The receiver: block, (lower the limit), let the sender fill the queue, take it all. */
static int receiver(void *arg)
{
	struct crun *r = arg;
	struct coal_shared *sh = r->sh;
	struct rlimit old = { 0, 0 };
	bool lowered;

	il_set_task_name("ipclab-sigrecv");
	il_trace_init_thread();
	sig_target_self(&sh->to_recv, r->mode); /* our signals are blocked (inherited) */
	int rc = lower_limit(sh, &old, &lowered);
	sh->lowered = lowered;
	sh->recv_status = rc;
	(void)il_barrier_wait(&sh->bar); /* 1: ready, everything blocked */
	(void)il_barrier_wait(&sh->bar); /* 2: the sender has queued all */
	if (rc == IL_OK)
		take_pending(r, &r->main_set, sh->main, sh->cap, &sh->n_main);
	if (lowered && setrlimit(RLIMIT_SIGPENDING, &old) < 0 && rc == IL_OK) {
		il_errno("receiver: cannot restore RLIMIT_SIGPENDING");
		rc = IL_FAIL;
	}
	(void)il_barrier_wait(&sh->bar); /* 3: ready for the ordering phase */
	(void)il_barrier_wait(&sh->bar); /* 4: the sender has queued the four */
	if (rc == IL_OK)
		take_pending(r, &r->ord_set, sh->ord, COAL_N_ORD + 4, &sh->n_ord);
	sh->recv_status = rc;
	return rc;
}

static void send_one(const struct sig_target *to, int sig, uint64_t v, struct coal_sent *s, uint8_t *accepted)
{
	lttng_ust_tracepoint(ipclab_sig, sig_send, sig, v, sig_target_id(to));
	if (sig_send(to, sig, true, v) == 0) {
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

/* What the sender counted. */
struct coal_counts {
	struct coal_sent std, rt, ord;
};

/* The sender's side of the four barriers: the main phase's 2N signals, then the four of
 * the ordering phase. IL_OK, or IL_FAIL when the receiver is gone (the barrier said so). */
static int send_phases(struct coal_shared *sh, uint64_t count, uint8_t *accepted, struct coal_counts *n)
{
	struct coal_order ord;
	coal_order_init(&ord);
	if (il_barrier_wait(&sh->bar) < 0) /* 1 */
		return IL_FAIL;
	const bool ready = sh->recv_status == IL_OK;
	const struct sig_target to = sh->to_recv;
	for (uint64_t i = 0; ready && i < count; i++)
		send_one(&to, SIGUSR1, i, &n->std, NULL);
	for (uint64_t i = 0; ready && i < count; i++)
		send_one(&to, SIGRTMIN, i, &n->rt, accepted);
	if (il_barrier_wait(&sh->bar) < 0 || il_barrier_wait(&sh->bar) < 0) /* 2, 3 */
		return IL_FAIL;
	for (int i = 0; ready && i < COAL_N_ORD; i++)
		send_one(&to, ord.sent[i], ord.val[i], &n->ord, NULL);
	return il_barrier_wait(&sh->bar) < 0 ? IL_FAIL : IL_OK; /* 4 */
}

/* Spawns the receiver, runs the phases, joins it. An exit code, logged once. */
static int exchange(struct il_ctx *x, const struct coal_cfg *k, struct crun *r, uint8_t *accepted,
		    struct coal_counts *n)
{
	struct coal_shared *sh = r->sh;
	if (il_barrier_init(&sh->bar, 2) < 0) {
		il_err("cannot create the barrier");
		return IL_NORES;
	}
	struct il_peer peer;
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, cmethod_names[k->method], r->mode, 0, k->count, 0);
	int rc = il_spawn(&peer, r->mode, -1, receiver, r);
	if (rc == IL_OK) {
		rc = send_phases(sh, k->count, accepted, n); /* IL_FAIL: the barrier said the receiver ended */
		char how[128];
		int jrc = il_join(&peer, how, sizeof(how));
		lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, cmethod_names[k->method], 0, jrc);
		if (*how && rc == IL_OK) /* one failure, one line */
			il_fail("the receiver was %s", how);
		if (jrc != IL_OK || *how)
			rc = jrc != IL_OK ? jrc : IL_FAIL; /* the receiver said why */
	}
	il_barrier_destroy(&sh->bar);
	if (rc == IL_OK && (n->std.other || n->rt.other || n->ord.other)) {
		errno = n->std.other ? n->std.other_errno : n->rt.other ? n->rt.other_errno : n->ord.other_errno;
		int e = errno;
		il_errno("sigqueue failed");
		rc = il_exit_for_errno(e);
	}
	return rc;
}

/* Blocks the four signals (before the receiver exists: it inherits the mask) and
 * installs the handler, which blocks all four while it runs, so handlers never nest and
 * run in the order the kernel dequeues. */
static void install(struct crun *r, sigset_t *oldmask, struct sigaction old[COAL_N_ORD])
{
	struct coal_order ord;
	coal_order_init(&ord);
	sigemptyset(&r->main_set);
	sigaddset(&r->main_set, SIGUSR1);
	sigaddset(&r->main_set, SIGRTMIN);
	sigemptyset(&r->ord_set);
	for (int i = 0; i < COAL_N_ORD; i++)
		sigaddset(&r->ord_set, ord.sent[i]);
	(void)pthread_sigmask(SIG_BLOCK, &r->ord_set, oldmask);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_mask = r->ord_set;
	for (int i = 0; i < COAL_N_ORD; i++)
		(void)sigaction(ord.sent[i], &sa, &old[i]);
}

static void uninstall(const struct crun *r, const sigset_t *oldmask, const struct sigaction old[COAL_N_ORD])
{
	struct coal_order ord;
	coal_order_init(&ord);
	for (int i = 0; i < COAL_N_ORD; i++)
		(void)sigaction(ord.sent[i], &old[i], NULL);
	(void)sig_drain(&r->ord_set);
	(void)pthread_sigmask(SIG_SETMASK, oldmask, NULL);
}

static int coal_params(struct il_ctx *x, void *cfg)
{
	const struct coal_cfg *k = cfg;
	il_jset(x->params, "limit", k->limit ? json_integer((json_int_t)k->limit) : json_null());
	return IL_OK;
}

static int coal_measure(struct il_ctx *x, void *cfg)
{
	const struct coal_cfg *k = cfg;
	il_trace_init_thread();
	const uint64_t cap = k->count + 4;
	const size_t shsize = sizeof(struct coal_shared) + cap * sizeof(struct coal_rec);
	struct coal_shared *sh = il_shared_alloc(shsize);
	uint8_t *accepted = calloc(k->count, 1);
	struct crun r = { .sh = sh, .mode = x->c.mode, .method = k->method };
	struct coal_counts n = { 0 };
	int rc = IL_OK;
	if (!sh || !accepted) {
		il_err("out of memory for %" PRIu64 " records", k->count);
		rc = IL_NORES;
		goto out;
	}
	sh->cap = cap;
	sh->count = k->count;
	sh->limit = k->limit;
	sigset_t oldmask;
	struct sigaction old[COAL_N_ORD];
	install(&r, &oldmask, old);
	rc = exchange(x, k, &r, accepted, &n);
	uninstall(&r, &oldmask, old);
	if (rc != IL_OK)
		goto out;
	const struct coal_run run = { .sh = sh, .count = k->count, .mode = r.mode, .lowered = sh->lowered,
				      .std = &n.std, .rt = &n.rt, .accepted = accepted };
	int failed = coal_judge(x, &run);
	il_jset(x->results, "trace_events", json_pack("{sI sI}", "sig_send", (json_int_t)(2 * k->count + COAL_N_ORD),
		"sig_receive", (json_int_t)(sh->n_main + sh->overflow + sh->n_ord)));
	if (failed < 0) {
		rc = IL_NORES;
	} else if (failed) {
		il_fail("%d check%s failed", failed, failed > 1 ? "s" : "");
		rc = IL_FAIL;
	} else if (!il_jtrue(json_object_get(x->results, "effect"), "shown")) {
		il_err("the effect did not show: %s", il_jstr(json_object_get(x->results, "effect"), "why", "?"));
		rc = IL_UNSUP;
	}
out:
	il_shared_free(sh, shsize);
	free(accepted);
	return rc;
}

const struct il_experiment il_exp_signal_coalesce = {
	.group = "signal",
	.name = "coalesce",
	.summary = "standard signals coalesce, real-time ones queue (to RLIMIT_SIGPENDING); delivery order",
	.help = "Standard signals coalesce, real-time signals queue: N SIGUSR1 and N SIGRTMIN are\n"
		"sigqueue()d (payload = index) to a receiver that blocks both, then taken: 1 SIGUSR1,\n"
		"N SIGRTMIN in order (up to RLIMIT_SIGPENDING: EAGAIN beyond, counted). Then the\n"
		"delivery order of SIGRTMIN+2, SIGRTMIN+1, SIGRTMIN and SIGUSR1 queued in that order.\n"
		"The pending count is the real uid's, in all its processes: the receiver lowers its own\n"
		"limit for the run to at most half of the room the uid has left, so that the uid's\n"
		"other processes can still queue signals (results.limit).",
	.common = IL_C_MODE,
	.defaults = { .timeout_s = 60 },
	.opts = coal_opts,
	.cfg_size = sizeof(struct coal_cfg),
	.cfg_defaults = &coal_defaults,
	.params = coal_params,
	.measure = coal_measure,
	.print = coal_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
