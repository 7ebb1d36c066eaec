/* latency_loop.c - one repeat of "ipclab signal latency": the responder and the
 * initiator's loop, in both --loop variants.
 *
 * ipclab (default): the initiator stamps and sends ping i, waits for pong i; the
 * responder waits for ping i, records its one-way latency, stamps and sends pong i.
 * sigwaittest: rt-tests sigwaittest's loop call for call (src/sigwaittest/sigwaittest.c,
 * semathread()): memory locked (mlockall), each side sets its signal mask at the top of
 * every iteration, sends with kill() or pthread_kill(), takes the signal with sigwait(),
 * and the receiver sleeps nanosleep(interval) before it answers - even for interval 0,
 * up to the timer slack. Its timed direction (sender's clock read, kill, receiver's
 * return from sigwait, clock read) is our one-way A->B.
 * Every iteration, warm-up included, emits exactly two sig_send and two sig_receive
 * events. A dead responder is noticed through SIGCHLD (process mode), a failed peer
 * thread through a stop flag plus one wake-up signal (thread mode). */
#include "latency.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Sends direction dir's signal of iteration i; an exit code, logged. */
static int send_logged(const struct sig_target *to, int dir, uint64_t i, const char *who)
{
	if (spp_send(to, dir, i) == 0)
		return IL_OK;
	int e = errno;
	if (e == ESRCH && dir == PING) {
		il_fail("ping %" PRIu64 ": the responder is gone", i);
		return IL_FAIL;
	}
	il_errno("%ssending %s %" PRIu64 " failed", who, dir == PING ? "ping" : "pong", i);
	return e == EAGAIN ? IL_NORES : IL_FAIL;
}

/* The responder's start: name, target, receiving side, then the start barrier. */
static int respond_start(const struct lat_run *r, struct spp_side *s)
{
	struct spp_shared *sh = r->sh;
	int rc = IL_OK;
	il_set_task_name("ipclab-sigresp");
	il_trace_init_thread();
	if (r->loop == LOOP_SIGWAITTEST && r->mode == IL_MODE_PROCESS)
		(void)mlockall(MCL_CURRENT | MCL_FUTURE); /* as the tool's forked receiver; the initiator says if it failed */
	sig_target_self(&sh->to_resp, r->mode);
	int e = spp_open(s, PING, 0);
	if (e < 0) {
		errno = -e;
		il_errno("responder: signalfd failed");
		rc = il_exit_for_errno(-e);
	}
	sh->resp_status = rc;
	sh->cpu_start = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0 && rc == IL_OK)
		rc = IL_FAIL; /* the initiator gave up and says why */
	return rc;
}

/* The responder: wait for ping i, record its one-way latency, answer pong i. */
static int respond(void *arg)
{
	const struct lat_run *r = arg;
	struct spp_shared *sh = r->sh;
	const struct timespec delay = { (time_t)(r->interval_ns / 1000000000u), (long)(r->interval_ns % 1000000000u) };
	const bool tool = r->loop == LOOP_SIGWAITTEST;
	sigset_t mask;
	(void)pthread_sigmask(SIG_SETMASK, NULL, &mask);
	struct spp_side s;
	int rc = respond_start(r, &s);
	const int want_pid = sh->to_init.pid;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		if (tool)
			(void)pthread_sigmask(SIG_SETMASK, &mask, NULL);
		struct spp_obs o;
		enum spp_wres w = spp_wait(&s, &o);
		if (w == SPP_STOP)
			break; /* the initiator reports why */
		if (w != SPP_OK) {
			il_errno("responder: waiting for ping %" PRIu64 " failed", i);
			rc = IL_FAIL;
			break;
		}
		if ((rc = spp_check(&o, "ping", i, want_pid, r->mode)) != IL_OK)
			break;
		if (i >= r->warmup)
			il_hist_add(&sh->oneway_ab, o.t - sh->t_send[PING]);
		if (tool)
			(void)nanosleep(&delay, NULL);
		rc = send_logged(&sh->to_init, PONG, i, "responder: ");
	}
	sh->resp_status = rc; /* before the stop flag: the initiator reads it once stopped */
	if (rc != IL_OK)
		spp_stop_peer(&sh->to_init, PONG);
	sh->cpu_end = il_cpu_now();
	spp_close(&s);
	return rc;
}

/* Waits for pong i and checks it. IL_OK, an exit code logged here, or the responder's
 * status when it stopped us (it logged why); *dead when it died. */
