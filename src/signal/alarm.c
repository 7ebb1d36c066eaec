/* alarm.c - "ipclab signal alarm": what alarm(2), setitimer(2) and POSIX timers promise,
 * checked, and how late periodic timer signals arrive, measured.
 *
 * Every part runs in a forked child: alarm() and ITIMER_REAL are one per-process timer
 * (the same one our --timeout watchdog uses), so the parent keeps its watchdog and each
 * check starts from a clean process. Checks (exit 1 if one fails):
 *   alarm(10) returns 0, then alarm(5) returns the 10 s left (9 or 10 after rounding),
 *   getitimer(ITIMER_REAL) shows that 5 s (alarm is ITIMER_REAL), alarm(0) cancels and
 *   returns 5 (or 4), and the timer reads zero afterwards;
 *   SIGALRM's default action terminates the process (a 10 ms setitimer, no handler);
 *   pause() returns -1/EINTR once a handler ran, with and without SA_RESTART.
 * Lateness (never asserted): a periodic timer of --period-us, observed --ticks times by
 * sigwaitinfo(); lateness = observation time - ideal expiry (start + k * period, an
 * absolute schedule), overruns from timer_getoverrun() (estimated for ITIMER_REAL,
 * which keeps no count). clock_nanosleep(TIMER_ABSTIME) on the same schedule is the
 * baseline without a signal. */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMMON (IL_C_CPU | IL_C_HIST)
#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

enum timer_kind { T_ITIMER, T_POSIX_SIGNAL, T_POSIX_THREAD_ID, T_NANOSLEEP, N_TIMERS };
static const char *const timer_names[N_TIMERS] = { "itimer_real", "posix_sigev_signal",
						   "posix_sigev_thread_id", "clock_nanosleep_abs" };
static const char *const timer_what[N_TIMERS] = {
	"setitimer(ITIMER_REAL) -> SIGALRM, sigwaitinfo",
	"timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL) -> SIGRTMIN+3, sigwaitinfo",
	"timer_create(CLOCK_MONOTONIC, SIGEV_THREAD_ID) -> SIGRTMIN+3, sigwaitinfo",
	"clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), no signal (baseline)",
};

/* What a child reports back (MAP_SHARED). */
struct ashared {
	/* alarm semantics */
	unsigned a_first, a_replace, a_cancel, a_again;
	long itv_after_replace_ms, itv_after_cancel_us;
	/* pause */
	int p_ret, p_errno;
	volatile sig_atomic_t p_handled;
	uint64_t p_waited_ns;
	/* lateness */
	struct il_hist late;
	uint64_t signals, overruns, early, slack_ns;
	int status;
	int cpu;
	char why[256];
};

struct actx {
	struct ashared *sh;
	uint64_t period_ns, ticks;
	int kind;
	bool restart;
};

/* ---- (a) alarm(n) replaces, returns the seconds left; alarm(0) cancels ---- */
static int child_alarm(void *arg)
{
	struct ashared *sh = ((struct actx *)arg)->sh;
	struct itimerval v;
	/* Never allowed to fire: the longest alarm is cancelled within microseconds. */
	sh->a_first = alarm(10);
	sh->a_replace = alarm(5);
	sh->itv_after_replace_ms = getitimer(ITIMER_REAL, &v) == 0 ?
		(long)v.it_value.tv_sec * 1000 + v.it_value.tv_usec / 1000 : -1;
	sh->a_cancel = alarm(0);
	sh->itv_after_cancel_us = getitimer(ITIMER_REAL, &v) == 0 ?
		(long)v.it_value.tv_sec * 1000000 + v.it_value.tv_usec : -1;
	sh->a_again = alarm(0);
	return IL_OK;
}

/* ---- (b) SIGALRM's default action terminates ---- */
static int child_default(void *arg)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGALRM, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigu_mask(SIG_UNBLOCK, &s);
	struct itimerval v = { .it_interval = { 0, 0 }, .it_value = { 0, 10000 } };
	if (setitimer(ITIMER_REAL, &v, NULL) < 0)
		return IL_FAIL;
	/* Bounded: if SIGALRM did not kill us within 2 s, exit 0 and the check fails. */
	struct timespec ts = { 2, 0 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return IL_OK;
}

/* ---- (c) pause() returns -1/EINTR after a handler ran ---- */
static struct ashared *pause_sh;

