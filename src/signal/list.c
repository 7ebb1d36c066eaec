/* list.c - "ipclab signal list": the signal catalogue, like "kill -l", with the default
 * action (signal(7) table) and whether a handler can be installed, MEASURED: sigaction()
 * with a handler on every signal (restored at once, every signal blocked meanwhile, so
 * nothing is disturbed). SIGKILL and SIGSTOP fail with EINVAL (sigaction(2)); glibc also
 * refuses the two real-time signals it keeps for itself (32: thread cancellation and
 * timers, 33: setxid broadcast), so SIGRTMIN is 34 - the raw rt_sigaction system call,
 * measured beside it, shows the kernel itself would accept them. */
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __SIGRTMIN
#define __SIGRTMIN 32
#endif

/* Default actions, signal(7) "Standard signals". Real-time signals: terminate. */
static const struct {
	int sig;
	const char *action;
} actions[] = {
	{ SIGHUP, "terminate" }, { SIGINT, "terminate" }, { SIGQUIT, "core" }, { SIGILL, "core" },
	{ SIGTRAP, "core" }, { SIGABRT, "core" }, { SIGBUS, "core" }, { SIGFPE, "core" },
	{ SIGKILL, "terminate" }, { SIGUSR1, "terminate" }, { SIGSEGV, "core" }, { SIGUSR2, "terminate" },
	{ SIGPIPE, "terminate" }, { SIGALRM, "terminate" }, { SIGTERM, "terminate" },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "terminate" },
#endif
	{ SIGCHLD, "ignore" }, { SIGCONT, "continue" }, { SIGSTOP, "stop" }, { SIGTSTP, "stop" },
	{ SIGTTIN, "stop" }, { SIGTTOU, "stop" }, { SIGURG, "ignore" }, { SIGXCPU, "core" },
	{ SIGXFSZ, "core" }, { SIGVTALRM, "terminate" }, { SIGPROF, "terminate" }, { SIGWINCH, "ignore" },
	{ SIGIO, "terminate" },
#ifdef SIGPWR
	{ SIGPWR, "terminate" },
#endif
	{ SIGSYS, "core" },
};

static const char *default_action(int sig)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].sig == sig)
			return actions[i].action;
	return "terminate"; /* real-time signals, and glibc's reserved ones */
}

static void dummy_handler(int sig)
{
	(void)sig;
}

/* The kernel's struct sigaction for rt_sigaction(2) on x86-64 and arm64 (with sa_restorer). */
#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_KSIGACTION 1
struct k_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};
#endif

/* Tries to install a handler through glibc; returns 0 or the errno. Restores the old one. */
static int probe_libc(int sig)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dummy_handler;
	if (sigaction(sig, &sa, &old) < 0)
		return errno;
	(void)sigaction(sig, &old, NULL);
	return 0;
}

/* Same through the raw system call: 1 accepted, 0 refused, -1 not measured here. */
static int probe_kernel(int sig)
{
#ifdef HAVE_KSIGACTION
	struct k_sigaction ka, old;
	memset(&ka, 0, sizeof(ka));
	memset(&old, 0, sizeof(old));
	ka.handler = dummy_handler; /* never delivered: every signal is blocked meanwhile */
	if (syscall(SYS_rt_sigaction, sig, &ka, &old, sizeof(ka.mask)) < 0)
		return 0;
	(void)syscall(SYS_rt_sigaction, sig, &old, NULL, sizeof(old.mask));
	return 1;
#else
	(void)sig;
	return -1;
#endif
}

/* "kill -l" names: HUP ... SYS, RTMIN, RTMIN+1 ... RTMAX-1, RTMAX; SIG32/SIG33 for glibc's. */
static void sig_name(int sig, char *buf, size_t len)
{
	const char *n = sig == SIGIO ? "IO" : sig < __SIGRTMIN ? sigabbrev_np(sig) : NULL; /* glibc says POLL */
	int lo = SIGRTMIN, hi = SIGRTMAX;
	if (n)
		(void)snprintf(buf, len, "%s", n);
	else if (sig < lo)
		(void)snprintf(buf, len, "SIG%d", sig);
	else if (sig == lo)
		(void)snprintf(buf, len, "RTMIN");
	else if (sig == hi)
		(void)snprintf(buf, len, "RTMAX");
	else if (sig - lo <= (hi - lo) / 2)
		(void)snprintf(buf, len, "RTMIN+%d", sig - lo);
	else
		(void)snprintf(buf, len, "RTMAX-%d", hi - sig);
}

/* signal(7)/strsignal(3) wording; real-time signals are numbered from SIGRTMIN. */
static void sig_descr(int sig, char *buf, size_t len)
{
	const char *d = sigdescr_np(sig);
	if (d)
		(void)snprintf(buf, len, "%s", d);
	else if (sig >= SIGRTMIN)
		(void)snprintf(buf, len, "Real-time signal %d", sig - SIGRTMIN);
	else
		(void)snprintf(buf, len, "reserved by glibc");
}

/* One signal's row: the measured outcome beside what signal(7) and glibc say. */
static json_t *signal_json(int s, int libc_err, int kern)
{
	char name[24], descr[64], full[32];
	sig_name(s, name, sizeof(name));
	sig_descr(s, descr, sizeof(descr));
	bool res = s >= __SIGRTMIN && s < SIGRTMIN;
	(void)snprintf(full, sizeof(full), "%s%s", res ? "" : "SIG", name);
	json_t *o = json_pack("{si ss ss ss sb sb sb}", "number", s, "name", name, "signal", full,
			      "default_action", default_action(s), "catchable", libc_err == 0,
			      "realtime", s >= __SIGRTMIN, "reserved_by_libc", res);
	il_jset(o, "catch_error", libc_err ? json_string(strerrorname_np(libc_err)) : json_null());
	il_jset(o, "kernel_catchable", kern < 0 ? json_null() : json_boolean(kern));
	il_jset(o, "description", json_string(descr));
	return o;
}

