/* bus.c - "ipclab signal bus": the driver/conductor bus of the OS course homework.
 *
 * The driver (parent) forks the conductor (child); the roles are in bus_roles.c, the
 * verdict and the table in bus_result.c. This file holds the options and how a ride
 * starts. Interactive (no --script): this process is the driver, in the terminal's
 * foreground process group, waiting for real keys. --script: this process becomes the
 * feeder; it forks the driver into a new process group (setpgid) and sends each key to
 * that group with kill(-pgid, sig) only after the previous key's line was printed (the
 * printing role writes one byte to a pipe per line: no sleeps). The feeder traces a
 * sig_send per key; keys typed on a terminal are sent by the kernel, so they have none. */
#include "bus.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/spawn.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

struct bus_cfg {
	int lang;
	const char *script;
};

static const struct il_opt bus_opts[] = {
	{ .name = "lang", .type = IL_OPT_CHOICE, .metavar = "L", .choices = bus_lang_names,
	  .help = "language of the lines (default zh)", .off = IL_CFG(struct bus_cfg, lang, int), .param = "lang" },
	{ .name = "script", .type = IL_OPT_STR, .metavar = "KEYS",
	  .help = "no keyboard: send these keys (INT|QUIT|TSTP, comma-separated, TSTP last, e.g. INT,QUIT,INT,TSTP) "
		  "to the bus in its own process group",
	  .off = IL_CFG(struct bus_cfg, script, const char *), .param = "script" },
	{ 0 },
};

/* The bus_state event's names (tests/integration/analyze_xml.sh checks the Trace Compass
 * view maps each). */
static const char *const state_names[] = { "waiting", "driving", "speeding", "at_station",
					   "selling", "announcing", "off" };

const char *bus_state_name(int state)
{
	return state_names[state];
}

/* The script parsed by params(), for measure(). */
static struct il_bus_script script;

/* Sets out's error at key position pos (token tok, len bytes); returns -1. */
static int parse_error(struct il_bus_script *out, const char *error, int pos, const char *tok, int len)
{
	out->error = error;
	out->pos = pos;
	out->tok = tok;
	out->tok_len = len;
	return -1;
}

/* The signal of one key ("INT", "sigquit"...), or 0. */
static int key_signal(const char *tok, size_t len)
{
	static const struct { const char *name; int sig; } keys[] = {
		{ "INT", SIGINT }, { "QUIT", SIGQUIT }, { "TSTP", SIGTSTP },
	};
	if (len >= 3 && !strncasecmp(tok, "SIG", 3)) {
		tok += 3;
		len -= 3;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (len == strlen(keys[i].name) && !strncasecmp(tok, keys[i].name, len))
			return keys[i].sig;
	return 0;
}

int il_bus_parse_script(const char *s, struct il_bus_script *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return parse_error(out, "empty script", 0, NULL, 0);
	for (const char *p = s;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int sig = key_signal(p, len);
		if (!sig)
			return parse_error(out, len ? "unknown key" : "empty key", out->n + 1, len ? p : NULL, (int)len);
		if (out->n == IL_BUS_MAX_KEYS)
			return parse_error(out, "more than " STR(IL_BUS_MAX_KEYS) " keys", out->n + 1, NULL, 0);
		if (out->n > 0 && out->keys[out->n - 1] == SIGTSTP)
			return parse_error(out, "TSTP before the last key (the conductor has got off)", out->n, NULL, 0);
		out->keys[out->n++] = sig;
		if (!end)
			break;
		p = end + 1;
	}
	if (out->keys[out->n - 1] != SIGTSTP)
		return parse_error(out, "the last key must be TSTP (the conductor gets off)", 0, NULL, 0);
	return out->n;
}

/* Why the keys cannot come from the terminal, or NULL: they come from the controlling
 * terminal, to its foreground process group. */
static const char *no_terminal(void)
{
	struct termios tio;
	if (!isatty(STDIN_FILENO))
		return "standard input is not a terminal, so nobody can type Ctrl-C, Ctrl-\\ or Ctrl-Z";
	if (tcgetpgrp(STDIN_FILENO) != getpgrp())
		return "this is not the terminal's foreground job, so its keys go to another process group";
	if (tcgetattr(STDIN_FILENO, &tio) == 0 && !(tio.c_lflag & ISIG))
		return "the terminal has ISIG off (stty -isig), so its keys are not signals";
	return NULL;
}

static int bus_params(struct il_ctx *x, void *cfg)
{
	const struct bus_cfg *k = cfg;
	il_jset(x->params, "mode", json_string(k->script ? "script" : "interactive"));
	if (k->script && il_bus_parse_script(k->script, &script) < 0) {
		char at[32] = "";
		if (script.pos)
			(void)snprintf(at, sizeof(at), " at position %d", script.pos);
		il_err("invalid value '%s' for --script (expected keys INT|QUIT|TSTP separated by commas, ending with "
		       "TSTP): %s%s%s%.*s%s", k->script, script.error, at, script.tok ? " ('" : "", script.tok_len,
		       script.tok ? script.tok : "", script.tok ? "')" : "");
		return IL_USAGE;
	}
	const char *why = k->script ? NULL : no_terminal();
	if (why) {
		il_err("interactive mode needs a terminal: %s; give --script KEYS (e.g. --script INT,QUIT,TSTP)", why);
		il_jset(x->results, "unsupported", json_string(why));
		return IL_UNSUP;
	}
	return IL_OK;
}

/* The feeder's read end of the script pipe, which the forked driver closes. */
static int feed_rd = -1;

/* Script mode, in the forked driver: a new process group, then the driver's life. */
static int driver_child(void *arg)
{
	struct bus *b = arg;
	(void)close(feed_rd);
	if (setpgid(0, 0) < 0) {
		il_errno("driver: setpgid failed");
		return IL_FAIL;
	}
	return bus_driver_main(b);
}

/* One byte of the script pipe, or -1 at its end (or on an error). */
static int read_byte(int fd)
{
	unsigned char c;
	return il_read_full(fd, &c, 1) == 0 ? c : -1;
}

/* Feeds the keys, each after the previous key's line. NULL, or what went wrong, with
 * *at the keys sent by then (-1: the bus was never ready). */
static const char *feed(struct bus *b, int rd, int *at)
{
	*at = -1;
	if (read_byte(rd) != 'R')
		return "the bus ended before it was ready";
	for (int i = 0; i < script.n; i++) {
		*at = i;
		if (i > 0 && read_byte(rd) != 'L')
			return "the bus ended before the line of the previous key";
		b->rec[i].t_sent = il_now_ns();
		lttng_ust_tracepoint(ipclab_sig, sig_send, script.keys[i], (uint64_t)i, -b->pgid);
		if (kill(-b->pgid, script.keys[i]) < 0)
			return "kill(-pgid) failed";
	}
	*at = script.n;
	return read_byte(rd) == 'L' ? NULL : "no line after the last key";
}

/* One line for a feeding failure, unless the driver failed and said why itself. */
static void feed_failed(const char *what, int at, int drv_status)
{
	char how[96] = "", st[80];
	if (drv_status >= 0 && WIFEXITED(drv_status) && WEXITSTATUS(drv_status) != 0)
		return; /* the driver logged its failure */
	if (drv_status >= 0 && WIFSIGNALED(drv_status))
		(void)snprintf(how, sizeof(how), ": the driver was %s", il_wait_status_text(drv_status, st, sizeof(st)));
	if (at >= 0)
		il_fail("%s (%d of %d keys sent)%s", what, at, script.n, how);
	else
		il_fail("%s%s", what, how);
}

/* Script mode: fork the driver into its own group, feed the keys, reap the driver. */
static int run_script(struct bus *b, struct bus_outcome *o)
{
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		int e = errno;
		il_errno("pipe failed");
		return il_exit_for_errno(e);
	}
	bus_roles_init(b, ep[1]);
	feed_rd = ep[0];
	/* If the driver dies, its orphaned conductor is reparented to us and reaped here. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct il_peer drv;
	int rc = il_spawn(&drv, IL_MODE_PROCESS, -1, driver_child, b);
	(void)close(ep[1]);
	if (rc == IL_OK) {
		(void)setpgid(drv.pid, drv.pid); /* both sides, so kill(-pgid) cannot race the child */
		b->pgid = drv.pid;
		il_guard_set_pgid(drv.pid);
		il_trace_init_thread();
		int at;
		const char *err = feed(b, ep[0], &at);
		/* EOF: the driver and the conductor have both closed the pipe, i.e. exited. A
		 * failure above kills the group instead, so this never waits on a stuck bus. */
		if (err)
			(void)kill(-b->pgid, SIGKILL);
		while (read_byte(ep[0]) >= 0)
			;
		int st;
		pid_t r = il_waitpid(drv.pid, &st, 0);
		o->t_drv_reaped = il_now_ns();
		il_peer_untrack(drv.pid);
		il_guard_set_pgid(0);
		o->drv_status = r == drv.pid ? st : -1;
		if (err) {
			feed_failed(err, at, o->drv_status);
			rc = IL_FAIL;
		}
		(void)il_reap_all(); /* anything reparented to us (the conductor, if the driver died first) */
	}
	(void)close(ep[0]);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	return rc;
}

