/* sigchld.c - "ipclab signal sigchld": what becomes of children that exit at once, under
 * the three SIGCHLD policies (wait(2), signal(7), sigaction(2) "SA_NOCLDWAIT/SIG_IGN"):
 *   default  zombies accumulate until waitpid() collects them;
 *   ignore   SIGCHLD set to SIG_IGN: the kernel reaps at exit, no zombie ever appears, and
 *            wait blocks until every child is gone, then fails with ECHILD (POSIX.1-2001);
 *   handler  a SIGCHLD handler reaps in a loop (waitpid(-1, WNOHANG) until 0/ECHILD):
 *            SIGCHLD is a standard signal, so exits that arrive while one is pending
 *            coalesce; the loop still leaves no zombie, in at most N handler calls.
 * Zombies are counted in /proc (state Z among the processes whose parent is us). Every
 * child stamps CLOCK_MONOTONIC into shared memory just before _exit(); the reap latency is
 * that stamp to the moment waitpid() returned it. No sleeps: each child holds the write
 * end of a pipe, so EOF means all have exited; waitid(WNOWAIT) waits for a zombie without
 * reaping it. Events: sig_receive per handler call, child_reap per child we reap. */
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <ctype.h>
#include <dirent.h>
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

enum policy { POL_DEFAULT, POL_IGNORE, POL_HANDLER };
static const char *const policy_names[] = { "default", "ignore", "handler", NULL };

/* Written by each child just before _exit() (MAP_SHARED). */
struct slot {
	pid_t pid;
	uint64_t t_exit;
};

/* What the handler touches: fixed arrays allocated before it is installed. */
static struct slot *slots;
static uint32_t nslots;
static uint64_t *t_reaped;
static int *wstatus;
static volatile sig_atomic_t reaped, calls, empty_calls, unknown;

/* Records one reaped child (main or handler context: no allocation, no stdio). */
static void record_reap(pid_t pid, int st, uint64_t t)
{
	for (uint32_t i = 0; i < nslots; i++)
		if (slots[i].pid == pid) {
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
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p <= 0)
			break; /* 0: the rest still run; -1/ECHILD: none left */
		record_reap(p, st, il_now_ns());
		got++;
	}
	if (!got)
		empty_calls++;
	errno = saved;
}

/* Counts the processes whose parent is us in /proc, and those in state Z. */
static int count_children(unsigned *zombies, unsigned *total)
{
	pid_t self = getpid();
	*zombies = *total = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], buf[512];
		(void)snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* "pid (comm) S ppid ...": comm may hold ')' and spaces, so parse after the last ')'. */
		char *rp = strrchr(buf, ')');
		char state;
		int ppid;
		if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (ppid != self)
			continue;
		(*total)++;
		if (state == 'Z')
			(*zombies)++;
	}
	(void)closedir(d);
	return 0;
}

struct sample_state {
	unsigned zmax;
	bool proc_ok;
};

static unsigned sample(struct sample_state *s)
{
	unsigned z, t;
	if (count_children(&z, &t) < 0) {
		s->proc_ok = false;
		return 0;
	}
	if (z > s->zmax)
		s->zmax = z;
	return z;
}

static void sigchld_disposition(int policy, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	if (policy == POL_HANDLER) {
		sa.sa_sigaction = on_chld;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	} else {
		sa.sa_handler = policy == POL_IGNORE ? SIG_IGN : SIG_DFL;
	}
	(void)sigaction(SIGCHLD, &sa, old);
}

/* Adds one named check to the result; returns ok. */
static bool check(json_t *checks, const char *name, bool ok)
{
	il_jset(checks, name, json_boolean(ok));
	return ok;
}

