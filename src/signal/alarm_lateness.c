/* alarm_lateness.c - how late periodic timer signals arrive ("ipclab signal alarm",
 * measured, never asserted): a periodic timer of --period-us, observed --ticks times by
 * sigwaitinfo(); lateness = observation time - ideal expiry (start + k * period, an
 * absolute schedule), overruns from timer_getoverrun() (estimated for ITIMER_REAL,
 * which keeps no count). clock_nanosleep(TIMER_ABSTIME) on the same schedule is the
 * baseline without a signal. Each timer runs in its own forked child: ITIMER_REAL is
 * one per process, the same one the parent's --timeout watchdog uses. */
#include "alarm.h"
#include "sigsend.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

const char *const alarm_timer_names[N_TIMERS] = { "itimer_real", "posix_sigev_signal", "posix_sigev_thread_id",
						  "clock_nanosleep_abs" };
static const char *const timer_what[N_TIMERS] = {
	"setitimer(ITIMER_REAL) -> SIGALRM, sigwaitinfo",
	"timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL) -> SIGRTMIN+3, sigwaitinfo",
	"timer_create(CLOCK_MONOTONIC, SIGEV_THREAD_ID) -> SIGRTMIN+3, sigwaitinfo",
	"clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), no signal (baseline)",
};

void tsched_init(struct tsched *s, uint64_t start, uint64_t period)
{
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->period = period;
	s->k = 1;
}

uint64_t tsched_observe(struct tsched *s, uint64_t t, long overrun)
{
	uint64_t ideal = s->start + s->k * s->period;
	/* An estimate can overshoot by one: the kernel re-arms ITIMER_REAL when it dequeues
	 * SIGALRM (hrtimer_forward to the first period boundary after that moment), a little
	 * before our clock read. A timer never fires early, so step back. */
	while (t < ideal && s->guessed) {
		s->guessed--;
		s->missed--;
		s->k--;
		ideal -= s->period;
	}
	uint64_t late = 0;
	if (t < ideal)
		s->early++;
	else
		late = t - ideal;
	uint64_t n = 1;
	s->guessed = 0;
	if (overrun > 0) {
		n += (uint64_t)overrun;
	} else if (overrun < 0 && t > s->start) {
		uint64_t next = (t - s->start) / s->period + 1;
		if (next > s->k + 1) {
			n = next - s->k;
			s->guessed = n - 1;
		}
	}
	s->missed += n - 1;
	s->k += n;
	return late;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
}

/* Starts the child's timer (none for the nanosleep baseline); *start is its schedule's
 * origin. An exit code, logged. */
static int arm(const struct alarm_child *a, int tsig, timer_t *tid, bool *have, uint64_t *start)
{
	const char *name = alarm_timer_names[a->kind];
	*start = il_now_ns();
	if (a->kind == T_ITIMER) {
		/* Relative only: the kernel's grid starts a syscall entry after *start. */
		struct timeval p = { (time_t)(a->period_ns / 1000000000u), (suseconds_t)(a->period_ns % 1000000000u / 1000) };
		struct itimerval v = { .it_interval = p, .it_value = p };
		*start = il_now_ns();
		if (setitimer(ITIMER_REAL, &v, NULL) == 0)
			return IL_OK;
		int e = errno;
		il_errno("%s: setitimer failed", name);
		return il_exit_for_errno(e);
	}
	if (a->kind == T_NANOSLEEP)
		return IL_OK;
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_signo = tsig;
	ev.sigev_notify = a->kind == T_POSIX_SIGNAL ? SIGEV_SIGNAL : SIGEV_THREAD_ID;
	if (a->kind == T_POSIX_THREAD_ID)
		ev._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &ev, tid) < 0) {
		int e = errno;
		il_errno("%s: timer_create failed", name);
		return il_exit_for_errno(e);
	}
	*have = true;
	/* Absolute first expiry: our schedule is exactly the kernel's. */
	*start = il_now_ns();
	struct itimerspec its = { .it_interval = ts_of(a->period_ns), .it_value = ts_of(*start + a->period_ns) };
	if (timer_settime(*tid, TIMER_ABSTIME, &its, NULL) == 0)
		return IL_OK;
	int e = errno;
	il_errno("%s: timer_settime failed", name);
	return il_exit_for_errno(e);
}

/* One observation: sleep to the next due time, or take the timer's signal. Its time in
 * *t and the expirations merged into it in *overrun (-1: unknown). An exit code. */
