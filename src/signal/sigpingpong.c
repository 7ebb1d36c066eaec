/* sigpingpong.c - the two sides of a signal ping-pong (sigpingpong.h). */
#include "sigpingpong.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEDWAIT_NS (200 * 1000 * 1000) /* sigtimedwait: look at the peer this often */

const char *const spp_method_choices[] = { "handler", "sigwaitinfo", "sigtimedwait", "signalfd", "sigsuspend", NULL };

const char *spp_method_name(int method)
{
	return method == SPP_SIGWAIT ? "sigwait" : spp_method_choices[method];
}

/* The handler's mailbox, per direction; in thread mode each direction has its own thread. */
struct slot {
	volatile sig_atomic_t got;
	uint64_t t, seq;
	int pid, code;
};

static struct spp_config g;
static struct slot slots[2];
static volatile sig_atomic_t chld_seen;
static sigset_t ours, oldmask;
static struct sigaction old_act[3];

/* sig_receive with the experiment's stamps of delivery seq received at t (0, 0 for a
 * warm-up delivery: the histograms get exactly the stamped ones). */
static void trace_receive(int sig, uint64_t seq, int pid, uint64_t t)
{
	const int dir = sig == g.sig[PING] ? PING : PONG;
	const bool timed = seq >= g.warmup;
	lttng_ust_tracepoint(ipclab_sig, sig_receive, sig, seq, pid, spp_method_name(g.method),
			     timed ? g.sh->t_send[dir] : 0, timed ? t : 0);
}

/* The measured handler: clock first, then the trace event, then the mailbox. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
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
	(void)sig;
	(void)si;
	(void)uc;
	chld_seen = 1;
}

int spp_install(const struct spp_config *cfg)
{
	g = *cfg;
	sigemptyset(&ours);
	sigaddset(&ours, g.sig[PING]);
	sigaddset(&ours, g.sig[PONG]);
	sigaddset(&ours, SIGCHLD);
	(void)pthread_sigmask(SIG_BLOCK, &ours, &oldmask);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(g.sig[PING], &sa, &old_act[0]) < 0 || sigaction(g.sig[PONG], &sa, &old_act[1]) < 0)
		return -errno;
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, &old_act[2]) < 0)
		return -errno;
	spp_reset();
	return 0;
}

void spp_reset(void)
{
	(void)pthread_sigmask(SIG_BLOCK, &ours, NULL); /* the handler method unblocked some */
	(void)sig_drain(&ours);                       /* e.g. the responder's exit SIGCHLD */
	slots[PING].got = slots[PONG].got = 0;
	chld_seen = 0;
}

void spp_uninstall(void)
{
	spp_reset();
	(void)sigaction(g.sig[PING], &old_act[0], NULL);
	(void)sigaction(g.sig[PONG], &old_act[1], NULL);
	(void)sigaction(SIGCHLD, &old_act[2], NULL);
	(void)pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
}

/* Has the watched child exited (without reaping it: il_join does that), with no signal
 * of ours still pending? A child's last pong and its exit's SIGCHLD are pending together,
 * and SIGCHLD, a lower number, is dequeued first: the pong must still be taken. */
static bool child_gone(pid_t pid, int sig)
{
	pid_t e = il_child_ended(pid, false);
	if (e == 0 || (e < 0 && e != -ECHILD))
		return false;
	sigset_t pend;
	return sigpending(&pend) < 0 || !sigismember(&pend, sig);
}

/* The ping, pong and SIGCHLD signals are blocked on entry (inherited from the thread
 * that called spp_install). */
int spp_open(struct spp_side *s, int dir, pid_t child)
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
	if (g.method == SPP_HANDLER) {
		/* Delivered asynchronously at any moment: never blocked. */
		sigset_t un;
		sigemptyset(&un);
		sigaddset(&un, g.sig[dir]);
		if (child)
			sigaddset(&un, SIGCHLD);
		(void)pthread_sigmask(SIG_UNBLOCK, &un, NULL);
	} else if (g.method == SPP_SIGNALFD) {
		s->sigfd = signalfd(-1, &s->waitset, SFD_CLOEXEC);
		if (s->sigfd < 0)
			return -errno;
	}
	return 0;
}

void spp_close(struct spp_side *s)
{
	if (s->sigfd >= 0)
		(void)close(s->sigfd);
	s->sigfd = -1;
}

/* The asynchronous methods (handler, sigsuspend): the handler fills the mailbox. */
static enum spp_wres wait_mailbox(struct spp_side *s, struct spp_obs *o)
{
	struct slot *sl = &slots[s->dir];
	for (;;) {
		if (sl->got) {
			sl->got = 0;
			*o = (struct spp_obs){ .t = sl->t, .seq = sl->seq, .pid = sl->pid, .code = sl->code };
			return g.sh->stop ? SPP_STOP : SPP_OK;
		}
		if (g.sh->stop)
			return SPP_STOP;
		if (chld_seen) {
			chld_seen = 0;
			if (s->child && child_gone(s->child, g.sig[s->dir]))
				return SPP_DEAD;
		}
		if (g.method == SPP_HANDLER)
			(void)sched_yield(); /* let a same-CPU peer run; the handler interrupts us */
		else
			(void)sigsuspend(&s->suspmask); /* always -1/EINTR after a handler ran */
	}
}