static void on_alrm(int sig, siginfo_t *si, void *uc)
{
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, (uint64_t)pause_sh->p_handled, si->si_pid, "handler", 0, 0);
	pause_sh->p_handled++;
}

static int child_pause(void *arg)
{
	struct actx *a = arg;
	struct ashared *sh = a->sh;
	pause_sh = sh;
	il_trace_init_thread();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_alrm;
	sa.sa_flags = SA_SIGINFO | (a->restart ? SA_RESTART : 0);
	(void)sigaction(SIGALRM, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigu_mask(SIG_UNBLOCK, &s);
	/* Periodic, so a first expiry that beats us to pause() cannot leave it waiting. */
	struct itimerval v = { .it_interval = { 0, 2000 }, .it_value = { 0, 2000 } };
	uint64_t t0 = il_now_ns();
	if (setitimer(ITIMER_REAL, &v, NULL) < 0) {
		(void)snprintf(sh->why, sizeof(sh->why), "setitimer failed: %s", strerror(errno));
		return IL_FAIL;
	}
	errno = 0;
	sh->p_ret = pause();
	sh->p_errno = errno;
	sh->p_waited_ns = il_now_ns() - t0;
	memset(&v, 0, sizeof(v));
	(void)setitimer(ITIMER_REAL, &v, NULL);
	return IL_OK;
}

/* ---- (d) lateness of periodic timer signals ---- */
static int child_lateness(void *arg)
{
	struct actx *a = arg;
	struct ashared *sh = a->sh;
	const int tsig = a->kind == T_ITIMER ? SIGALRM : SIGRTMIN + 3;
	const char *method = a->kind == T_NANOSLEEP ? "clock_nanosleep" : "sigwaitinfo";
	timer_t tid = 0;
	bool have_timer = false;
	int rc = IL_OK;

	il_set_task_name("ipclab-sigtimer");
	il_trace_init_thread();
	sh->cpu = il_cpu_now();
	sh->slack_ns = (uint64_t)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, tsig);
	sigu_mask(SIG_BLOCK, &set);

	struct sigu_sched sc;
	uint64_t start = il_now_ns();
	if (a->kind == T_ITIMER) {
		/* Relative only: the kernel's grid starts a syscall entry after `start`. */
		struct timeval p = { (time_t)(a->period_ns / 1000000000u), (suseconds_t)(a->period_ns % 1000000000u / 1000) };
		struct itimerval v = { .it_interval = p, .it_value = p };
		start = il_now_ns();
		if (setitimer(ITIMER_REAL, &v, NULL) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "setitimer failed: %s", strerror(errno));
			return il_exit_for_errno(errno);
		}
	} else if (a->kind == T_POSIX_SIGNAL || a->kind == T_POSIX_THREAD_ID) {
		struct sigevent ev;
		memset(&ev, 0, sizeof(ev));
		ev.sigev_signo = tsig;
		ev.sigev_value.sival_ptr = NULL;
		if (a->kind == T_POSIX_SIGNAL) {
			ev.sigev_notify = SIGEV_SIGNAL;
		} else {
			ev.sigev_notify = SIGEV_THREAD_ID;
			ev._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* sigev_notify_thread_id */
		}
		if (timer_create(CLOCK_MONOTONIC, &ev, &tid) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "timer_create failed: %s", strerror(errno));
			return il_exit_for_errno(errno);
		}
		have_timer = true;
		/* Absolute first expiry: our schedule is exactly the kernel's. */
		start = il_now_ns();
		uint64_t first = start + a->period_ns;
		struct itimerspec its = {
			.it_interval = { (time_t)(a->period_ns / 1000000000u), (long)(a->period_ns % 1000000000u) },
			.it_value = { (time_t)(first / 1000000000u), (long)(first % 1000000000u) },
		};
		if (timer_settime(tid, TIMER_ABSTIME, &its, NULL) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "timer_settime failed: %s", strerror(errno));
			rc = il_exit_for_errno(errno);
			goto out;
		}
	}
	sigu_sched_init(&sc, start, a->period_ns);
	for (uint64_t i = 0; i < a->ticks; i++) {
		uint64_t t;
		long overrun = 0;
		if (a->kind == T_NANOSLEEP) {
			uint64_t due = sc.start + sc.k * sc.period;
			struct timespec ts = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
			int e;
			while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
				;
			t = il_now_ns();
			if (e) {
				(void)snprintf(sh->why, sizeof(sh->why), "clock_nanosleep failed: %s", strerror(e));
				rc = IL_FAIL;
				break;
			}
			overrun = t > due ? (long)((t - due) / sc.period) : 0; /* slept through these */
		} else {
			siginfo_t si;
			int r;
			while ((r = sigwaitinfo(&set, &si)) < 0 && errno == EINTR)
				;
			t = il_now_ns();
			if (r < 0) {
				(void)snprintf(sh->why, sizeof(sh->why), "sigwaitinfo failed: %s", strerror(errno));
				rc = IL_FAIL;
				break;
			}
			lttng_ust_tracepoint(ipclab_sig, sig_receive, r, sc.k, si.si_pid, method, 0, 0);
			if (a->kind == T_ITIMER) {
				overrun = -1; /* ITIMER_REAL keeps no count: estimate from the schedule */
			} else {
				int o = timer_getoverrun(tid);
				overrun = o > 0 ? o : 0;
				sh->overruns += (uint64_t)overrun;
			}
		}
		il_hist_add(&sh->late, sigu_sched_observe(&sc, t, overrun));
		sh->signals++;
	}
	if (a->kind == T_ITIMER || a->kind == T_NANOSLEEP)
		sh->overruns = sc.missed;
	sh->early = sc.early;