static int observe(const struct alarm_child *a, const sigset_t *set, timer_t tid, const struct tsched *sc,
		   uint64_t *t, long *overrun)
{
	const char *name = alarm_timer_names[a->kind];
	if (a->kind == T_NANOSLEEP) {
		uint64_t due = sc->start + sc->k * sc->period;
		struct timespec ts = ts_of(due);
		int e;
		while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
			;
		*t = il_now_ns();
		if (e) {
			errno = e;
			il_errno("%s: clock_nanosleep failed", name);
			return IL_FAIL;
		}
		*overrun = *t > due ? (long)((*t - due) / sc->period) : 0; /* slept through these */
		return IL_OK;
	}
	siginfo_t si;
	int r;
	while ((r = sigwaitinfo(set, &si)) < 0 && errno == EINTR)
		;
	*t = il_now_ns();
	if (r < 0) {
		il_errno("%s: sigwaitinfo failed", name);
		return IL_FAIL;
	}
	lttng_ust_tracepoint(ipclab_sig, sig_receive, r, sc->k, si.si_pid, "sigwaitinfo", 0, 0);
	if (a->kind == T_ITIMER) {
		*overrun = -1; /* ITIMER_REAL keeps no count: estimate from the schedule */
	} else {
		int o = timer_getoverrun(tid);
		*overrun = o > 0 ? o : 0;
	}
	return IL_OK;
}

/* The child: arm the timer, observe it a->ticks times, disarm. */
static int child_lateness(void *arg)
{
	struct alarm_child *a = arg;
	struct alarm_shared *sh = a->sh;
	const int tsig = a->kind == T_ITIMER ? SIGALRM : SIGRTMIN + 3;
	timer_t tid = 0;
	bool have_timer = false;
	uint64_t start;

	il_set_task_name("ipclab-sigtimer");
	il_trace_init_thread();
	sh->cpu = il_cpu_now();
	sh->slack_ns = (uint64_t)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, tsig);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct tsched sc;
	int rc = arm(a, tsig, &tid, &have_timer, &start);
	tsched_init(&sc, start, a->period_ns);
	for (uint64_t i = 0; rc == IL_OK && i < a->ticks; i++) {
		uint64_t t;
		long overrun = 0;
		if ((rc = observe(a, &set, tid, &sc, &t, &overrun)) != IL_OK)
			break;
		if (a->kind == T_POSIX_SIGNAL || a->kind == T_POSIX_THREAD_ID)
			sh->overruns += (uint64_t)overrun;
		il_hist_add(&sh->late, tsched_observe(&sc, t, overrun));
		sh->signals++;
	}
	if (a->kind == T_ITIMER || a->kind == T_NANOSLEEP)
		sh->overruns = sc.missed;
	sh->early = sc.early;
	if (a->kind == T_ITIMER) {
		struct itimerval z;
		memset(&z, 0, sizeof(z));
		(void)setitimer(ITIMER_REAL, &z, NULL);
	}
	if (have_timer)
		(void)timer_delete(tid);
	(void)sig_drain(&set);
	return rc;
}

/* One timer kind's result. */
static json_t *timer_json(int k, const struct alarm_shared *sh)
{
	json_t *o = json_pack("{ss sI sI sI si}", "what", timer_what[k], "signals", (json_int_t)sh->signals,
			      "overruns", (json_int_t)sh->overruns, "early", (json_int_t)sh->early, "cpu", sh->cpu);
	il_jset(o, "lateness", il_json_summary(&sh->late));
	il_jset(o, "overruns_source", json_string(k == T_ITIMER ? "estimated from the schedule (ITIMER_REAL keeps no count)"
						  : k == T_NANOSLEEP ? "periods slept through" : "timer_getoverrun()"));
	return o;
}

int alarm_lateness(struct il_ctx *x, int cpu, uint64_t period_ns, uint64_t ticks)
{
	struct alarm_shared *sh = il_shared_alloc(sizeof(*sh));
	if (!sh) {
		il_err("out of memory");
		return IL_NORES;
	}
	struct alarm_child a = { .sh = sh, .period_ns = period_ns, .ticks = ticks };
	json_t *jlate = json_object();
	int rc = IL_OK;
	uint64_t slack = 0;
	for (int k = 0; k < N_TIMERS && rc == IL_OK; k++) {
		memset(sh, 0, sizeof(*sh));
		il_hist_init(&sh->late, HIST_MAX_NS);
		a.kind = k;
		il_info("lateness: %s, %" PRIu64 " x %" PRIu64 " us", alarm_timer_names[k], ticks, period_ns / 1000);
		lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, alarm_timer_names[k], IL_MODE_PROCESS, 0, ticks, 0);
		char what[64];
		(void)snprintf(what, sizeof(what), "the %s lateness child", alarm_timer_names[k]);
		rc = alarm_run_child(cpu, child_lateness, &a, NULL, what);
		lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, alarm_timer_names[k], 0, rc);
		if (rc != IL_OK)
			break;
		slack = sh->slack_ns;
		il_jset(jlate, alarm_timer_names[k], timer_json(k, sh));
		il_ctx_hist(x, alarm_timer_names[k], &sh->late);
		if (sh->early)
			il_ctx_warn(x, "%s: %" PRIu64 " observations before their ideal time (clamped to 0)",
				    alarm_timer_names[k], sh->early);
	}
	il_jset(x->results, "lateness", jlate);
	il_jset(x->results, "timer_slack_ns", json_integer((json_int_t)slack));
	il_shared_free(sh, sizeof(*sh));
	return rc;
}
