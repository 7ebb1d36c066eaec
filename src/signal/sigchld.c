/* sigchld.c - "ipclab signal sigchld": what becomes of children that exit at once, under
 * the three SIGCHLD policies (wait(2), signal(7), sigaction(2) "SA_NOCLDWAIT/SIG_IGN"):
 *   default  zombies accumulate until waitpid() collects them;
 *   ignore   SIGCHLD set to SIG_IGN: the kernel reaps at exit, no zombie ever appears, and
 *            wait blocks until every child is gone, then fails with ECHILD (POSIX.1-2001);
 *   handler  a SIGCHLD handler reaps in a loop (waitpid(-1, WNOHANG) until 0/ECHILD).
 *            SIGCHLD is a standard signal: exits that arrive while one is pending
 *            coalesce. To show it on every run, SIGCHLD stays blocked until every child
 *            is a zombie (each exit has raised it by then); unblocked, it is delivered
 *            once, and that one handler call reaps them all: N exits, 1 signal.
 * results.effect says whether the policy's point showed (exit 4, one line, when it
 * could not: one child has nothing to coalesce with, /proc unreadable hides zombies).
 * Zombies are counted in /proc (state Z among the processes whose parent is us). Every
 * child stamps CLOCK_MONOTONIC into shared memory just before _exit(); the reap latency is
 * that stamp to the moment waitpid() returned it. No sleeps: each child holds the write
 * end of a pipe, so EOF means all have exited; waitid(WNOWAIT) waits for a zombie without
 * reaping it. Events: sig_receive per handler call, child_reap per child we reap. */
#include "sigchld.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)

static const char *const policy_names[] = { "default", "ignore", "handler", NULL };

struct sigchld_cfg {
	int policy;
	uint64_t children;
};
static const struct sigchld_cfg sigchld_defaults = { .policy = POL_DEFAULT, .children = 20 };

static const struct il_opt sigchld_opts[] = {
	{ .name = "policy", .type = IL_OPT_CHOICE, .metavar = "P", .choices = policy_names,
	  .help = "SIGCHLD disposition: default (zombies until waitpid), ignore (SIG_IGN: no zombies, wait fails "
		  "ECHILD), handler (reaping loop in a handler; SIGCHLD coalesces with 2 or more children)",
	  .off = IL_CFG(struct sigchld_cfg, policy, int), .param = "policy" },
	{ .name = "children", .type = IL_OPT_U64, .metavar = "N", .min = 1, .max = 1000,
	  .help = "children to spawn, each exits at once (default 20)",
	  .off = IL_CFG(struct sigchld_cfg, children, uint64_t), .param = "children" },
	{ 0 },
};

/* What the handler touches: fixed arrays allocated before it is installed. A child is
 * known by the pid fork() returned (child_pids), not by what it wrote in its slot: one
 * killed before it could write is still ours. */
static struct sigchld_slot *slots;
static const pid_t *child_pids;
static uint32_t nslots;
static uint64_t *t_reaped;
static int *wstatus;
static volatile sig_atomic_t reaped, calls, empty_calls, unknown;

/* Records one reaped child (main or handler context: no allocation, no stdio). */
static void record_reap(pid_t pid, int st, uint64_t t)
{
	for (uint32_t i = 0; i < nslots; i++)
		if (child_pids[i] == pid) {
			t_reaped[i] = t;
			wstatus[i] = st;
			reaped++;
			lttng_ust_tracepoint(ipclab_sig, child_reap, pid, st, i);
			return;
		}
	unknown++;
}

/* The handler policy: reap everything that has exited; one call may collect many. */
static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, (uint64_t)calls, si ? si->si_pid : 0, "handler", 0, 0);
	calls++;
	int got = 0;
	for (;;) {
		int st;
		pid_t p = il_waitpid(-1, &st, WNOHANG);
		if (p <= 0)
			break; /* 0: the rest still run; -ECHILD: none left */
		record_reap(p, st, il_now_ns());
		got++;
	}
	if (!got)
		empty_calls++;
	errno = saved;
}

/* Sets the policy's disposition (the old one in *old); the handler policy also blocks
 * SIGCHLD until every child is a zombie (old mask in *oldmask). */
static void set_policy(int policy, struct sigaction *old, sigset_t *oldmask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	(void)pthread_sigmask(policy == POL_HANDLER ? SIG_BLOCK : SIG_UNBLOCK, &chld, oldmask);
	if (policy == POL_HANDLER) {
		sa.sa_sigaction = on_chld;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	} else {
		sa.sa_handler = policy == POL_IGNORE ? SIG_IGN : SIG_DFL;
	}
	(void)sigaction(SIGCHLD, &sa, old);
}