static int sigchld_run(int argc, char **argv)
{
	int policy = POL_DEFAULT;
	uint64_t n = 20;
	const struct il_opt opts[] = {
		{ "policy", IL_OPT_CHOICE, "P", "SIGCHLD disposition: default (zombies until waitpid), ignore "
		  "(SIG_IGN: no zombies, wait fails ECHILD), handler (reaping loop in a handler)", 0, 0, policy_names, &policy },
		{ "children", IL_OPT_U64, "N", "children to spawn, each exits at once (default 20)", 1, 1000, NULL, &n },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Spawn N children that exit at once and watch what becomes of them under a\n"
			       "SIGCHLD policy: zombies seen in /proc, who reaps them, SIGCHLD handler calls vs\n"
			       "children (standard signals coalesce), and the reap latency (the child's last\n"
			       "timestamp before _exit() to waitpid() returning it).",
			       0, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	il_jset(x.params, "policy", json_string(policy_names[policy]));
	il_jset(x.params, "children", json_integer((json_int_t)n));

	int rc = IL_OK;
	nslots = (uint32_t)n;
	slots = il_shared_alloc(n * sizeof(*slots));
	t_reaped = calloc(n, sizeof(*t_reaped));
	wstatus = calloc(n, sizeof(*wstatus));
	pid_t *pids = calloc(n, sizeof(*pids));
	struct il_hist *h = malloc(sizeof(*h));
	reaped = calls = empty_calls = unknown = 0;
	if (!slots || !t_reaped || !wstatus || !pids || !h) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out_mem;
	}
	for (uint32_t i = 0; i < n; i++)
		wstatus[i] = -1;
	il_hist_init(h, HIST_MAX_NS);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		il_errno("pipe failed");
		rc = il_exit_for_errno(errno);
		goto out_mem;
	}
	il_guard_install((unsigned)c->timeout_s);
	struct sigaction old_chld;
	sigchld_disposition(policy, &old_chld);
	il_trace_init_thread();

	struct sample_state ss = { 0, true };
	uint32_t spawned = 0, every = (uint32_t)(n / 8 ? n / 8 : 1);
	(void)fflush(NULL);
	uint64_t t_start = il_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			il_errno("fork of child %u failed", i + 1);
			rc = il_exit_for_errno(errno);
			break;
		}
		if (p == 0) {
			slots[i].pid = getpid();
			slots[i].t_exit = il_now_ns();
			_exit(0);
		}
		pids[i] = p;
		spawned++;
		if (spawned % every == 0)
			(void)sample(&ss);
	}
	uint64_t t_forked = il_now_ns();
	(void)close(pfd[1]);
	/* EOF once every child has exited (each held the write end until then). */
	char ch;
	ssize_t r;
	while ((r = read(pfd[0], &ch, 1)) != 0 && (r > 0 || errno == EINTR))
		;
	(void)close(pfd[0]);
	unsigned z_all_exited = sample(&ss);

	json_t *checks = json_object();
	bool ok = true;
	int echild = -1;
	uint64_t t_echild = 0;
	unsigned z_zombified = 0;
	const char *basis = "waitpid() returned the child";
	if (policy == POL_DEFAULT) {
		/* Wait for each to be a zombie without reaping it (waitid WNOWAIT). */
		for (uint32_t i = 0; i < spawned; i++) {
			siginfo_t si;
			while (waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
				;
		}
		z_zombified = sample(&ss);
		for (uint32_t i = 0; i < spawned; i++) {
			int st;
			pid_t p;
			while ((p = waitpid(pids[i], &st, 0)) < 0 && errno == EINTR)
				;
			if (p == pids[i])
				record_reap(p, st, il_now_ns());
		}
		if (rc == IL_OK && ss.proc_ok) {
			ok &= check(checks, "all_children_were_zombies", z_zombified == spawned);
			if (z_zombified != spawned)
				il_fail("%u of %u exited children showed as zombies in /proc", z_zombified, spawned);
		}
	} else if (policy == POL_IGNORE) {
		/* With SIGCHLD ignored, wait blocks until all children are gone, then ECHILD. */
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, 0)) < 0 && errno == EINTR)
			;
		t_echild = il_now_ns();
		echild = p < 0 && errno == ECHILD;
		basis = "waitpid(-1) failed with ECHILD: the kernel had released every child";
		if (p > 0) {
			record_reap(p, st, t_echild);
			while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
				;
		}
		ok &= check(checks, "waitpid_fails_echild", echild == 1);
		if (echild != 1)
			il_fail("waitpid(-1) with SIGCHLD ignored %s", p > 0 ? "returned a child" : "failed, but not with ECHILD");
	} else {
		sigset_t blk, waitmask;
		sigemptyset(&blk);
		sigaddset(&blk, SIGCHLD);
		(void)sigprocmask(SIG_BLOCK, &blk, &waitmask);
		sigdelset(&waitmask, SIGCHLD);
		while ((uint32_t)reaped + (uint32_t)unknown < spawned)
			(void)sigsuspend(&waitmask);
		(void)sigprocmask(SIG_UNBLOCK, &blk, NULL);
	}
	uint64_t t_done = il_now_ns();
	unsigned z_after, left;
	if (count_children(&z_after, &left) < 0)
		ss.proc_ok = false;
	(void)sigaction(SIGCHLD, &old_chld, NULL);
	il_guard_disarm();

	/* Latency: each child's last stamp to its reap (or to ECHILD for "ignore"). */
	uint32_t statuses_ok = 0;
	for (uint32_t i = 0; i < spawned; i++) {
		uint64_t te = slots[i].t_exit, tr = policy == POL_IGNORE ? t_echild : t_reaped[i];
		if (te && tr >= te)
			il_hist_add(h, tr - te);
		if (policy != POL_IGNORE && wstatus[i] >= 0 && WIFEXITED(wstatus[i]) && WEXITSTATUS(wstatus[i]) == 0)
			statuses_ok++;
	}
	if (!ss.proc_ok)
		il_ctx_warn(&x, "/proc could not be read: zombie counts are missing");
	if (rc == IL_OK) {
		if (policy != POL_IGNORE) {
			ok &= check(checks, "all_reaped", (uint32_t)reaped == spawned);
			ok &= check(checks, "all_exited_0", statuses_ok == spawned);
			if ((uint32_t)reaped != spawned || statuses_ok != spawned)
				il_fail("%u children, %d reaped, %u exited with status 0", spawned, (int)reaped, statuses_ok);
		}
		if (policy == POL_IGNORE && ss.proc_ok) {
			ok &= check(checks, "no_zombie_ever", ss.zmax == 0);
			if (ss.zmax)
				il_fail("SIGCHLD is ignored, yet %u zombies were seen", ss.zmax);
		}
		if (policy == POL_HANDLER) {
			bool cok = calls >= 1 && (uint32_t)calls <= spawned && !unknown;
			ok &= check(checks, "handler_calls_at_most_children", cok);
			if (!cok)
				il_fail("%d handler calls for %u children (%d unknown pids)", (int)calls, spawned, (int)unknown);
		}
		if (ss.proc_ok) {
			ok &= check(checks, "no_zombie_left", z_after == 0);
			ok &= check(checks, "no_child_left", left == 0);
			if (z_after || left)
				il_fail("%u children left after the run, %u of them zombies", left, z_after);
		}
		if (!ok)
			rc = IL_FAIL;
	}

	il_jset(x.results, "children_requested", json_integer((json_int_t)n));
	il_jset(x.results, "children_spawned", json_integer(spawned));
	il_jset(x.results, "zombies_seen_max", ss.proc_ok ? json_integer(ss.zmax) : json_null());
	il_jset(x.results, "zombies_when_all_exited", ss.proc_ok ? json_integer(z_all_exited) : json_null());
	il_jset(x.results, "zombies_before_reaping", policy == POL_DEFAULT && ss.proc_ok ? json_integer(z_zombified) : json_null());
	il_jset(x.results, "zombies_after", ss.proc_ok ? json_integer(z_after) : json_null());
	il_jset(x.results, "children_left", ss.proc_ok ? json_integer(left) : json_null());
	il_jset(x.results, "reaped_by_waitpid", json_integer(reaped));
	il_jset(x.results, "reaped_by", json_string(policy == POL_DEFAULT ? "waitpid in the main loop" :
						  policy == POL_IGNORE ? "the kernel (SIGCHLD ignored)" : "the SIGCHLD handler"));
	il_jset(x.results, "reaped_by_kernel", json_integer(policy == POL_IGNORE ? (json_int_t)spawned : 0));
	il_jset(x.results, "handler_calls", policy == POL_HANDLER ? json_integer(calls) : json_null());
	il_jset(x.results, "handler_empty_calls", policy == POL_HANDLER ? json_integer(empty_calls) : json_null());
	il_jset(x.results, "sigchld_coalesced", policy == POL_HANDLER ? json_integer((json_int_t)spawned - calls) : json_null());
	il_jset(x.results, "waitpid_echild", policy == POL_IGNORE ? json_boolean(echild == 1) : json_null());
	il_jset(x.results, "exit_status_0", policy == POL_IGNORE ? json_null() : json_integer(statuses_ok));
	il_jset(x.results, "reap_latency", il_json_summary(h));
	il_jset(x.results, "reap_latency_basis", json_string(basis));
	il_jset(x.results, "fork_all_ns", json_integer((json_int_t)(t_forked - t_start)));
	il_jset(x.results, "total_ns", json_integer((json_int_t)(t_done - t_start)));
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		struct il_summary s;
		il_hist_summary(h, &s);
		printf("signal sigchld: policy %s, %u children%s\n", policy_names[policy], spawned,
		       il_trace_loaded() ? ", traced" : "");
		printf("  zombies seen max %u (%u when all had exited), left after %u\n", ss.zmax, z_all_exited, z_after);
		if (policy == POL_DEFAULT)
			printf("  reaped %d by waitpid, after all %u were zombies\n", (int)reaped, z_zombified);
		else if (policy == POL_IGNORE)
			printf("  reaped 0 by us, %u by the kernel; waitpid(-1) %s\n", spawned,
			       echild == 1 ? "failed with ECHILD" : "did NOT fail with ECHILD");
		else
			printf("  reaped %d in %d handler calls (%d empty): %d SIGCHLD coalesced\n", (int)reaped,
			       (int)calls, (int)empty_calls, (int)(spawned - (uint32_t)calls));
		printf("  reap latency ns (%s): count %" PRIu64 " min %" PRIu64 " mean %.0f p50 %" PRIu64
		       " p99 %" PRIu64 " max %" PRIu64 "\n", basis, s.count, s.min, s.mean, s.p50, s.p99, s.max);
	}
out_mem:
	il_shared_free(slots, n * sizeof(*slots));
	slots = NULL;
	nslots = 0;
	free(t_reaped);
	free(wstatus);
	free(pids);
	free(h);
	t_reaped = NULL;
	wstatus = NULL;
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_signal_sigchld = {
	.group = "signal",
	.name = "sigchld",
	.summary = "zombies and reaping under SIGCHLD default, SIG_IGN and a reaping handler",
	.run = sigchld_run,
};
