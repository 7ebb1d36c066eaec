/* opts.h - the command-line options every experiment shares, parsed once, plus a
 * table of each experiment's own options with ranges and help text. */
#ifndef IPCLAB_OPTS_H
#define IPCLAB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum il_mode { IL_MODE_PROCESS = 0, IL_MODE_THREAD = 1 };

/* Which common options an experiment accepts (--json, --quiet, --timeout, --help always). */
enum {
	IL_C_ITER = 1u << 0,   /* --iterations */
	IL_C_WARMUP = 1u << 1, /* --warmup */
	IL_C_REPEAT = 1u << 2, /* --repeat */
	IL_C_MODE = 1u << 3,   /* --mode process|thread */
	IL_C_CPU = 1u << 4,    /* --cpu A[,B] */
	IL_C_HIST = 1u << 5,   /* --hist[=FILE] */
};

#define IL_MAX_PEERS 2

struct il_common {
	uint64_t iterations, warmup, repeat, timeout_s;
	int mode;                /* enum il_mode */
	int cpu[IL_MAX_PEERS];   /* -1: not pinned */
	bool json;               /* --json given */
	const char *json_file;   /* NULL: JSON to stdout (human table suppressed) */
	bool hist;
	const char *hist_file;   /* NULL: histograms to stdout */
	bool quiet;
	uint32_t given_extra;    /* bit i: the experiment's option i was on the command line */
};

enum il_opt_type {
	IL_OPT_U64,    /* decimal integer in [min,max] */
	IL_OPT_SIZE,   /* integer with optional K/M/G (binary) suffix, in [min,max] bytes */
	IL_OPT_CHOICE, /* one of choices[]; dst is int* (index) */
	IL_OPT_STR,    /* dst is const char ** */
	IL_OPT_FLAG,   /* dst is bool *, no argument */
};

struct il_opt {
	const char *name;   /* long option name, without "--" */
	enum il_opt_type type;
	const char *metavar;
	const char *help;
	uint64_t min, max;
	const char *const *choices; /* NULL-terminated, for IL_OPT_CHOICE */
	void *dst;          /* a variable of the caller (ipclab clean); NULL: the config at .off */
	size_t off;         /* IL_CFG(struct, field, type): where the value goes in the config */
	const char *param;  /* non-NULL: also recorded as this key of the JSON params */
};

/* The offset of field in struct type T, checked at compile time to be a C type of the
 * size the option writes (uint64_t for U64/SIZE, int for CHOICE, const char * for STR,
 * bool for FLAG). */
#define IL_CFG(T, field, type)                                                                 \
	(offsetof(T, field) + 0 * sizeof(struct {                                              \
		 _Static_assert(sizeof(((T *)0)->field) == sizeof(type), "option field type"); \
		 int unused;                                                                    \
	 }))

/* Defaults an experiment may set before parsing. */
void il_common_defaults(struct il_common *c);

/* Parses argv (argv[0] is the experiment name) into c and, for options without a dst,
 * into the config struct cfg. Returns 0 to run, IL_USAGE after one message on stderr,
 * or -1 when --help was printed (exit 0). */
int il_parse(const char *usage_name, const char *summary, unsigned common_mask,
	     const struct il_opt *extra, int argc, char **argv, struct il_common *c, void *cfg);
/* True if the experiment's option `name` (from its table extra, as passed to il_parse)
 * was on the command line, in any spelling getopt accepts (--name, --name=V, an
 * unambiguous abbreviation): to reject options that do not apply to another one. */
bool il_opt_given(const struct il_common *c, const struct il_opt *extra, const char *name);
/* Prints the --help text (also used by "ipclab help EXP"). */
void il_print_help(const char *usage_name, const char *summary, unsigned common_mask,
		   const struct il_opt *extra, const struct il_common *defaults);

/* The placement --cpu asked for, for human output: "unpinned", "same CPU" or "cross-CPU". */
const char *il_placement_text(const struct il_common *c);
/* The same as the JSON params.placement value: "unpinned", "same-cpu" or "cross-cpu". */
const char *il_placement_key(const struct il_common *c);

/* Strict number parsing: no sign, no blanks, no trailing text, no overflow, range-checked.
 * Return 0 or -1 (errno EINVAL/ERANGE). */
int il_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int il_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parses "A" or "A,B" CPU numbers (each < CPU_SETSIZE and online); fills cpu[0..1]. */
int il_parse_cpus(const char *s, int cpu[IL_MAX_PEERS]);

#endif
