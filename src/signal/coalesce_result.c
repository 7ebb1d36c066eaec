/* coalesce_result.c - the verdict of "ipclab signal coalesce": from the records the
 * receiver kept and the sender's counts, one JSON object per rule, each with "pass"; and
 * the table rendered from them. */
#include "coalesce.h"
#include "../core/log.h"
#include "../core/sys.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *const cmethod_names[] = { "sigtimedwait", "handler", NULL };

void coal_order_init(struct coal_order *o)
{
	*o = (struct coal_order){
		.sent = { SIGRTMIN + 2, SIGRTMIN + 1, SIGRTMIN, SIGUSR1 },
		.val = { 2, 1, 0, 3 },
		.want = { SIGUSR1, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2 },
	};
}

/* Sets obj.pass; counts a failure. */
static json_t *verdict(json_t *obj, bool pass, int *failed)
{
	il_jset(obj, "pass", json_boolean(pass));
	if (!pass)
		(*failed)++;
	return obj;
}

/* What the main phase's records say about the real-time signal. */
struct rt_walk {
	uint64_t std_n, rt_n, stray;
	bool in_order, payloads_ok, info_ok;
	const struct coal_rec *survivor; /* the standard signal's one delivery */
};

/* Walks the main phase: real-time payloads each accepted, delivered once, in the order
 * sent, with SI_QUEUE and our pid. -1 when out of memory. */
static int walk(const struct coal_run *r, struct rt_walk *w)
{
	const struct coal_shared *sh = r->sh;
	const int sender_pid = getpid();
	uint8_t *seen = calloc(r->count, 1);
	if (!seen)
		return -1;
	*w = (struct rt_walk){ .in_order = true, .payloads_ok = true, .info_ok = true };
	uint64_t next = 0;
	for (uint64_t i = 0; i < sh->n_main; i++) {
		const struct coal_rec *e = &sh->main[i];
		if (e->signo == SIGUSR1) {
			if (!w->survivor)
				w->survivor = e;
			w->std_n++;
			continue;
		}
		if (e->signo != SIGRTMIN) {
			w->stray++;
			continue;
		}
		w->rt_n++;
		if (e->code != SI_QUEUE || e->pid != sender_pid)
			w->info_ok = false;
		if (e->value >= r->count || !r->accepted[e->value] || seen[e->value]) {
			w->payloads_ok = false; /* never sent, refused, or delivered twice */
			continue;
		}
		seen[e->value] = 1;
		while (next < r->count && !r->accepted[next])
			next++;
		if (e->value != next)
			w->in_order = false;
		next = e->value + 1;
	}
	free(seen);
	w->payloads_ok = w->payloads_ok && w->rt_n == r->rt->ok; /* every accepted payload arrived once */
	return 0;
}

/* std: one pending instance; the first sent keeps its siginfo (later ones dropped). If
 * even the first found the uid's count at the limit, it is queued without its siginfo
 * (SI_USER, no payload): "info lost", not a failure. */
static json_t *judge_std(const struct coal_run *r, const struct rt_walk *w, int *failed)
{
	char nbuf[IL_SIGNAME_MAX], cbuf[32];
	const struct coal_sent *st = r->std;
	const struct coal_rec *s = w->survivor;
	const bool info_lost = s && s->code != SI_QUEUE;
	json_t *o = json_pack("{ss si ss sI sI sI sI sI si}", "signal", il_signal_name(SIGUSR1, nbuf, sizeof(nbuf)),
			      "signo", SIGUSR1, "send_call", sig_send_call(r->mode, true), "sent", (json_int_t)r->count,
			      "accepted", (json_int_t)st->ok, "eagain", (json_int_t)st->eagain,
			      "delivered", (json_int_t)w->std_n, "lost", (json_int_t)(st->ok - w->std_n),
			      "expected_delivered", st->ok ? 1 : 0);
	il_jset(o, "survivor_payload", s ? json_integer((json_int_t)s->value) : json_null());
	il_jset(o, "survivor_code", s ? json_string(sig_code_name(s->code, cbuf, sizeof(cbuf))) : json_null());
	il_jset(o, "survivor_info_lost", json_boolean(info_lost));
	return verdict(o, w->std_n == (st->ok ? 1u : 0u) && (!s || info_lost || s->value == 0), failed);
}

static json_t *judge_rt(const struct coal_run *r, const struct rt_walk *w, int *failed)
{
	char nbuf[IL_SIGNAME_MAX];
	const struct coal_sent *rt = r->rt;
	json_t *o = json_pack("{ss si ss sI sI sI sI sI sb sb sb}", "signal", il_signal_name(SIGRTMIN, nbuf, sizeof(nbuf)),
			      "signo", SIGRTMIN, "send_call", sig_send_call(r->mode, true), "sent", (json_int_t)r->count,
			      "accepted", (json_int_t)rt->ok, "eagain", (json_int_t)rt->eagain,
			      "delivered", (json_int_t)w->rt_n, "lost", (json_int_t)(rt->ok - w->rt_n),
			      "in_order", w->in_order, "payloads_ok", w->payloads_ok, "siginfo_ok", w->info_ok);
	return verdict(o, w->rt_n == rt->ok && w->in_order && w->payloads_ok && w->info_ok &&
				  rt->ok + rt->eagain == r->count, failed);
}

