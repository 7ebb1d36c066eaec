/* bus.h - "ipclab signal bus" inside: the --script parser (unit-tested), the memory the
 * roles share, the roles (bus_roles.c), and the verdict and rendering (bus_result.c). */
#ifndef IPCLAB_SIGNAL_BUS_H
#define IPCLAB_SIGNAL_BUS_H

#include "../core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IL_BUS_MAX_KEYS 64
#define BUS_MAX_STATES 256

/* A --script value parsed: the keys' signals, or where and why it is wrong. */
struct il_bus_script {
	int keys[IL_BUS_MAX_KEYS];
	int n;
	const char *error;  /* NULL, or what is wrong ("unknown key") */
	int pos;            /* 1-based position of the key in question (0: the whole script) */
	const char *tok;    /* the key in question (tok_len bytes of the script), for "unknown key" */
	int tok_len;
};
/* Parses "INT,QUIT,INT,TSTP" (keys INT, QUIT, TSTP, an optional "SIG" prefix, any case).
 * TSTP ends the ride, so it must come last and only once. Returns the number of keys, or
 * -1 with out->error (and pos/tok) saying why. */
int il_bus_parse_script(const char *s, struct il_bus_script *out);

enum bus_role { DRIVER, CONDUCTOR, FEEDER, TERMINAL };
extern const char *const bus_role_names[];
/* A role's states (the bus_state event; the Trace Compass view maps their names). */
enum bus_state_id { ST_WAITING, ST_DRIVING, ST_SPEEDING, ST_AT_STATION, ST_SELLING, ST_ANNOUNCING, ST_OFF };
enum bus_line { LINE_NONE = -1, LINE_START, LINE_FAST, LINE_ARRIVE };
extern const char *const bus_lang_names[];

/* One key, from its signal to the printed line (CLOCK_MONOTONIC ns; 0: did not happen). */
struct bus_key {
	int key_signo;   /* SIGINT/SIGQUIT/SIGTSTP as received; 0: never received */
	int fwd_signo;   /* SIGUSR1/SIGUSR2 forwarded to the other role; 0: none */
	int receiver;    /* enum bus_role that caught the key */
	int printer;     /* enum bus_role that printed the line */
	int line;        /* enum bus_line printed */
	int ignored;     /* a second Ctrl-Z after the station: nothing to do */
	uint64_t t_sent;     /* feeder, just before kill(-pgid) (script mode only) */
	uint64_t t_recv;     /* first thing in the receiving handler */
	uint64_t t_fwd;      /* just before kill() of the forwarded signal */
	uint64_t t_fwd_recv; /* first thing in the forwarded signal's handler */
	uint64_t t_printed;  /* just after write(2) of the line returned */
};

struct bus_state {
	int role, state;
	uint64_t t;
};

/* Everything the roles share (MAP_SHARED, so the forked roles and the feeder see it). */
struct bus {
	/* Set before the forks, read-only afterwards. */
	int lang;
	int out_fd;          /* where the lines go: stdout, or stderr when JSON is on stdout */
	/* Counters updated from handlers (atomics: the roles are separate processes). */
	uint32_t keys;       /* keys received so far: the next key's seq */
	uint32_t lines;      /* lines printed */
	uint32_t nstates;
	uint32_t seq_to_driver[2]; /* seq of the key forwarded as SIGUSR1 / SIGUSR2 */
	uint32_t seq_to_conductor; /* seq of the Ctrl-Z forwarded as SIGUSR1 */
	pid_t driver, conductor, pgid;
	struct bus_key rec[IL_BUS_MAX_KEYS];
	struct bus_state states[BUS_MAX_STATES];
	/* How it ended. */
	uint64_t t_ready;
	uint64_t t_conductor_exit;    /* conductor, just before it exits */
	uint64_t t_conductor_reaped;  /* driver, when waitpid() returned the conductor */
	uint64_t t_driver_exit;       /* driver, just before it exits (or returns) */
	int conductor_reaped, conductor_wstatus; /* the raw wait status, once reaped */
	int driver_rc;
};

/* The bus the roles' handlers use, and the script mode's pipe to the feeder (a byte per
 * ready/line; -1 when interactive). */
void bus_roles_init(struct bus *b, int effect_wr);
/* The driver's whole life in this process: fork the conductor, wait for the keys, reap
 * the conductor, leave. An exit code, logged once. */
int bus_driver_main(struct bus *b);
/* The line text of line in the bus's language (NULL for LINE_NONE). */
const char *bus_line_text(const struct bus *b, int line);
/* A role state's name ("driving"). */
const char *bus_state_name(int state);

/* How the ride ended, for the verdict. */
struct bus_outcome {
	bool script;
	const struct il_bus_script *keys; /* script mode */
	int drv_status;          /* script mode: the driver's raw wait status, -1 if not reaped */
	uint64_t t_drv_reaped;
};
/* Checks the ride (one FAIL line for the first broken promise) and fills x->results.
 * Returns rc, or IL_FAIL if a check failed. */
int bus_verdict(struct il_ctx *x, const struct bus *b, const struct bus_outcome *o, int rc);
/* The human table, from the results. */
void bus_print(const struct il_ctx *x, const void *cfg);

#endif
