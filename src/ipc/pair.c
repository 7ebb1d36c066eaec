/* pair.c - two peers over one link: one repeat's life cycle, and the transport checks. */
#include "pair.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int il_bench_check_transport(struct il_ctx *x, const struct il_transport *t)
{
	il_jset(x->params, "transport", json_string(t->name));
	const char *why = t->unsupported ? t->unsupported() : NULL;
	if (why) {
		il_err("%s is not supported here: %s", t->name, why);
		il_jset(x->results, "unsupported", json_string(why));
		return IL_UNSUP;
	}
	return IL_RUN;
}

int il_bench_check_size(const struct il_transport *t, uint64_t size)
{
	if (t->max_size && size > t->max_size) {
		il_err("--size %" PRIu64 " exceeds the %s limit of %zu bytes", size, t->name, t->max_size);
		return IL_NORES;
	}
	return IL_OK;
}

/* Side 1: pin, attach, meet side 0 at the barrier, run the body, detach. */
static int side1_main(void *arg)
{
	struct il_pair *p = arg;
	struct il_pair_shared *ps = p->ps;
	int rc = IL_OK;
	if (p->task_name)
		il_set_task_name(p->task_name);
	int e = il_pin_self(p->cpu[1]);
	if (e) {
		errno = -e;
		il_errno("cannot pin side 1 to CPU %d", p->cpu[1]);
		rc = IL_NORES;
	} else if ((rc = il_link_attach(&p->link, 1)) != 0) {
		il_err("side 1 could not attach to %s", p->link.t->name);
	}
	ps->status[1] = rc;
	ps->cpu_start[1] = il_cpu_now();
	il_barrier_wait(&ps->start);
	if (rc == IL_OK && ps->status[0] == IL_OK)
		rc = p->body(p, 1);
	ps->cpu_end[1] = il_cpu_now();
	il_link_detach(&p->link, 1);
	ps->status[1] = rc;
	return rc;
}

int il_pair_peer_gone(struct il_pair *p, const char *op, uint64_t at)
{
	p->gone_op = op;
	p->gone_at = at;
	return IL_FAIL;
}

/* One line for side 1's end, when it matters: killed (how), or gone while side 0 still
 * needed it. Side 1 that exited with a failure status has said why itself. */
static void say_peer_end(const struct il_pair *p, const char *how, int prc)
{
	const char *role = p->role ? p->role : "peer";
	if (*how && p->gone_op)
		il_fail("%s %" PRIu64 ": the %s went away: it was %s", p->gone_op, p->gone_at, role, how);
	else if (*how)
		il_fail("the %s (%s) was %s", role, p->task_name ? p->task_name : "side 1", how);
	else if (p->gone_op && prc == IL_OK)
		il_fail("%s %" PRIu64 ": the %s went away", p->gone_op, p->gone_at, role);
}

int il_pair_run(struct il_pair *p, struct il_ctx *x, const struct il_transport *t, size_t size,
		uint32_t rep, uint64_t iterations, uint64_t warmup)
{
	const struct il_common *c = &x->c;
	struct il_peer peer;
	char how[128];
	int rc;

	if (!p->ps && !(p->ps = il_shared_alloc(sizeof(*p->ps)))) {
		il_errno("cannot map the pair state");
		return IL_NORES;
	}
	struct il_pair_shared *ps = p->ps;
	memset(ps, 0, sizeof(*ps));
	ps->cpu_start[0] = ps->cpu_start[1] = ps->cpu_end[0] = ps->cpu_end[1] = -1;
	p->rep = rep;
	p->cpu[0] = c->cpu[0];
	p->cpu[1] = c->cpu[1];
	p->peer_pid = 0;
	p->gone_op = NULL;
	if (il_barrier_init(&ps->start, 2) < 0) {
		il_err("cannot create the start barrier");
		return IL_NORES;
	}
	if ((rc = il_link_init(&p->link, t, c->mode, size)) != 0)
		goto out_barrier;
	if ((rc = il_pin_main(c->cpu[0], "side 0")) != IL_OK)
		goto out_link;
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, t->name, c->mode, rep, iterations, warmup);
	if ((rc = il_spawn(&peer, c->mode, -1, side1_main, p)) != 0) {
		lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, t->name, rep, rc);
		goto out_link;
	}
	p->peer_pid = c->mode == IL_MODE_PROCESS ? peer.pid : 0;
	rc = il_link_attach(&p->link, 0);
	ps->status[0] = rc;
	ps->cpu_start[0] = il_cpu_now();
	if (il_barrier_wait(&ps->start) < 0 && rc == IL_OK)
		rc = IL_FAIL;
	if (rc == IL_OK && ps->status[1] != IL_OK)
		rc = ps->status[1];
	if (rc == IL_OK)
		il_link_both_attached(&p->link); /* both sides hold their ends */
	if (rc == IL_OK)
		rc = p->body(p, 0);
	ps->cpu_end[0] = il_cpu_now();
	il_link_detach(&p->link, 0);
	int prc = il_join(&peer, how, sizeof(how));
	say_peer_end(p, how, prc);
	if (rc == IL_OK)
		rc = prc;
	if (t->facts) {
		json_decref(p->facts);
		p->facts = t->facts(&p->link);
	}
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, t->name, rep, rc);
out_link:
	il_link_free(&p->link);
out_barrier:
	il_barrier_destroy(&ps->start);
	return rc;
}

void il_pair_fini(struct il_pair *p)
{
	il_shared_free(p->ps, sizeof(*p->ps));
	p->ps = NULL;
	json_decref(p->facts);
	p->facts = NULL;
}