out:
	if (a->kind == T_ITIMER) {
		struct itimerval z;
		memset(&z, 0, sizeof(z));
		(void)setitimer(ITIMER_REAL, &z, NULL);
	}
	if (have_timer)
		(void)timer_delete(tid);
	(void)sigu_drain(&set);
	return rc;
}

/* Runs one child and returns its exit code (IL_FAIL and a message if it was killed). */
static int run(int cpu, int (*fn)(void *), struct actx *a, int *wstatus)
{
	int st = 0;
	int rc = sigu_run_child(cpu, fn, a, &st);
	if (wstatus)
		*wstatus = st;
	if (rc)
		return rc;
	if (wstatus)
		return IL_OK;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	char b[96];
	il_fail("the child was %s", sigu_wstatus(st, b, sizeof(b)));
	return IL_FAIL;
}

/* Adds check name to checks: {what, expected, actual, pass}. */
static void add_check(json_t *checks, int *failed, const char *name, const char *what, json_t *expected,
		      json_t *actual, bool pass)
{
	json_t *o = json_pack("{ss so so sb}", "what", what, "expected", expected, "actual", actual, "pass", pass);
	il_jset(checks, name, o);
	if (!pass) {
		(*failed)++;
		char *e = json_dumps(expected, JSON_ENCODE_ANY), *g = json_dumps(actual, JSON_ENCODE_ANY);
		il_fail("%s: expected %s, got %s", name, e ? e : "?", g ? g : "?");
		free(e);
		free(g);
	}
}

static void row(const char *label, const struct il_hist *h, uint64_t overruns)
{
	struct il_summary s;
	il_hist_summary(h, &s);
	printf("%-22s %7" PRIu64 " %8" PRIu64 " %8.0f %8.0f %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
	       label, s.count, s.min, s.mean, s.stddev, s.p50, s.p90, s.p99, s.p999, s.max, overruns);
}