/* Forks the children; each stamps its exit time and exits at once, holding the pipe's
 * write end until then. An exit code (logged); r->spawned counts the forked ones. The
 * children never trace: forked without the tracer's fork hooks (il_fork_untraced), a
 * traced run does not wait for each child's registration with the session daemon.
 * Testing aid: IPCLAB_TEST_SIGCHLD_KILL=K makes child K (1-based) die by SIGKILL before
 * its stamp, as a kill -9 from outside would (a child lives microseconds: a test could
 * not hit one from outside every time). */
static int fork_children(struct sigchld_run *r, uint32_t n)
{
	uint32_t every = n / 8 ? n / 8 : 1;
	const char *tk = getenv("IPCLAB_TEST_SIGCHLD_KILL");
	const unsigned long kill_k = tk ? strtoul(tk, NULL, 10) : 0;
	(void)fflush(NULL);
	r->t_start = il_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		pid_t p = il_fork_untraced();
		if (p < 0) {
			int e = errno;
			il_errno("fork of child %u failed", i + 1);
			return il_exit_for_errno(e);
		}
		if (p == 0) {
			if (i + 1 == kill_k)
				(void)raise(SIGKILL);
			slots[i].pid = getpid();
			slots[i].t_exit = il_now_ns();
			_exit(0);
		}
		r->pids[i] = p;
		r->spawned++;
		if (r->spawned % every == 0)
			(void)sigchld_sample(&r->ss);
	}
	r->t_forked = il_now_ns();
	return IL_OK;
}

/* Waits until every child has exited (EOF on the pipe), then, unless SIGCHLD is
 * ignored, until each is a zombie (waitid WNOWAIT: not reaped). */
static void wait_exited(struct sigchld_run *r, int rfd, int policy)
{
	char ch;
	while (il_read_full(rfd, &ch, 1) == 0)
		;
	r->z_all_exited = sigchld_sample(&r->ss);
	if (policy == POL_IGNORE)
		return;
	for (uint32_t i = 0; i < r->spawned; i++)
		(void)il_child_ended(r->pids[i], true);
	r->z_zombified = sigchld_sample(&r->ss);
}

/* Collects the children the policy's way. */
static void collect(struct sigchld_run *r, int policy, const sigset_t *oldmask)
{
	if (policy == POL_DEFAULT) {
		for (uint32_t i = 0; i < r->spawned; i++) {
			int st;
			if (il_waitpid(r->pids[i], &st, 0) == r->pids[i])
				record_reap(r->pids[i], st, il_now_ns());
		}
	} else if (policy == POL_IGNORE) {
		/* With SIGCHLD ignored, wait blocks until all children are gone, then ECHILD. */
		int st;
		pid_t p = il_waitpid(-1, &st, 0);
		r->t_echild = il_now_ns();
		r->echild = p == -ECHILD;
		r->echild_got_child = p > 0;
		if (p > 0) {
			record_reap(p, st, r->t_echild);
			(void)il_reap_all();
		}
	} else {
		/* Every exit has raised SIGCHLD while it was blocked: one is pending. */
		sigset_t waitmask = *oldmask;
		sigdelset(&waitmask, SIGCHLD);
		while ((uint32_t)reaped + (uint32_t)unknown < r->spawned)
			(void)sigsuspend(&waitmask);
	}
	r->reaped = (uint32_t)reaped;
	r->calls = (uint32_t)calls;
	r->empty_calls = (uint32_t)empty_calls;
	r->unknown = (uint32_t)unknown;
}

/* The reap latency: each child's last stamp to its reap (or to ECHILD for "ignore"). */
static void reap_latency(struct sigchld_run *r, int policy)
{
	il_hist_init(&r->latency, HIST_MAX_NS);
	for (uint32_t i = 0; i < r->spawned; i++) {
		uint64_t te = slots[i].t_exit, tr = policy == POL_IGNORE ? r->t_echild : t_reaped[i];
		if (te && tr >= te)
			il_hist_add(&r->latency, tr - te);
		if (policy != POL_IGNORE && wstatus[i] >= 0 && WIFEXITED(wstatus[i]) && WEXITSTATUS(wstatus[i]) == 0)
			r->statuses_ok++;
		if (policy != POL_IGNORE && wstatus[i] >= 0 && WIFSIGNALED(wstatus[i]) && !r->killed++) {
			r->killed_first = i;
			r->killed_status = wstatus[i];
		}
	}
}

/* One run: fork, wait, collect, count what is left. An exit code (logged). */
static int run_children(struct sigchld_run *r, int policy, uint32_t n)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		int e = errno;
		il_errno("pipe failed");
		return il_exit_for_errno(e);
	}
	struct sigaction old;
	sigset_t oldmask;
	set_policy(policy, &old, &oldmask);
	il_trace_init_thread();
	int rc = fork_children(r, n);
	(void)close(pfd[1]);
	wait_exited(r, pfd[0], policy);
	(void)close(pfd[0]);
	collect(r, policy, &oldmask);
	r->t_done = il_now_ns();
	if (sigchld_count(&r->z_after, &r->left) < 0)
		r->ss.proc_ok = false;
	(void)sigaction(SIGCHLD, &old, NULL);
	(void)pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	reap_latency(r, policy);
	return rc;
}

