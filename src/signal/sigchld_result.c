/* sigchld_result.c - "ipclab signal sigchld": zombies counted in /proc, and the verdict
 * and result of one run. */
#include "sigchld.h"
#include "../core/log.h"
#include "../core/sys.h"

#include <dirent.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

/* True if child PID is a zombie its parent can still collect. /proc shows 'Z' for an
 * instant even when SIGCHLD is ignored: the kernel's exit path marks the task a zombie,
 * then, still under the task-list lock, dead (autoreap). waitid() takes that lock, so
 * its answer is final: a zombie that will stay one until it is waited for. WNOWAIT
 * leaves it a zombie. */
static bool waitable_zombie(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

int sigchld_count(unsigned *zombies, unsigned *total)
{
	pid_t self = getpid();
	*zombies = *total = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		struct il_proc_stat st;
		if (*end || pid <= 0 || il_proc_stat((pid_t)pid, &st) < 0 || st.ppid != self)
			continue; /* not a process, gone meanwhile, or not ours */
		(*total)++;
		if (st.state == 'Z' && waitable_zombie((pid_t)pid))
			(*zombies)++;
	}
	(void)closedir(d);
	return 0;
}

unsigned sigchld_sample(struct sigchld_samples *s)
{
	unsigned z, t;
	if (sigchld_count(&z, &t) < 0) {
		s->proc_ok = false;
		return 0;
	}
	if (z > s->zmax)
		s->zmax = z;
	return z;
}

/* Adds one named check; returns ok. */
static bool check(json_t *checks, const char *name, bool ok)
{
	il_jset(checks, name, json_boolean(ok));
	return ok;
}

/* The promises of each policy, one FAIL line per broken one. */
static bool judge(const struct sigchld_run *r, int policy, json_t *checks)
{
	const uint32_t n = r->spawned;
	bool ok = true;
	if (policy == POL_DEFAULT && r->ss.proc_ok && !check(checks, "all_children_were_zombies", r->z_zombified == n)) {
		il_fail("%u of %u exited children showed as zombies in /proc", r->z_zombified, n);
		ok = false;
	}
	if (policy == POL_IGNORE && !check(checks, "waitpid_fails_echild", r->echild == 1)) {
		il_fail("waitpid(-1) with SIGCHLD ignored %s",
			r->echild_got_child ? "returned a child" : "failed, but not with ECHILD");
		ok = false;
	}
	if (policy != POL_IGNORE) {
		bool a = check(checks, "all_reaped", r->reaped == n), b = check(checks, "all_exited_0", r->statuses_ok == n);
		if (!a || !b) {
			char how[96];
			if (r->killed) /* the cause: what the kill changed downstream is not news */
				il_fail("child %u of %u (pid %d) was %s before it could exit (%u killed in all)",
					r->killed_first + 1, n, (int)r->pids[r->killed_first],
					il_wait_status_text(r->killed_status, how, sizeof(how)), r->killed);
			else
				il_fail("%u children, %u reaped, %u exited with status 0", n, r->reaped, r->statuses_ok);
			ok = false;
		}
	}
	if (policy == POL_IGNORE && r->ss.proc_ok && !check(checks, "no_zombie_ever", r->ss.zmax == 0)) {
		il_fail("SIGCHLD is ignored, yet %u zombies were seen", r->ss.zmax);
		ok = false;
	}
	if (policy == POL_HANDLER) {
		bool cok = check(checks, "handler_calls_at_most_children", r->calls >= 1 && r->calls <= n && !r->unknown);
		bool coal = n < 2 || check(checks, "sigchld_coalesced", r->calls < n); /* one exit: see effect() */
		if (!cok || !coal) {
			il_fail("%u handler calls for %u children (%u unknown pids)%s", r->calls, n, r->unknown,
				coal ? "" : ": the exits while SIGCHLD was blocked did not coalesce");
			ok = false;
		}
	}
	if (r->ss.proc_ok) {
		bool a = check(checks, "no_zombie_left", r->z_after == 0), b = check(checks, "no_child_left", r->left == 0);
		if (!a || !b) {
			il_fail("%u children left after the run, %u of them zombies", r->left, r->z_after);
			ok = false;
		}
	}
	return ok;
}