static int await_pong(const struct lat_run *r, struct spp_side *s, uint64_t i, int want_pid, struct spp_obs *o,
		      bool *dead)
{
	switch (spp_wait(s, o)) {
	case SPP_OK:
		return spp_check(o, "pong", i, want_pid, r->mode);
	case SPP_DEAD:
		*dead = true;
		return IL_FAIL;
	case SPP_STOP:
		return r->sh->resp_status != IL_OK ? r->sh->resp_status : IL_FAIL;
	case SPP_ERR:
		break;
	}
	il_errno("waiting for pong %" PRIu64 " failed", i);
	return IL_FAIL;
}

/* The initiator's loop: ping i, pong i, the round trip and the one-way B->A. */
static int initiate(const struct lat_run *r, struct spp_side *s, pid_t peer_pid, struct lat_repeat *res,
		    bool *dead)
{
	struct spp_shared *sh = r->sh;
	const int want_pid = r->mode == IL_MODE_PROCESS ? peer_pid : getpid();
	const bool tool = r->loop == LOOP_SIGWAITTEST;
	sigset_t mask;
	(void)pthread_sigmask(SIG_SETMASK, NULL, &mask);
	int rc = IL_OK;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		if (tool)
			(void)pthread_sigmask(SIG_SETMASK, &mask, NULL);
		if ((rc = send_logged(&sh->to_resp, PING, i, "")) != IL_OK)
			break;
		const uint64_t t0 = sh->t_send[PING];
		struct spp_obs o;
		if ((rc = await_pong(r, s, i, want_pid, &o, dead)) != IL_OK)
			break;
		if (i >= r->warmup) {
			il_hist_add(&res->rtt, o.t - t0);
			il_hist_add(&res->oneway_ba, o.t - sh->t_send[PONG]);
		}
	}
	return rc;
}

/* Spawns the responder and meets it at the start barrier; IL_OK with *peer running, or
 * an exit code (logged) with nothing left running. */
static int start_repeat(const struct lat_run *r, struct il_peer *peer, struct spp_side *s, struct lat_repeat *res)
{
	struct spp_shared *sh = r->sh;
	if (il_barrier_init(&sh->start, 2) < 0) {
		il_err("cannot create the start barrier");
		return IL_NORES;
	}
	if (il_pin_main(r->cpu[0], "the initiator") != IL_OK)
		return IL_NORES;
	int rc = il_spawn(peer, r->mode, r->cpu[1], respond, (void *)r);
	if (rc != IL_OK)
		return rc;
	int e = spp_open(s, PONG, r->mode == IL_MODE_PROCESS ? peer->pid : 0);
	if (e < 0) {
		errno = -e;
		il_errno("signalfd failed");
		rc = il_exit_for_errno(-e);
	}
	res->cpu_start = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL;
	if (rc == IL_OK && sh->resp_status != IL_OK)
		rc = sh->resp_status; /* the responder said why */
	if (rc != IL_OK) {
		if (sh->to_resp.pid)
			spp_stop_peer(&sh->to_resp, PING);
		else
			il_peer_abort(peer); /* it never got as far as saying where it is */
		spp_close(s);
		(void)il_join(peer, NULL, 0);
	}
	return rc;
}

int lat_repeat_run(const struct lat_run *r, struct lat_repeat *res)
{
	struct spp_shared *sh = r->sh;
	struct il_peer peer;
	struct spp_side s;
	bool dead = false;

	memset(sh, 0, sizeof(*sh));
	il_hist_init(&sh->oneway_ab, LAT_HIST_MAX_NS);
	il_hist_init(&res->rtt, LAT_HIST_MAX_NS);
	il_hist_init(&res->oneway_ba, LAT_HIST_MAX_NS);
	sig_target_self(&sh->to_init, r->mode);
	spp_reset();
	lttng_ust_tracepoint(ipclab_run, run_begin, r->experiment, r->variant, r->mode, r->rep,
			     r->total - r->warmup, r->warmup);
	int rc = start_repeat(r, &peer, &s, res);
	if (rc == IL_OK) {
		rc = initiate(r, &s, peer.pid, res, &dead);
		if (rc != IL_OK && !dead && !sh->stop)
			spp_stop_peer(&sh->to_resp, PING);
		res->cpu_end = il_cpu_now();
		spp_close(&s);
		char how[128];
		int prc = il_join(&peer, how, sizeof(how));
		if (*how)
			il_fail("the responder was %s", how);
		else if (dead && prc == IL_OK)
			il_fail("the responder exited early (status %d)", prc);
		if (rc == IL_OK)
			rc = prc;
	}
	lttng_ust_tracepoint(ipclab_run, run_end, r->experiment, r->variant, r->rep, rc);
	il_barrier_destroy(&sh->start);
	return rc;
}
