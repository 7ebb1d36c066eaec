/* alarm.c - "ipclab signal alarm": what alarm(2), setitimer(2) and POSIX timers promise,
 * checked, and how late periodic timer signals arrive, measured (alarm_lateness.c).
 *
 * Every part runs in a forked child: alarm() and ITIMER_REAL are one per-process timer
 * (the same one our --timeout watchdog uses), so the parent keeps its watchdog and each
 * check starts from a clean process. Checks (exit 1 if one fails):
 *   alarm(10) returns 0, then alarm(5) returns the 10 s left (9 or 10 after rounding),
 *   getitimer(ITIMER_REAL) shows that 5 s (alarm is ITIMER_REAL), alarm(0) cancels and
 *   returns 5 (or 4), and the timer reads zero afterwards;
 *   SIGALRM's default action terminates the process (a 10 ms setitimer, no handler, the
 *   child waiting in pause(), which only a handled signal could end);
 *   pause() returns -1/EINTR once a handler ran, with and without SA_RESTART (a periodic
 *   timer, so an expiry that beats the child to pause() cannot leave it waiting).
 * No check depends on how fast the machine is. */
#include "alarm.h"
#include "sigsend.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/spawn.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

struct alarm_cfg {
	uint64_t period_us, ticks;
};
static const struct alarm_cfg alarm_defaults = { .period_us = 1000, .ticks = 500 };

static const struct il_opt alarm_opts[] = {
	{ .name = "period-us", .type = IL_OPT_U64, .metavar = "P", .min = 20, .max = 1000000,
	  .help = "timer period in microseconds for the lateness part (default 1000)",
	  .off = IL_CFG(struct alarm_cfg, period_us, uint64_t), .param = "period_us" },
	{ .name = "ticks", .type = IL_OPT_U64, .metavar = "K", .min = 1, .max = 1000000,
	  .help = "expiries observed per timer (default 500)",
	  .off = IL_CFG(struct alarm_cfg, ticks, uint64_t), .param = "ticks" },
	{ 0 },
};

int alarm_run_child(int cpu, int (*fn)(void *), struct alarm_child *a, int *wstatus, const char *what)
{
	struct il_peer p;
	int rc = il_spawn(&p, IL_MODE_PROCESS, cpu, fn, a);
	if (rc != IL_OK)
		return rc;
	char how[96];
	rc = il_join(&p, how, sizeof(how));
	if (rc == IL_FAIL && !p.wstatus && !how[0])
		return IL_FAIL; /* waitpid itself failed (logged) */
	if (wstatus) {
		*wstatus = p.wstatus;
		return IL_OK;
	}
	if (how[0])
		il_fail("%s (pid %d) was %s", what, (int)p.pid, how);
	return rc;
}

/* ---- (a) alarm(n) replaces, returns the seconds left; alarm(0) cancels ---- */
static int child_alarm(void *arg)
{
	struct alarm_shared *sh = ((struct alarm_child *)arg)->sh;
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
	(void)arg;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGALRM, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	(void)pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	struct itimerval v = { .it_interval = { 0, 0 }, .it_value = { 0, 10000 } };
	if (setitimer(ITIMER_REAL, &v, NULL) < 0) {
		il_errno("setitimer failed");
		return IL_FAIL;
	}
	for (;;)
		(void)pause(); /* returns only after a handler: none is installed */
}

/* ---- (c) pause() returns -1/EINTR after a handler ran ---- */
static struct alarm_shared *pause_sh;

static void on_alrm(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, (uint64_t)pause_sh->p_handled, si->si_pid, "handler", 0, 0);
	pause_sh->p_handled++;
}