/* results.effect: whether the policy's point showed in this run, and in words. */
static json_t *effect(const struct sigchld_run *r, int policy, bool *shown)
{
	const uint32_t n = r->spawned;
	json_t *why;
	if (policy == POL_DEFAULT) {
		*shown = r->ss.proc_ok && n > 0 && r->z_zombified == n;
		why = r->ss.proc_ok ? json_sprintf("%u exited children stayed zombies until waitpid() reaped them", r->z_zombified)
				    : json_string("/proc could not be read: the zombies could not be counted");
	} else if (policy == POL_IGNORE) {
		*shown = r->echild == 1 && (!r->ss.proc_ok || r->ss.zmax == 0);
		why = json_sprintf("%u children reaped by the kernel: %s; waitpid(-1) %s", n,
				   r->ss.proc_ok ? (r->ss.zmax ? "zombies appeared" : "no zombie appeared") : "/proc unreadable",
				   r->echild == 1 ? "failed with ECHILD" : "did not fail with ECHILD");
	} else {
		*shown = n >= 2 && r->calls >= 1 && r->calls < n;
		why = n < 2 ? json_string("one child: its SIGCHLD had nothing to coalesce with (give --children 2 or more)")
			    : json_sprintf("%u exits raised SIGCHLD while it was blocked: %u handler call%s reaped them all", n,
					   r->calls, r->calls == 1 ? "" : "s");
	}
	return json_pack("{sb so}", "shown", *shown, "why", why);
}

static json_t *int_if(bool cond, json_int_t v)
{
	return cond ? json_integer(v) : json_null();
}

int sigchld_verdict(struct il_ctx *x, const struct sigchld_run *r, int policy, uint32_t requested, bool ran)
{
	const bool proc = r->ss.proc_ok, handler = policy == POL_HANDLER, ignore = policy == POL_IGNORE;
	json_t *checks = json_object(), *res = x->results;
	if (!proc)
		il_ctx_warn(x, "/proc could not be read: zombie counts are missing");
	bool ok = !ran || judge(r, policy, checks);
	il_jset(res, "children_requested", json_integer(requested));
	il_jset(res, "children_spawned", json_integer(r->spawned));
	il_jset(res, "zombies_seen_max", int_if(proc, r->ss.zmax));
	il_jset(res, "zombies_when_all_exited", int_if(proc, r->z_all_exited));
	il_jset(res, "zombies_before_reaping", int_if(policy == POL_DEFAULT && proc, r->z_zombified));
	il_jset(res, "zombies_after", int_if(proc, r->z_after));
	il_jset(res, "children_left", int_if(proc, r->left));
	il_jset(res, "reaped_by_waitpid", json_integer(r->reaped));
	il_jset(res, "reaped_by", json_string(policy == POL_DEFAULT ? "waitpid in the main loop" :
					      ignore ? "the kernel (SIGCHLD ignored)" : "the SIGCHLD handler"));
	il_jset(res, "reaped_by_kernel", json_integer(ignore ? r->spawned : 0));
	il_jset(res, "handler_calls", int_if(handler, r->calls));
	il_jset(res, "handler_empty_calls", int_if(handler, r->empty_calls));
	il_jset(res, "sigchld_coalesced", int_if(handler, (json_int_t)r->spawned - r->calls));
	il_jset(res, "waitpid_echild", ignore ? json_boolean(r->echild == 1) : json_null());
	il_jset(res, "exit_status_0", int_if(!ignore, r->statuses_ok));
	il_jset(res, "children_killed", int_if(!ignore, r->killed));
	il_jset(res, "reap_latency", il_json_summary(&r->latency));
	il_jset(res, "reap_latency_basis", json_string(ignore ? "waitpid(-1) failed with ECHILD: the kernel had released every child"
				: handler ? "the handler's waitpid() returned the child (SIGCHLD blocked until every child had exited)"
				: "waitpid() returned the child"));
	il_jset(res, "fork_all_ns", json_integer((json_int_t)(r->t_forked - r->t_start)));
	il_jset(res, "total_ns", json_integer((json_int_t)(r->t_done - r->t_start)));
	il_jset(res, "checks", checks);
	bool shown;
	il_jset(res, "effect", effect(r, policy, &shown));
	if (!ok)
		return IL_FAIL;
	if (ran && !shown) {
		il_err("the effect did not show: %s", il_jstr(json_object_get(res, "effect"), "why", "?"));
		return IL_UNSUP;
	}
	return IL_OK;
}