/* The promise (sigaction(2)): SIGKILL and SIGSTOP cannot be caught, EINVAL. Any other
 * refusal is reported, not failed: the environment may keep a signal (valgrind keeps
 * SIGRTMAX for itself), which is exactly what measuring is for. IL_OK or IL_FAIL. */
static int check_signal(struct il_ctx *x, int s, int libc_err)
{
	char name[24], full[32];
	bool res = s >= __SIGRTMIN && s < SIGRTMIN, catchable = libc_err == 0;
	bool expect = s != SIGKILL && s != SIGSTOP && !res;
	sig_name(s, name, sizeof(name));
	(void)snprintf(full, sizeof(full), "%s%s", res ? "" : "SIG", name);
	if ((s == SIGKILL || s == SIGSTOP) && catchable) {
		il_fail("%s (%d): a handler was installed, sigaction(2) promises EINVAL", full, s);
		return IL_FAIL;
	}
	if (catchable != expect)
		il_ctx_warn(x, "%s (%d): sigaction %s, unlike a plain glibc process%s", full, s,
			    catchable ? "succeeded" : strerror(libc_err),
			    catchable ? "" : " (kept by this environment, e.g. valgrind or a debugger?)");
	if ((s == SIGKILL || s == SIGSTOP) && !catchable && libc_err != EINVAL) {
		il_fail("%s: sigaction failed with %s, not EINVAL", full, strerror(libc_err));
		return IL_FAIL;
	}
	return IL_OK;
}

static int list_measure(struct il_ctx *x, void *cfg)
{
	const int maxsig = SIGRTMAX;
	int libc_err[_NSIG], kern[_NSIG];

	/* Block everything while handlers are swapped, so no signal meets the dummy. */
	sigset_t all, old;
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	for (int s = 1; s <= maxsig; s++) {
		libc_err[s] = probe_libc(s);
		kern[s] = probe_kernel(s);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);

	int rc = IL_OK, ncatch = 0;
	json_t *sigs = json_array(), *uncatchable = json_array(), *reserved = json_array();
	for (int s = 1; s <= maxsig; s++) {
		if (!libc_err[s])
			ncatch++;
		else
			(void)json_array_append_new(uncatchable, json_integer(s));
		if (s >= __SIGRTMIN && s < SIGRTMIN)
			(void)json_array_append_new(reserved, json_integer(s));
		if (check_signal(x, s, libc_err[s]) != IL_OK)
			rc = IL_FAIL;
		(void)json_array_append_new(sigs, signal_json(s, libc_err[s], kern[s]));
	}
	il_jset(x->results, "signals", sigs);
	il_jset(x->results, "count", json_integer(maxsig));
	il_jset(x->results, "catchable_count", json_integer(ncatch));
	il_jset(x->results, "uncatchable", uncatchable);
	il_jset(x->results, "libc_reserved", reserved);
	il_jset(x->results, "sigrtmin", json_integer(SIGRTMIN));
	il_jset(x->results, "sigrtmax", json_integer(SIGRTMAX));
	il_jset(x->results, "kernel_sigrtmin", json_integer(__SIGRTMIN));
	il_jset(x->results, "catchable_measured_with", json_string("sigaction() installing a handler, restored at once"));
	return rc;
}

/* The "kill -l"-like table, from the results. */
static void list_print(const struct il_ctx *x, const void *cfg)
{
	const json_t *r = x->results;
	printf("%3s  %-10s  %-9s  %-24s  %s\n", "no", "name", "default", "catchable", "description");
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(r, "signals"), i, o) {
		char catch_s[48] = "yes";
		if (!il_jtrue(o, "catchable"))
			(void)snprintf(catch_s, sizeof(catch_s), "no (%s%s)", il_jstr(o, "catch_error", "?"),
				       il_jtrue(o, "kernel_catchable") ? "; kernel: yes" : "");
		printf("%3d  %-10s  %-9s  %-24s  %s\n", (int)il_jint(o, "number"), il_jstr(o, "name", "?"),
		       il_jstr(o, "default_action", "?"), catch_s, il_jstr(o, "description", "?"));
	}
	printf("real-time: SIGRTMIN %d .. SIGRTMAX %d (glibc keeps %d..%d); %d of %d catchable\n",
	       (int)il_jint(r, "sigrtmin"), (int)il_jint(r, "sigrtmax"), (int)il_jint(r, "kernel_sigrtmin"),
	       (int)il_jint(r, "sigrtmin") - 1, (int)il_jint(r, "catchable_count"), (int)il_jint(r, "count"));
}

const struct il_experiment il_exp_signal_list = {
	.group = "signal",
	.name = "list",
	.summary = "every signal like kill -l: number, name, default action, catchable (measured)",
	.help = "Every signal like 'kill -l': number, name, default action (signal(7)), and\n"
		"whether it can be caught, measured by installing a handler with sigaction() on\n"
		"each (restored at once). Real-time signals SIGRTMIN..SIGRTMAX; glibc keeps 32 and 33.",
	.measure = list_measure,
	.print = list_print,
	.flags = IL_EXP_PRINT_ON_FAIL,
};