static int child_pause(void *arg)
{
	struct alarm_child *a = arg;
	struct alarm_shared *sh = a->sh;
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
	(void)pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	/* Periodic, so a first expiry that beats us to pause() cannot leave it waiting. */
	struct itimerval v = { .it_interval = { 0, 2000 }, .it_value = { 0, 2000 } };
	uint64_t t0 = il_now_ns();
	if (setitimer(ITIMER_REAL, &v, NULL) < 0) {
		il_errno("setitimer failed");
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

/* Adds check name to checks: {what, expected, actual, pass}; one FAIL line if it failed. */
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

static int check_alarm(int cpu, struct alarm_child *a, json_t *checks, int *failed)
{
	const struct alarm_shared *sh = a->sh;
	int rc = alarm_run_child(cpu, child_alarm, a, NULL, "the alarm() child");
	if (rc != IL_OK)
		return rc;
	add_check(checks, failed, "alarm_first", "alarm(10) with no alarm set returns 0",
		  json_integer(0), json_integer(sh->a_first), sh->a_first == 0);
	add_check(checks, failed, "alarm_replace", "alarm(5) replaces alarm(10) and returns its seconds left, rounded",
		  json_pack("[ii]", 10, 9), json_integer(sh->a_replace), sh->a_replace == 10 || sh->a_replace == 9);
	add_check(checks, failed, "alarm_is_itimer_real", "getitimer(ITIMER_REAL) then shows the 5 s alarm (ms left)",
		  json_pack("[ii]", 4000, 5000), json_integer(sh->itv_after_replace_ms),
		  sh->itv_after_replace_ms > 4000 && sh->itv_after_replace_ms <= 5000);
	add_check(checks, failed, "alarm_cancel", "alarm(0) cancels and returns the seconds left of alarm(5)",
		  json_pack("[ii]", 5, 4), json_integer(sh->a_cancel), sh->a_cancel == 5 || sh->a_cancel == 4);
	add_check(checks, failed, "alarm_cancelled", "afterwards ITIMER_REAL reads 0 us and alarm(0) returns 0",
		  json_pack("[ii]", 0, 0), json_pack("[Ii]", (json_int_t)sh->itv_after_cancel_us, sh->a_again),
		  sh->itv_after_cancel_us == 0 && sh->a_again == 0);
	return IL_OK;
}

static int check_default(struct il_ctx *x, int cpu, struct alarm_child *a, json_t *checks, int *failed)
{
	int st = 0;
	char b[128];
	uint64_t t0 = il_now_ns();
	int rc = alarm_run_child(cpu, child_default, a, &st, "the SIGALRM default-action child");
	if (rc != IL_OK)
		return rc;
	il_jset(x->results, "sigalrm_death_ns", json_integer((json_int_t)(il_now_ns() - t0)));
	add_check(checks, failed, "sigalrm_default_terminates",
		  "a 10 ms ITIMER_REAL with SIGALRM at SIG_DFL kills the process (WIFSIGNALED, WTERMSIG == SIGALRM)",
		  json_string("killed by signal 14 (SIGALRM)"), json_string(il_wait_status_text(st, b, sizeof(b))),
		  WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM);
	return IL_OK;
}

static int check_pause(int cpu, struct alarm_child *a, json_t *checks, int *failed)
{
	const struct alarm_shared *sh = a->sh;
	for (int restart = 0; restart < 2; restart++) {
		memset(a->sh, 0, sizeof(*a->sh));
		a->restart = restart;
		int rc = alarm_run_child(cpu, child_pause, a, NULL, "the pause() child");
		if (rc != IL_OK)
			return rc;
		char got[64];
		(void)snprintf(got, sizeof(got), "%d/%s, handler ran %d time%s", sh->p_ret,
			       sh->p_errno == EINTR ? "EINTR" : strerror(sh->p_errno), (int)sh->p_handled,
			       sh->p_handled == 1 ? "" : "s");
		add_check(checks, failed, restart ? "pause_eintr_sa_restart" : "pause_eintr",
			  restart ? "with SA_RESTART too: pause() is never restarted (signal(7))"
				  : "a handler runs, then pause() returns -1 with errno EINTR",
			  json_string("-1/EINTR, handler ran >= 1 time"), json_string(got),
			  sh->p_ret == -1 && sh->p_errno == EINTR && sh->p_handled >= 1);
	}
	return IL_OK;
}

/* Each timer runs ticks periods; the watchdog must leave room for them. */
static int alarm_params(struct il_ctx *x, void *cfg)
{
	const struct alarm_cfg *l = cfg;
	double est_s = (double)N_TIMERS * (double)l->ticks * (double)l->period_us / 1e6;
	if (est_s + 5 > (double)x->c.timeout_s) {
		il_err("--ticks x --period-us needs about %.0f s for the %d timers, more than --timeout %" PRIu64
		       "; raise --timeout", est_s, N_TIMERS, x->c.timeout_s);
		return IL_USAGE;
	}
	return IL_OK;
}

static int alarm_measure(struct il_ctx *x, void *cfg)
{
	const struct alarm_cfg *l = cfg;
	const int cpu = x->c.cpu[0];
	struct alarm_shared *sh = il_shared_alloc(sizeof(*sh));
	if (!sh) {
		il_err("out of memory");
		return IL_NORES;
	}
	struct alarm_child a = { .sh = sh };
	json_t *checks = json_object();
	int failed = 0;
	il_jset(x->results, "checks", checks);
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, "checks", IL_MODE_PROCESS, 0, 0, 0);
	int rc = check_alarm(cpu, &a, checks, &failed);
	if (rc == IL_OK)
		rc = check_default(x, cpu, &a, checks, &failed);
	if (rc == IL_OK)
		rc = check_pause(cpu, &a, checks, &failed);
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, "checks", 0, failed ? IL_FAIL : rc);
	il_shared_free(sh, sizeof(*sh));
	if (rc == IL_OK)
		rc = alarm_lateness(x, cpu, l->period_us * 1000, l->ticks);
	il_jset(x->results, "checks_failed", json_integer(failed));
	/* results.effect: every semantic check and every timer's lateness are this run's own
	 * observations; a broken one is a failed run (exit 1, its line said), never "not shown". */
	const bool shown = rc == IL_OK && !failed;
	il_jset(x->results, "effect", json_pack("{sb ss}", "shown", shown, "why", shown ?
		"alarm() replaced and cancelled, SIGALRM's default action killed, pause() returned EINTR, "
		"every timer's lateness measured" : "a check failed or the run could not finish (see checks)"));
	/* sig_receive events: 2 pause children (>= 1 each, handler) + ticks per signal timer. */
	il_jset(x->results, "trace_events", json_pack("{sI}", "sig_receive_timers", (json_int_t)(3 * l->ticks)));
	return rc == IL_OK && failed ? IL_FAIL : rc;
}