static int sigchld_measure(struct il_ctx *x, void *cfg)
{
	const struct sigchld_cfg *k = cfg;
	const uint32_t n = (uint32_t)k->children;
	struct sigchld_run *r = calloc(1, sizeof(*r));
	nslots = n;
	slots = il_shared_alloc(n * sizeof(*slots));
	t_reaped = calloc(n, sizeof(*t_reaped));
	wstatus = calloc(n, sizeof(*wstatus));
	reaped = calls = empty_calls = unknown = 0;
	int rc;
	if (!r || !slots || !t_reaped || !wstatus || !(r->pids = calloc(n, sizeof(*r->pids)))) {
		il_err("out of memory");
		rc = IL_NORES;
	} else {
		for (uint32_t i = 0; i < n; i++)
			wstatus[i] = -1;
		child_pids = r->pids;
		r->ss.proc_ok = true;
		r->echild = -1;
		rc = run_children(r, k->policy, n);
		int v = sigchld_verdict(x, r, k->policy, n, rc == IL_OK);
		if (rc == IL_OK)
			rc = v;
	}
	il_shared_free(slots, n * sizeof(*slots));
	slots = NULL;
	child_pids = NULL;
	nslots = 0;
	free(t_reaped);
	free(wstatus);
	t_reaped = NULL;
	wstatus = NULL;
	if (r)
		free(r->pids);
	free(r);
	return rc;
}

static void sigchld_print(const struct il_ctx *x, const void *cfg)
{
	const struct sigchld_cfg *k = cfg;
	const json_t *r = x->results;
	const json_t *lat = json_object_get(r, "reap_latency");
	printf("signal sigchld: policy %s, %" JSON_INTEGER_FORMAT " children%s\n", policy_names[k->policy],
	       il_jint(r, "children_spawned"), il_jtrue(r, "traced") ? ", traced" : "");
	printf("  zombies seen max %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " when all had exited), left after %"
	       JSON_INTEGER_FORMAT "\n", il_jint(r, "zombies_seen_max"), il_jint(r, "zombies_when_all_exited"),
	       il_jint(r, "zombies_after"));
	if (k->policy == POL_DEFAULT)
		printf("  reaped %" JSON_INTEGER_FORMAT " by waitpid, after all %" JSON_INTEGER_FORMAT " were zombies\n",
		       il_jint(r, "reaped_by_waitpid"), il_jint(r, "zombies_before_reaping"));
	else if (k->policy == POL_IGNORE)
		printf("  reaped 0 by us, %" JSON_INTEGER_FORMAT " by the kernel; waitpid(-1) %s\n",
		       il_jint(r, "reaped_by_kernel"),
		       il_jtrue(r, "waitpid_echild") ? "failed with ECHILD" : "did NOT fail with ECHILD");
	else
		printf("  reaped %" JSON_INTEGER_FORMAT " in %" JSON_INTEGER_FORMAT " handler calls (%" JSON_INTEGER_FORMAT
		       " empty): %" JSON_INTEGER_FORMAT " SIGCHLD coalesced\n", il_jint(r, "reaped_by_waitpid"),
		       il_jint(r, "handler_calls"), il_jint(r, "handler_empty_calls"), il_jint(r, "sigchld_coalesced"));
	printf("  reap latency ns (%s): count %" JSON_INTEGER_FORMAT " min %" JSON_INTEGER_FORMAT " mean %.0f p50 %"
	       JSON_INTEGER_FORMAT " p99 %" JSON_INTEGER_FORMAT " max %" JSON_INTEGER_FORMAT "\n",
	       il_jstr(r, "reap_latency_basis", "?"), il_jint(lat, "count"), il_jint(lat, "min"), il_jnum(lat, "mean"),
	       il_jint(lat, "p50"), il_jint(lat, "p99"), il_jint(lat, "max"));
}

const struct il_experiment il_exp_signal_sigchld = {
	.group = "signal",
	.name = "sigchld",
	.summary = "zombies and reaping under SIGCHLD default, SIG_IGN and a reaping handler",
	.help = "Spawn N children that exit at once and watch what becomes of them under a\n"
		"SIGCHLD policy: zombies seen in /proc, who reaps them, SIGCHLD handler calls vs\n"
		"children (standard signals coalesce), and the reap latency (the child's last\n"
		"timestamp before _exit() to waitpid() returning it).",
	.opts = sigchld_opts,
	.cfg_size = sizeof(struct sigchld_cfg),
	.cfg_defaults = &sigchld_defaults,
	.measure = sigchld_measure,
	.print = sigchld_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