/* One synchronous take: the signal number (> 0, *si filled as far as the method can),
 * 0 to look again (a sigtimedwait timeout: *timeout set), or -1 with errno. */
static int take_one(struct spp_side *s, siginfo_t *si, uint64_t *t, bool *timeout)
{
	int r, sig;
	switch (g.method) {
	case SPP_SIGWAITINFO:
		r = sigwaitinfo(&s->waitset, si);
		*t = il_now_ns();
		return r;
	case SPP_SIGTIMEDWAIT: {
		static const struct timespec to = { 0, TIMEDWAIT_NS };
		r = sigtimedwait(&s->waitset, si, &to);
		*t = il_now_ns();
		*timeout = r < 0 && errno == EAGAIN;
		return *timeout ? 0 : r;
	}
	case SPP_SIGWAIT:
		r = sigwait(&s->waitset, &sig); /* an error number, never EINTR (glibc retries) */
		*t = il_now_ns();
		if (r) {
			errno = r;
			return -1;
		}
		return sig;
	case SPP_SIGNALFD: {
		struct signalfd_siginfo fi;
		ssize_t n = read(s->sigfd, &fi, sizeof(fi));
		*t = il_now_ns();
		if (n != (ssize_t)sizeof(fi)) {
			if (n >= 0)
				errno = EIO;
			return -1;
		}
		si->si_pid = (pid_t)fi.ssi_pid;
		si->si_code = fi.ssi_code;
		si->si_value.sival_ptr = (void *)(uintptr_t)fi.ssi_ptr;
		return (int)fi.ssi_signo;
	}
	}
	errno = EINVAL;
	return -1;
}

enum spp_wres spp_wait(struct spp_side *s, struct spp_obs *o)
{
	if (g.method == SPP_HANDLER || g.method == SPP_SIGSUSPEND)
		return wait_mailbox(s, o);
	const int sig = g.sig[s->dir];
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		bool timeout = false;
		int r = take_one(s, &si, &o->t, &timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return SPP_ERR;
		if (timeout && g.sh->stop)
			return SPP_STOP;
		if (r == 0 || r == SIGCHLD) {
			if (s->child && child_gone(s->child, sig))
				return SPP_DEAD;
			continue;
		}
		o->seq = g.rt ? (uint64_t)(uintptr_t)si.si_value.sival_ptr : g.sh->seq[s->dir];
		o->pid = si.si_pid;
		o->code = si.si_code;
		trace_receive(sig, o->seq, o->pid, o->t); /* the handler emits its own */
		return g.sh->stop ? SPP_STOP : SPP_OK;
	}
}

int spp_send(const struct sig_target *to, int dir, uint64_t seq)
{
	struct spp_shared *sh = g.sh;
	lttng_ust_tracepoint(ipclab_sig, sig_send, g.sig[dir], seq, sig_target_id(to));
	sh->seq[dir] = seq;
	sh->t_send[dir] = il_now_ns();
	if (g.pthread_kill && to->mode == IL_MODE_THREAD) {
		int e = pthread_kill(to->thread, g.sig[dir]);
		errno = e;
		return e ? -1 : 0;
	}
	return sig_send(to, g.sig[dir], g.rt, seq);
}

void spp_stop_peer(const struct sig_target *to, int dir)
{
	g.sh->stop = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	(void)sig_send(to, g.sig[dir], g.rt, UINT64_MAX);
}

/* The si_code a receiver sees: glibc's sigwaitinfo/sigtimedwait rewrite the kernel's
 * SI_TKILL into SI_USER (sysdeps/unix/sysv/linux/sigtimedwait.c); signalfd and handlers
 * show the kernel's value. */
static int seen_code(int mode)
{
	int code = sig_expected_code(mode, g.rt);
	if (code == SI_TKILL && (g.method == SPP_SIGWAITINFO || g.method == SPP_SIGTIMEDWAIT))
		code = SI_USER;
	return code;
}

int spp_check(const struct spp_obs *o, const char *what, uint64_t seq, int want_pid, int mode)
{
	char a[32], b[32];
	const int want_code = seen_code(mode);
	if (o->seq != seq)
		il_fail("%s %" PRIu64 ": expected seq %" PRIu64 ", got %" PRIu64, what, seq, seq, o->seq);
	else if (g.method == SPP_SIGWAIT)
		return IL_OK; /* no siginfo */
	else if (o->code != want_code)
		il_fail("%s %" PRIu64 ": si_code %s, expected %s", what, seq, sig_code_name(o->code, a, sizeof(a)),
			sig_code_name(want_code, b, sizeof(b)));
	else if (o->pid != want_pid)
		il_fail("%s %" PRIu64 ": si_pid %d, expected %d", what, seq, o->pid, want_pid);
	else
		return IL_OK;
	return IL_FAIL;
}
