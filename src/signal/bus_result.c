/* bus_result.c - "ipclab signal bus": the verdict on a ride (every key made its line, in
 * order; the conductor got off first, cleanly), the result, and the table rendered from it. */
#include "bus.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/sys.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)

/* The line a key should make. */
static int expected_line(int key)
{
	return key == SIGINT ? LINE_START : key == SIGQUIT ? LINE_FAST : LINE_ARRIVE;
}

/* The driver's end in words, and whether it was clean. */
static bool driver_end(const struct bus *b, const struct bus_outcome *o, char *how, size_t len)
{
	if (!o->script) {
		(void)snprintf(how, len, "returned %d", b->driver_rc);
		return b->driver_rc == IL_OK;
	}
	int st = o->drv_status;
	if (st < 0)
		(void)snprintf(how, len, "not reaped");
	else
		(void)il_wait_status_text(st, how, len);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The checks, after the driver's own (it logged its failures): one FAIL line at most. */
static int judge(const struct bus *b, const struct bus_outcome *o, int rc, bool driver_ok, const char *dhow,
		 bool first)
{
	if (!driver_ok && o->script && o->drv_status >= 0 && WIFSIGNALED(o->drv_status) && rc == IL_OK)
		il_fail("the driver %s", dhow); /* killed: it could not say why */
	if (!driver_ok && rc == IL_OK)
		rc = IL_FAIL;
	if (rc == IL_OK && !first) {
		il_fail("the conductor did not get off before the driver left");
		rc = IL_FAIL;
	}
	if (!o->script || rc != IL_OK)
		return rc;
	const struct il_bus_script *k = o->keys;
	if (b->keys != (uint32_t)k->n || b->lines != (uint32_t)k->n) {
		il_fail("%d keys sent, %u received, %u lines printed", k->n, b->keys, b->lines);
		return IL_FAIL;
	}
	for (int i = 0; i < k->n; i++)
		if (b->rec[i].key_signo != k->keys[i] || b->rec[i].line != expected_line(k->keys[i])) {
			char want[IL_SIGNAME_MAX], got[IL_SIGNAME_MAX];
			il_fail("key %d (%s) was received as %s and printed line %d", i + 1,
				il_signal_name(k->keys[i], want, sizeof(want)),
				b->rec[i].key_signo ? il_signal_name(b->rec[i].key_signo, got, sizeof(got)) : "nothing",
				b->rec[i].line);
			return IL_FAIL;
		}
	return IL_OK;
}

static json_t *ns_or_null(uint64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

/* One key's record, from its signal to its line. */
static json_t *key_json(const struct bus *b, const struct bus_outcome *o, uint32_t i, bool printed)
{
	const struct bus_key *r = &b->rec[i];
	int ksig = r->key_signo ? r->key_signo : (o->script && (int)i < o->keys->n ? o->keys->keys[i] : 0);
	uint64_t from = r->t_sent ? r->t_sent : r->t_recv;
	const bool key = ksig == SIGINT || ksig == SIGQUIT || ksig == SIGTSTP;
	char name[IL_SIGNAME_MAX], fwd[IL_SIGNAME_MAX];
	(void)il_signal_name(ksig, name, sizeof(name));
	json_t *j = json_pack("{sI ss ss ss}", "index", (json_int_t)i, "key", key ? name + 3 : "?", "key_signal",
			      key ? name : "?", "received_by", r->key_signo ? bus_role_names[r->receiver] : "nobody");
	il_jset(j, "signal_sent", r->fwd_signo ? json_string(il_signal_name(r->fwd_signo, fwd, sizeof(fwd))) : json_null());
	il_jset(j, "sent_by", r->fwd_signo ? json_string(bus_role_names[r->receiver]) : json_null());
	il_jset(j, "sent_to", r->fwd_signo ? json_string(r->receiver == CONDUCTOR ? "driver" : "conductor") : json_null());
	il_jset(j, "printed_by", printed ? json_string(bus_role_names[r->printer]) : json_null());
	il_jset(j, "line", printed ? json_string(bus_line_text(b, r->line)) : json_null());
	il_jset(j, "latency_ns", printed ? json_integer((json_int_t)(r->t_printed - from)) : json_null());
	il_jset(j, "latency_from", json_string(r->t_sent ? "key_sent" : "key_received"));
	il_jset(j, "ignored", json_boolean(r->ignored));
	il_jset(j, "t_key_sent_ns", ns_or_null(r->t_sent));
	il_jset(j, "t_key_received_ns", ns_or_null(r->t_recv));
	il_jset(j, "t_forward_sent_ns", ns_or_null(r->t_fwd));
	il_jset(j, "t_forward_received_ns", ns_or_null(r->t_fwd_recv));
	il_jset(j, "t_printed_ns", ns_or_null(r->t_printed));
	return j;
}

/* results.keys and results.key_to_line; warns about keys that printed nothing. */
static void keys_results(struct il_ctx *x, const struct bus *b, const struct bus_outcome *o)
{
	uint32_t nrec = b->keys < IL_BUS_MAX_KEYS ? b->keys : IL_BUS_MAX_KEYS, missing = 0;
	struct il_hist *h = malloc(sizeof(*h));
	json_t *jkeys = json_array();
	if (h)
		il_hist_init(h, HIST_MAX_NS);
	for (uint32_t i = 0; i < nrec; i++) {
		const struct bus_key *r = &b->rec[i];
		uint64_t from = r->t_sent ? r->t_sent : r->t_recv;
		bool printed = r->line != LINE_NONE && r->t_printed && from;
		if (!printed && !r->ignored)
			missing++;
		if (printed && h)
			il_hist_add(h, r->t_printed - from);
		(void)json_array_append_new(jkeys, key_json(b, o, i, printed));
	}
	if (!o->script && b->keys > IL_BUS_MAX_KEYS)
		il_ctx_warn(x, "%u keys; only the first %d are recorded", b->keys, IL_BUS_MAX_KEYS);
	if (!o->script && missing)
		il_ctx_warn(x, "%u key(s) printed no line: a second key of the same kind arrived while the "
			    "first was pending (standard signals do not queue)", missing);
	il_jset(x->results, "keys", jkeys);
	il_jset(x->results, "key_to_line", h ? il_json_summary(h) : NULL);
	free(h);
}

/* results.conductor_end, driver_end, exit_order. */
static void ends_results(struct il_ctx *x, const struct bus *b, const struct bus_outcome *o, const char *dhow)
{
	char how[96];
	const int cs = b->conductor_wstatus;
	(void)il_wait_status_text(cs, how, sizeof(how));
	json_t *c = json_pack("{sI sb ss ss}", "pid", (json_int_t)b->conductor, "reaped", b->conductor_reaped,
			      "how", b->conductor_reaped ? how : "not reaped", "reaped_by", "driver");
	il_jset(c, "exit_status", b->conductor_reaped && WIFEXITED(cs) ? json_integer(WEXITSTATUS(cs)) : json_null());
	il_jset(c, "signal", b->conductor_reaped && WIFSIGNALED(cs) ? json_integer(WTERMSIG(cs)) : json_null());
	il_jset(c, "t_exit_ns", ns_or_null(b->t_conductor_exit));
	il_jset(c, "t_reaped_ns", ns_or_null(b->t_conductor_reaped));
	il_jset(x->results, "conductor_end", c);
	const int st = o->drv_status;
	json_t *d = json_pack("{sI ss ss}", "pid", (json_int_t)b->driver, "how", dhow,
			      "reaped_by", o->script ? "ipclab (the feeder)" : "none: the driver is this process");
	il_jset(d, "exit_status", o->script ? (st >= 0 && WIFEXITED(st) ? json_integer(WEXITSTATUS(st)) : json_null())
					    : json_integer(b->driver_rc));
	il_jset(d, "t_exit_ns", ns_or_null(b->t_driver_exit));
	il_jset(d, "t_reaped_ns", ns_or_null(o->t_drv_reaped));
	il_jset(x->results, "driver_end", d);
	il_jset(x->results, "exit_order", json_pack("[{ss sI so} {ss sI so}]", "role", "conductor",
		"pid", (json_int_t)b->conductor, "t_exit_ns", ns_or_null(b->t_conductor_exit),
		"role", "driver", "pid", (json_int_t)b->driver, "t_exit_ns", ns_or_null(b->t_driver_exit)));
}

int bus_verdict(struct il_ctx *x, const struct bus *b, const struct bus_outcome *o, int rc)
{
	char dhow[96];
	const bool driver_ok = driver_end(b, o, dhow, sizeof(dhow));
	const bool first = b->conductor_reaped && b->t_conductor_exit && b->t_conductor_exit <= b->t_conductor_reaped &&
			   b->t_conductor_reaped <= b->t_driver_exit;
	rc = judge(b, o, rc, driver_ok, dhow, first);
	keys_results(x, b, o);
	json_t *jstates = json_array();
	uint32_t ns = b->nstates < BUS_MAX_STATES ? b->nstates : BUS_MAX_STATES;
	for (uint32_t i = 0; i < ns; i++)
		(void)json_array_append_new(jstates, json_pack("{ss ss sI}", "role", bus_role_names[b->states[i].role],
			"state", bus_state_name(b->states[i].state), "t_ns", (json_int_t)b->states[i].t));
	il_jset(x->results, "keys_received", json_integer(b->keys));
	il_jset(x->results, "lines_printed", json_integer(b->lines));
	il_jset(x->results, "states", jstates);
	il_jset(x->results, "process_group", json_integer(b->pgid));
	il_jset(x->results, "driver_pid", json_integer(b->driver));
	il_jset(x->results, "conductor_pid", json_integer(b->conductor));
	ends_results(x, b, o, dhow);
	il_jset(x->results, "conductor_exited_first", json_boolean(first));
	/* results.effect: the ride is this run's own observation; anything missing is a
	 * failed run (exit 1, its line said), never "not shown" */
	const bool shown = rc == IL_OK; /* judge(): the conductor got off first, every key's line */
	il_jset(x->results, "effect", json_pack("{sb so}", "shown", shown, "why", shown ?
		json_sprintf("%u keys, each caught by its role and turned into its line; the conductor got off before "
			     "the driver", b->keys) : json_string("the ride did not go as the course says (exit 1: see stderr)")));
	return rc;
}

/* One key's row. */
static void key_row(const json_t *k)
{
	const bool got = strcmp(il_jstr(k, "received_by", "nobody"), "nobody") != 0;
	const char *sent = il_jstr(k, "signal_sent", NULL), *line = il_jstr(k, "line", NULL);
	const json_t *lat = json_object_get(k, "latency_ns");
	char us[32] = "-";
	if (json_is_integer(lat))
		(void)snprintf(us, sizeof(us), "%.1f", (double)json_integer_value(lat) / 1000.0);
	printf("%3d  %-4s  %-9s  %-7s  %-9s  %-10s  %12s  %s\n", (int)il_jint(k, "index") + 1,
	       got ? il_jstr(k, "key", "?") : "?", got ? il_jstr(k, "received_by", "-") : "-",
	       sent && !strncmp(sent, "SIG", 3) ? sent + 3 : "-", il_jstr(k, "sent_to", "-"), il_jstr(k, "printed_by", "-"),
	       us, line ? line : il_jtrue(k, "ignored") ? "(ignored)" : "(none)");
}

void bus_print(const struct il_ctx *x, const void *cfg)
{
	(void)cfg;
	const json_t *p = x->params, *r = x->results;
	const json_t *c = json_object_get(r, "conductor_end"), *d = json_object_get(r, "driver_end");
	const bool script = json_is_string(json_object_get(p, "script"));
	if (!c)
		return; /* the ride never started (the failure is on stderr) */
	printf("signal bus: %s%s, lang %s, process group %d%s\n", script ? "script " : "interactive",
	       script ? il_jstr(p, "script", "") : "", il_jstr(p, "lang", "?"), (int)il_jint(r, "process_group"),
	       il_jtrue(r, "traced") ? ", traced" : "");
	printf("%3s  %-4s  %-9s  %-7s  %-9s  %-10s  %12s  %s\n", "#", "key", "caught by", "sends", "to", "printed by",
	       "key->line us", "line");
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(r, "keys"), i, k)
		key_row(k);
	const bool first = il_jtrue(r, "conductor_exited_first");
	printf("conductor %d %s%s; driver %d %s\n", (int)il_jint(c, "pid"), il_jstr(c, "how", "?"),
	       first ? ", got off first" : ", did NOT get off first", (int)il_jint(d, "pid"), il_jstr(d, "how", "?"));
	(void)fflush(stdout);
}