static int alarm_run(int argc, char **argv)
{
	uint64_t period_us = 1000, ticks = 500;
	const struct il_opt opts[] = {
		{ "period-us", IL_OPT_U64, "P", "timer period in microseconds for the lateness part (default 1000)", 20, 1000000, NULL, &period_us },
		{ "ticks", IL_OPT_U64, "K", "expiries observed per timer (default 500)", 1, 1000000, NULL, &ticks },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.timeout_s = 120;
	int prc = il_ctx_parse(&x, "alarm(2)/setitimer(2)/timer_create(2) semantics, checked in forked children\n"
			       "(alarm replaces and returns the seconds left, alarm(0) cancels, SIGALRM's default\n"
			       "action terminates, pause() returns -1/EINTR), and the lateness of periodic timer\n"
			       "signals against an absolute schedule (measured, never asserted). --cpu A pins the\n"
			       "children to A.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const uint64_t period_ns = period_us * 1000;
	il_jset(x.params, "period_us", json_integer((json_int_t)period_us));
	il_jset(x.params, "ticks", json_integer((json_int_t)ticks));
	/* Each timer runs ticks periods; leave the watchdog room. */
	double est_s = (double)N_TIMERS * (double)ticks * (double)period_ns / 1e9;
	if (est_s + 5 > (double)c->timeout_s) {
		return il_ctx_usage(&x, "--ticks x --period-us needs about %.0f s for the %d timers, more than --timeout %"
				    PRIu64 "; raise --timeout", est_s, N_TIMERS, c->timeout_s);
	}

	il_guard_install((unsigned)c->timeout_s);
	const int cpu = c->cpu[0];
	struct ashared *sh = il_shared_alloc(sizeof(*sh));
	struct il_hist *late[N_TIMERS] = { 0 };
	uint64_t overruns[N_TIMERS] = { 0 };
	json_t *checks = json_object(), *jlate = json_object();
	int rc = IL_OK, failed = 0, st = 0;
	char b[128];
	if (!sh) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	struct actx a = { .sh = sh, .period_ns = period_ns, .ticks = ticks };
	lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, "checks", IL_MODE_PROCESS, 0, 0, 0);

	/* (a) */
	memset(sh, 0, sizeof(*sh));
	if ((rc = run(cpu, child_alarm, &a, NULL)) != IL_OK)
		goto out;
	add_check(checks, &failed, "alarm_first", "alarm(10) with no alarm set returns 0",
		  json_integer(0), json_integer(sh->a_first), sh->a_first == 0);
	add_check(checks, &failed, "alarm_replace", "alarm(5) replaces alarm(10) and returns its seconds left, rounded",
		  json_pack("[ii]", 10, 9), json_integer(sh->a_replace), sh->a_replace == 10 || sh->a_replace == 9);
	add_check(checks, &failed, "alarm_is_itimer_real", "getitimer(ITIMER_REAL) then shows the 5 s alarm (ms left)",
		  json_pack("[ii]", 4000, 5000), json_integer(sh->itv_after_replace_ms),
		  sh->itv_after_replace_ms > 4000 && sh->itv_after_replace_ms <= 5000);
	add_check(checks, &failed, "alarm_cancel", "alarm(0) cancels and returns the seconds left of alarm(5)",
		  json_pack("[ii]", 5, 4), json_integer(sh->a_cancel), sh->a_cancel == 5 || sh->a_cancel == 4);
	add_check(checks, &failed, "alarm_cancelled", "afterwards ITIMER_REAL reads 0 us and alarm(0) returns 0",
		  json_pack("[ii]", 0, 0), json_pack("[Ii]", (json_int_t)sh->itv_after_cancel_us, sh->a_again),
		  sh->itv_after_cancel_us == 0 && sh->a_again == 0);

	/* (b) */
	memset(sh, 0, sizeof(*sh));
	uint64_t t0 = il_now_ns();
	if ((rc = run(cpu, child_default, &a, &st)) != IL_OK)
		goto out;
	uint64_t died_ns = il_now_ns() - t0;
	add_check(checks, &failed, "sigalrm_default_terminates",
		  "a 10 ms ITIMER_REAL with SIGALRM at SIG_DFL kills the process (WIFSIGNALED, WTERMSIG == SIGALRM)",
		  json_string("killed by signal 14 (Alarm clock)"), json_string(sigu_wstatus(st, b, sizeof(b))),
		  WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM);

	/* (c) */
	for (int restart = 0; restart < 2; restart++) {
		memset(sh, 0, sizeof(*sh));
		a.restart = restart;
		if ((rc = run(cpu, child_pause, &a, NULL)) != IL_OK) {
			if (sh->why[0])
				il_err("%s", sh->why);
			goto out;
		}
		char got[64];
		(void)snprintf(got, sizeof(got), "%d/%s, handler ran %d time%s", sh->p_ret,
			       sh->p_errno == EINTR ? "EINTR" : strerror(sh->p_errno), (int)sh->p_handled,
			       sh->p_handled == 1 ? "" : "s");
		add_check(checks, &failed, restart ? "pause_eintr_sa_restart" : "pause_eintr",
			  restart ? "with SA_RESTART too: pause() is never restarted (signal(7))"
				  : "a handler runs, then pause() returns -1 with errno EINTR",
			  json_string("-1/EINTR, handler ran >= 1 time"), json_string(got),
			  sh->p_ret == -1 && sh->p_errno == EINTR && sh->p_handled >= 1);
	}
	lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, "checks", 0, failed ? IL_FAIL : IL_OK);

	/* (d) */
	uint64_t slack = 0;
	for (int k = 0; k < N_TIMERS; k++) {
		late[k] = malloc(sizeof(*late[k]));
		if (!late[k]) {
			il_err("out of memory");
			rc = IL_NORES;
			goto out;
		}
		memset(sh, 0, sizeof(*sh));
		il_hist_init(&sh->late, HIST_MAX_NS);
		a.kind = k;
		il_info("lateness: %s, %" PRIu64 " x %" PRIu64 " us", timer_names[k], ticks, period_us);
		lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, timer_names[k], IL_MODE_PROCESS, 0, ticks, 0);
		rc = run(cpu, child_lateness, &a, NULL);
		lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, timer_names[k], 0, rc);
		if (rc != IL_OK) {
			if (sh->why[0])
				il_err("%s: %s", timer_names[k], sh->why);
			goto out;
		}
		*late[k] = sh->late;
		overruns[k] = sh->overruns;
		slack = sh->slack_ns;
		json_t *o = json_pack("{ss sI sI sI si}", "what", timer_what[k], "signals", (json_int_t)sh->signals,
				      "overruns", (json_int_t)sh->overruns, "early", (json_int_t)sh->early, "cpu", sh->cpu);
		il_jset(o, "lateness", il_json_summary(late[k]));
		il_jset(o, "overruns_source", json_string(k == T_ITIMER ? "estimated from the schedule (ITIMER_REAL keeps no count)"
							  : k == T_NANOSLEEP ? "periods slept through" : "timer_getoverrun()"));
		il_jset(jlate, timer_names[k], o);
		if (sh->early)
			il_ctx_warn(&x, "%s: %" PRIu64 " observations before their ideal time (clamped to 0)", timer_names[k],
				    sh->early);
	}
	il_guard_disarm();

	il_jset(x.results, "checks", checks);
	checks = NULL;
	il_jset(x.results, "lateness", jlate);
	jlate = NULL;
	il_jset(x.results, "sigalrm_death_ns", json_integer((json_int_t)died_ns));
	il_jset(x.results, "timer_slack_ns", json_integer((json_int_t)slack));
	il_jset(x.results, "checks_failed", json_integer(failed));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	/* sig_receive events: 2 pause children (>= 1 each, handler) + ticks per signal timer. */
	il_jset(x.results, "trace_events", json_pack("{sI}", "sig_receive_timers", (json_int_t)(3 * ticks)));

	if (!c->json || c->json_file) {
		printf("signal alarm: checks (each in a forked child)%s\n", il_trace_loaded() ? ", traced" : "");
		json_t *res_checks = json_object_get(x.results, "checks");
		const char *name;
		json_t *v;
		json_object_foreach(res_checks, name, v) {
			char *act = json_dumps(json_object_get(v, "actual"), JSON_ENCODE_ANY);
			printf("  %-28s %s  %s -> %s\n", name, json_is_true(json_object_get(v, "pass")) ? "PASS" : "FAIL",
			       json_string_value(json_object_get(v, "what")), act ? act : "?");
			free(act);
		}
		printf("timer lateness: period %" PRIu64 " us, %" PRIu64 " ticks each, CPU %s, timer slack %" PRIu64 " ns\n",
		       period_us, ticks, cpu < 0 ? "unpinned" : "pinned", slack);
		printf("%-22s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "lateness ns", "count", "min", "mean", "stddev",
		       "p50", "p90", "p99", "p99.9", "max", "overruns");
		for (int k = 0; k < N_TIMERS; k++)
			row(timer_names[k], late[k], overruns[k]);
	}
	if (c->hist && il_write_hists(c->hist_file, N_TIMERS, (const struct il_hist *const *)late, timer_names) != IL_OK)
		rc = IL_FAIL;
	if (failed && rc == IL_OK)
		rc = IL_FAIL;
out:
	il_guard_disarm();
	if (checks)
		il_jset(x.results, "checks", checks);
	if (jlate)
		il_jset(x.results, "lateness", jlate);
	if (failed && rc == IL_OK)
		rc = IL_FAIL;
	for (int k = 0; k < N_TIMERS; k++)
		free(late[k]);
	il_shared_free(sh, sizeof(*sh));
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_signal_alarm = {
	.group = "signal",
	.name = "alarm",
	.summary = "alarm/setitimer/pause semantics checked; periodic timer signal lateness measured",
	.run = alarm_run,
};