/* RLIMIT_SIGPENDING: the std signal holds one of the uid's slots; other processes of the
 * uid may hold some (pending_before), and may change it meanwhile: only the hard rules
 * are checked (never more than limit-1 accepted; EAGAIN when N >= limit). The receiver's
 * limit is its own, lowered for the run (coalesce.c run_limit()): the uid's other
 * processes keep at least half of the room it had. */
static json_t *judge_limit(struct il_ctx *x, const struct coal_run *r, int *failed)
{
	const long L = r->sh->rlim_cur, P = r->sh->pending_before;
	const struct coal_sent *rt = r->rt;
	json_t *o = json_object();
	il_jset(o, "rlimit_sigpending", L >= 0 ? json_integer(L) : json_null());
	il_jset(o, "lowered", json_boolean(r->lowered));
	il_jset(o, "uid_pending_before", P >= 0 ? json_integer(P) : json_null());
	il_jset(o, "inherited", r->sh->rlim_inherited >= 0 ? json_integer(r->sh->rlim_inherited) : json_null());
	il_jset(o, "run_share", json_integer(r->sh->share));
	il_jset(o, "why", json_string("the receiver's own soft limit for the run: at most half of the room the uid had "
				      "left, so that its other processes can still queue signals"));
	if (r->sh->limit_capped)
		il_ctx_warn(x, "--limit %" PRIu64 " would let this run hold more than half of the uid's remaining room for "
			    "pending signals: lowered to %ld", r->sh->limit, L);
	bool pass = true;
	if (L >= 0) {
		long room = L - (P > 0 ? P : 0) - (r->std->ok ? 1 : 0);
		uint64_t expect = room <= 0 ? 0 : (uint64_t)room < r->count ? (uint64_t)room : r->count;
		il_jset(o, "expected_accepted", json_integer((json_int_t)expect));
		il_jset(o, "matches_expected", json_boolean(expect == rt->ok));
		pass = (long)rt->ok <= L - 1 && ((long)r->count < L || rt->eagain > 0);
		if (expect != rt->ok)
			il_ctx_warn(x, "%" PRIu64 " real-time signals accepted, %" PRIu64 " expected from the limit and the "
				    "uid's pending count before the run (another process of the uid changed it?)",
				    rt->ok, expect);
	}
	return verdict(o, pass, failed);
}

static json_t *judge_std_first(const struct coal_run *r, int *failed)
{
	char nbuf[IL_SIGNAME_MAX], cbuf[32];
	const struct coal_shared *sh = r->sh;
	json_t *o = json_pack("{ss ss}", "expected", il_signal_name(SIGUSR1, nbuf, sizeof(nbuf)), "actual",
			      sh->n_main ? il_signal_name(sh->main[0].signo, cbuf, sizeof(cbuf)) : "none");
	il_jset(o, "rule", json_string("standard signals are delivered before real-time ones"));
	return verdict(o, (sh->n_main > 0 && sh->main[0].signo == SIGUSR1) || !r->std->ok, failed);
}

static json_t *judge_order(const struct coal_run *r, int *failed)
{
	char nbuf[IL_SIGNAME_MAX];
	const struct coal_shared *sh = r->sh;
	struct coal_order ord;
	coal_order_init(&ord);
	json_t *q = json_array(), *want = json_array(), *got = json_array();
	bool pass = sh->n_ord == COAL_N_ORD, payloads = true;
	for (int i = 0; i < COAL_N_ORD; i++) {
		(void)json_array_append_new(q, json_string(il_signal_name(ord.sent[i], nbuf, sizeof(nbuf))));
		(void)json_array_append_new(want, json_string(il_signal_name(ord.want[i], nbuf, sizeof(nbuf))));
	}
	for (uint64_t i = 0; i < sh->n_ord; i++) {
		const struct coal_rec *e = &sh->ord[i];
		(void)json_array_append_new(got, json_string(il_signal_name(e->signo, nbuf, sizeof(nbuf))));
		if (i >= COAL_N_ORD || e->signo != ord.want[i])
			pass = false;
		for (int k = 0; k < COAL_N_ORD; k++)
			if (ord.sent[k] == e->signo && ord.val[k] != e->value)
				payloads = false;
	}
	json_t *o = json_pack("{so so so sb ss}", "queued", q, "expected", want, "delivered", got, "payloads_ok",
			      payloads, "rule", "standard signals first, then real-time signals lowest number first");
	return verdict(o, pass && payloads, failed);
}

/* results.effect: the standard signal coalesced (fewer delivered than accepted; that the
 * real-time one queued is a check: how many queue depends on RLIMIT_SIGPENDING and on the
 * uid's other pending signals). One signal of each kind has nothing to coalesce with. */