/* One lateness row from its results object. */
static void lateness_row(const char *label, const json_t *t)
{
	const json_t *s = json_object_get(t, "lateness");
	static const char *const keys[] = { "count", "min", "mean", "stddev", "p50", "p90", "p99", "p999", "max" };
	printf("%-22s", label);
	for (int i = 0; i < 9; i++)
		printf(i == 0 ? " %7.0f" : " %8.0f", il_jnum(s, keys[i]));
	printf(" %8" JSON_INTEGER_FORMAT "\n", il_jint(t, "overruns"));
}

static void alarm_print(const struct il_ctx *x, const void *cfg)
{
	const struct alarm_cfg *l = cfg;
	const json_t *r = x->results;
	printf("signal alarm: checks (each in a forked child)%s\n",
	       il_jtrue(r, "traced") ? ", traced" : "");
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(r, "checks"), name, v) {
		char *act = json_dumps(json_object_get(v, "actual"), JSON_ENCODE_ANY);
		printf("  %-28s %s  %s -> %s\n", name, il_jtrue(v, "pass") ? "PASS" : "FAIL",
		       il_jstr(v, "what", "?"), act ? act : "?");
		free(act);
	}
	const json_t *late = json_object_get(r, "lateness");
	if (!late)
		return;
	printf("timer lateness: period %" PRIu64 " us, %" PRIu64 " ticks each, CPU %s, timer slack %" JSON_INTEGER_FORMAT
	       " ns\n", l->period_us, l->ticks, x->c.cpu[0] < 0 ? "unpinned" : "pinned",
	       il_jint(r, "timer_slack_ns"));
	printf("%-22s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "lateness ns", "count", "min", "mean", "stddev",
	       "p50", "p90", "p99", "p99.9", "max", "overruns");
	for (int k = 0; k < N_TIMERS; k++)
		lateness_row(alarm_timer_names[k], json_object_get(late, alarm_timer_names[k]));
}

const struct il_experiment il_exp_signal_alarm = {
	.group = "signal",
	.name = "alarm",
	.summary = "alarm/setitimer/pause semantics checked; periodic timer signal lateness measured",
	.help = "alarm(2)/setitimer(2)/timer_create(2) semantics, checked in forked children\n"
		"(alarm replaces and returns the seconds left, alarm(0) cancels, SIGALRM's default\n"
		"action terminates, pause() returns -1/EINTR), and the lateness of periodic timer\n"
		"signals against an absolute schedule (measured, never asserted). --cpu A pins the\n"
		"children to A.",
	.common = IL_C_CPU | IL_C_HIST,
	.defaults = { .timeout_s = 120 },
	.opts = alarm_opts,
	.cfg_size = sizeof(struct alarm_cfg),
	.cfg_defaults = &alarm_defaults,
	.params = alarm_params,
	.measure = alarm_measure,
	.print = alarm_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