static int bus_measure(struct il_ctx *x, void *cfg)
{
	const struct bus_cfg *k = cfg;
	struct bus *b = il_shared_alloc(sizeof(*b));
	if (!b) {
		il_errno("cannot map shared memory");
		return IL_NORES;
	}
	b->lang = k->lang;
	/* The lines are the demonstration: on stdout, unless the JSON result goes there. */
	b->out_fd = x->c.json && !x->c.json_file ? STDERR_FILENO : STDOUT_FILENO;
	for (int i = 0; i < IL_BUS_MAX_KEYS; i++)
		b->rec[i].line = LINE_NONE;
	(void)fflush(NULL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &dfl, NULL); /* an inherited SIG_IGN would auto-reap our children */
	struct bus_outcome o = { .script = k->script != NULL, .keys = &script, .drv_status = -1 };
	int rc;
	if (k->script) {
		rc = run_script(b, &o);
	} else {
		b->pgid = getpgrp();
		bus_roles_init(b, -1);
		rc = bus_driver_main(b);
	}
	rc = bus_verdict(x, b, &o, rc);
	il_shared_free(b, sizeof(*b));
	return rc;
}

const struct il_experiment il_exp_signal_bus = {
	.group = "signal",
	.name = "bus",
	.summary = "driver/conductor bus: Ctrl-C/Ctrl-\\/Ctrl-Z forwarded as SIGUSR1/SIGUSR2 between two processes",
	.help = "The driver/conductor bus (the OS course homework). The driver (parent) forks the\n"
		"conductor (child). Ctrl-C: the conductor sends SIGUSR1, the driver prints 'starting'.\n"
		"Ctrl-\\: the conductor sends SIGUSR2, the driver prints 'too fast'. Ctrl-Z: the driver\n"
		"sends SIGUSR1, the conductor announces the station and gets off; the driver reaps it\n"
		"and leaves. Interactive by default: type the keys in the terminal (without one: exit\n"
		"4). --script sends the keys itself, each after the previous line appeared. Lines go\n"
		"to stdout (to stderr when --json writes to stdout).",
	.opts = bus_opts,
	.cfg_size = sizeof(struct bus_cfg),
	.params = bus_params,
	.measure = bus_measure,
	.print = bus_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