static json_t *judge_effect(const struct coal_run *r, const struct rt_walk *w)
{
	const bool shown = r->std->ok >= 2 && w->std_n < r->std->ok;
	json_t *why = r->count < 2 ? json_string("one signal of each kind: nothing to coalesce (give --count 2 or more)")
		: json_sprintf("%" PRIu64 " SIGUSR1 sent while blocked, %" PRIu64 " delivered; %" PRIu64 " SIGRTMIN queued, %"
			       PRIu64 " delivered", r->std->ok, w->std_n, r->rt->ok, w->rt_n);
	return json_pack("{sb so}", "shown", shown, "why", why);
}

int coal_judge(struct il_ctx *x, const struct coal_run *r)
{
	const struct coal_shared *sh = r->sh;
	struct rt_walk w;
	if (walk(r, &w) < 0) {
		il_err("out of memory");
		return -1;
	}
	int failed = 0;
	il_jset(x->results, "std", judge_std(r, &w, &failed));
	il_jset(x->results, "rt", judge_rt(r, &w, &failed));
	il_jset(x->results, "limit", judge_limit(x, r, &failed));
	il_jset(x->results, "std_before_rt", judge_std_first(r, &failed));
	il_jset(x->results, "ordering", judge_order(r, &failed));
	if (sh->overflow || w.stray || sh->late)
		failed++;
	il_jset(x->results, "unexpected", json_pack("{sI sI sI}", "stray_signals", (json_int_t)w.stray,
		"overflow", (json_int_t)sh->overflow, "late", (json_int_t)sh->late));
	il_jset(x->results, "checks_failed", json_integer(failed));
	il_jset(x->results, "effect", judge_effect(r, &w));
	return failed;
}

static const char *pass(const json_t *o)
{
	return il_jtrue(o, "pass") ? "PASS" : "FAIL";
}

/* One signal's counts and its verdict, up to the comment that follows it. */
static void count_row(const char *kind, const char *name, const json_t *o)
{
	printf("%-10s %-10s %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9"
	       JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT "  %s: ", kind, name, il_jint(o, "sent"),
	       il_jint(o, "accepted"), il_jint(o, "eagain"), il_jint(o, "delivered"), il_jint(o, "lost"), pass(o));
}

/* "a b c" from a JSON array of strings. */
static void print_names(const json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		printf(" %s", json_string_value(v));
}

void coal_print(const struct il_ctx *x, const void *cfg)
{
	const struct coal_cfg *k = cfg;
	const json_t *r = x->results, *std = json_object_get(r, "std"), *rt = json_object_get(r, "rt");
	const json_t *lim = json_object_get(r, "limit"), *sf = json_object_get(r, "std_before_rt");
	const json_t *ord = json_object_get(r, "ordering");
	if (!std)
		return; /* measure ended before the verdict (the failure is on stderr) */
	printf("signal coalesce: %s mode, %" PRIu64 " of each, sent by %s, taken by %s%s\n",
	       x->c.mode == IL_MODE_THREAD ? "thread" : "process", k->count, sig_send_call(x->c.mode, true),
	       cmethod_names[k->method], il_jtrue(r, "traced") ? ", traced" : "");
	printf("%-10s %-10s %9s %9s %9s %9s %9s  %s\n", "", "signal", "sent", "accepted", "eagain", "delivered", "lost",
	       "check");
	count_row("standard", "SIGUSR1", std);
	const json_t *sp = json_object_get(std, "survivor_payload");
	if (json_is_integer(sp) && !il_jtrue(std, "survivor_info_lost"))
		printf("coalesced, survivor payload %" JSON_INTEGER_FORMAT " (%s)\n", json_integer_value(sp),
		       json_integer_value(sp) == 0 ? "the first" : "not the first");
	else
		printf("coalesced, survivor payload lost with its siginfo\n");
	count_row("real-time", "SIGRTMIN", rt);
	printf("queued, %s, %s\n", il_jtrue(rt, "in_order") ? "in order" : "OUT OF ORDER",
	       il_jtrue(rt, "payloads_ok") && il_jtrue(rt, "siginfo_ok") ?
	       "payloads intact" : "PAYLOADS WRONG");
	const json_t *L = json_object_get(lim, "rlimit_sigpending"), *P = json_object_get(lim, "uid_pending_before");
	const json_t *I = json_object_get(lim, "inherited");
	char from[48] = "";
	if (il_jtrue(lim, "lowered"))
		(void)snprintf(from, sizeof(from), " (lowered for the run from %ld)",
			       json_is_integer(I) ? (long)json_integer_value(I) : -1);
	printf("RLIMIT_SIGPENDING %ld%s, uid's pending signals before: %ld  %s\n",
	       json_is_integer(L) ? (long)json_integer_value(L) : -1, from,
	       json_is_integer(P) ? (long)json_integer_value(P) : -1, pass(lim));
	printf("std before rt: first taken %s  %s\n", il_jstr(sf, "actual", "?"), pass(sf));
	printf("order: queued");
	print_names(json_object_get(ord, "queued"));
	printf(" -> delivered");
	print_names(json_object_get(ord, "delivered"));
	printf("  %s\n", pass(ord));
}
