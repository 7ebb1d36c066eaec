/* opts.c - getopt_long over the common options and an experiment's own table. */
#include "opts.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EXTRA 32

static const char *const mode_names[] = { "process", "thread", NULL };

void il_common_defaults(struct il_common *c)
{
	memset(c, 0, sizeof(*c));
	c->iterations = 10000;
	c->warmup = 1000;
	c->repeat = 1;
	c->timeout_s = 300;
	c->mode = IL_MODE_PROCESS;
	for (int i = 0; i < IL_MAX_PEERS; i++)
		c->cpu[i] = -1;
}

const char *il_placement_text(const struct il_common *c)
{
	return c->cpu[0] < 0 ? "unpinned" : c->cpu[0] == c->cpu[1] ? "same CPU" : "cross-CPU";
}

const char *il_placement_key(const struct il_common *c)
{
	return c->cpu[0] < 0 ? "unpinned" : c->cpu[0] == c->cpu[1] ? "same-cpu" : "cross-cpu";
}

/* The leading decimal digits of s (s must start with one): the value in *v, the rest of s
 * in *end. -1 with errno (EINVAL: no digit first, ERANGE: above unsigned long long). */
static int parse_digits(const char *s, unsigned long long *v, char **end)
{
	if (!s || !*s || *s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno == ERANGE ? -1 : 0;
}

/* v into *out if it lies in [min, max], else -1 with ERANGE. */
static int in_range(unsigned long long v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int il_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (parse_digits(s, &v, &end) < 0)
		return -1;
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	return in_range(v, min, max, out);
}

int il_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (parse_digits(s, &v, &end) < 0)
		return -1;
	unsigned shift = 0;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: errno = EINVAL; return -1;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (*end) {
			errno = EINVAL;
			return -1;
		}
		if (v > (UINT64_MAX >> shift)) {
			errno = ERANGE;
			return -1;
		}
		v <<= shift;
	}
	return in_range(v, min, max, out);
}

int il_parse_cpus(const char *s, int cpu[IL_MAX_PEERS])
{
	char buf[64];
	if (!s || strlen(s) >= sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	strcpy(buf, s);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (n == IL_MAX_PEERS || il_parse_u64(tok, 0, (uint64_t)(ncpu > 0 ? ncpu - 1 : 0), &v) < 0) {
			errno = n == IL_MAX_PEERS ? EINVAL : errno;
			return -1;
		}
		cpu[n++] = (int)v;
	}
	if (n == 0 || s[0] == ',' || strstr(s, ",,") || s[strlen(s) - 1] == ',') {
		errno = EINVAL;
		return -1;
	}
	if (n == 1)
		cpu[1] = cpu[0];
	return 0;
}

enum { OPT_ITER = 1000, OPT_WARMUP, OPT_REPEAT, OPT_MODE, OPT_CPU, OPT_HIST, OPT_JSON,
       OPT_QUIET, OPT_TIMEOUT, OPT_HELP, OPT_EXTRA = 1100 };

/* Formats the allowed values of an option for messages and help. */
static void describe_range(const struct il_opt *o, char *buf, size_t len)
{
	if (o->type == IL_OPT_CHOICE) {
		size_t n = 0;
		buf[0] = 0;
		for (int i = 0; o->choices[i]; i++)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? "|" : "", o->choices[i]);
	} else if (o->type == IL_OPT_U64 || o->type == IL_OPT_SIZE) {
		(void)snprintf(buf, len, "%" PRIu64 "..%" PRIu64, o->min, o->max);
	} else {
		buf[0] = 0;
	}
}

void il_print_help(const char *name, const char *summary, unsigned mask, const struct il_opt *extra,
		   const struct il_common *d)
{
	printf("usage: ipclab %s [options]\n\n%s\n\noptions:\n", name, summary);
	if (extra) {
		for (const struct il_opt *o = extra; o->name; o++) {
			char range[256], left[64];
			describe_range(o, range, sizeof(range));
			(void)snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? "=" : "",
				       o->metavar ? o->metavar : "");
			printf("  %-26s %s%s%s%s\n", left, o->help, *range ? " [" : "", range, *range ? "]" : "");
		}
	}
	if (mask & IL_C_ITER)
		printf("  %-26s measured iterations per repeat [1..100000000, default %" PRIu64 "]\n",
		       "--iterations=N", d->iterations);
	if (mask & IL_C_WARMUP)
		printf("  %-26s unmeasured warm-up iterations [0..10000000, default %" PRIu64 "]\n",
		       "--warmup=N", d->warmup);
	if (mask & IL_C_REPEAT)
		printf("  %-26s repeat the measurement, report spread [1..1000, default %" PRIu64 "]\n",
		       "--repeat=N", d->repeat);
	if (mask & IL_C_MODE)
		printf("  %-26s peers are forked processes or threads [default %s]\n",
		       "--mode=process|thread", mode_names[d->mode]);
	if (mask & IL_C_CPU)
		printf("  %-26s pin peer 1 to CPU A and peer 2 to B (A alone: both on A) [default: unpinned]\n",
		       "--cpu=A[,B]");
	if (mask & IL_C_HIST)
		printf("  %-26s write histograms (gnuplot TSV blocks) to FILE, or stdout\n", "--hist[=FILE]");
	printf("  %-26s write the JSON result to FILE, or to stdout instead of the table\n", "--json[=FILE]");
	printf("  %-26s watchdog: kill peers, clean up, exit 1 after S seconds [1..86400, default %" PRIu64 "]\n",
	       "--timeout=S", d->timeout_s);
	printf("  %-26s no progress messages\n", "--quiet");
	printf("  %-26s this help\n", "--help");
	printf("\nexit codes: 0 ok, 1 a check failed, 2 usage, 3 no resource, 4 unsupported\n");
}

/* Reports a bad value for --name with the accepted range; returns IL_USAGE. */
static int bad_value(const char *name, const char *val, const char *range)
{
	il_err("invalid value '%s' for --%s (expected %s)", val ? val : "", name, range);
	return IL_USAGE;
}

bool il_opt_given(const struct il_common *c, const struct il_opt *extra, const char *name)
{
	for (int i = 0; extra && extra[i].name && i < MAX_EXTRA; i++)
		if (!strcmp(extra[i].name, name))
			return (c->given_extra >> i) & 1u;
	return false;
}

/* Stores one of the experiment's own options at its dst, or in cfg at its offset.
 * 0, or IL_USAGE after one message. */
static int set_extra(const struct il_opt *o, const char *arg, void *cfg)
{
	void *dst = o->dst ? o->dst : (char *)cfg + o->off;
	char range[256];
	describe_range(o, range, sizeof(range));
	uint64_t v;
	switch (o->type) {
	case IL_OPT_U64:
		if (il_parse_u64(arg, o->min, o->max, &v) < 0)
			return bad_value(o->name, arg, range);
		*(uint64_t *)dst = v;
		break;
	case IL_OPT_SIZE:
		if (il_parse_size(arg, o->min, o->max, &v) < 0)
			return bad_value(o->name, arg, range);
		*(uint64_t *)dst = v;
		break;
	case IL_OPT_CHOICE:
		for (int i = 0; o->choices[i]; i++)
			if (!strcmp(arg, o->choices[i])) {
				*(int *)dst = i;
				return 0;
			}
		return bad_value(o->name, arg, range);
	case IL_OPT_STR:
		*(const char **)dst = arg;
		break;
	case IL_OPT_FLAG:
		*(bool *)dst = true;
		break;
	}
	return 0;
}

/* getopt_long's table: the common options in mask, then the experiment's own. Returns
 * how many of its own were added. */
static int long_options(unsigned mask, const struct il_opt *extra, struct option lo[MAX_EXTRA + 16])
{
	int n = 0, nextra = 0;
#define ADD(nm, has, val) lo[n++] = (struct option){ nm, has, NULL, val }
	if (mask & IL_C_ITER) ADD("iterations", required_argument, OPT_ITER);
	if (mask & IL_C_WARMUP) ADD("warmup", required_argument, OPT_WARMUP);
	if (mask & IL_C_REPEAT) ADD("repeat", required_argument, OPT_REPEAT);
	if (mask & IL_C_MODE) ADD("mode", required_argument, OPT_MODE);
	if (mask & IL_C_CPU) ADD("cpu", required_argument, OPT_CPU);
	if (mask & IL_C_HIST) ADD("hist", optional_argument, OPT_HIST);
	ADD("json", optional_argument, OPT_JSON);
	ADD("quiet", no_argument, OPT_QUIET);
	ADD("timeout", required_argument, OPT_TIMEOUT);
	ADD("help", no_argument, OPT_HELP);
	for (const struct il_opt *o = extra; o && o->name; o++, nextra++) {
		if (nextra == MAX_EXTRA)
			break;
		ADD(o->name, o->type == IL_OPT_FLAG ? no_argument : required_argument, OPT_EXTRA + nextra);
	}
	lo[n] = (struct option){ 0, 0, 0, 0 };
#undef ADD
	return nextra;
}

/* Stores a common option's value. 0, or IL_USAGE after one message. */
static int set_common(int ch, const char *arg, struct il_common *c)
{
	switch (ch) {
	case OPT_ITER:
		if (il_parse_u64(arg, 1, 100000000, &c->iterations) < 0)
			return bad_value("iterations", arg, "an integer in 1..100000000");
		break;
	case OPT_WARMUP:
		if (il_parse_u64(arg, 0, 10000000, &c->warmup) < 0)
			return bad_value("warmup", arg, "an integer in 0..10000000");
		break;
	case OPT_REPEAT:
		if (il_parse_u64(arg, 1, 1000, &c->repeat) < 0)
			return bad_value("repeat", arg, "an integer in 1..1000");
		break;
	case OPT_TIMEOUT:
		if (il_parse_u64(arg, 1, 86400, &c->timeout_s) < 0)
			return bad_value("timeout", arg, "seconds in 1..86400");
		break;
	case OPT_MODE:
		if (!strcmp(arg, "process"))
			c->mode = IL_MODE_PROCESS;
		else if (!strcmp(arg, "thread"))
			c->mode = IL_MODE_THREAD;
		else
			return bad_value("mode", arg, "process|thread");
		break;
	case OPT_CPU:
		if (il_parse_cpus(arg, c->cpu) < 0) {
			char r[64];
			(void)snprintf(r, sizeof(r), "A or A,B with CPUs in 0..%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
			return bad_value("cpu", arg, r);
		}
		break;
	case OPT_HIST:
		c->hist = true;
		c->hist_file = arg;
		break;
	case OPT_JSON:
		c->json = true;
		c->json_file = arg;
		break;
	case OPT_QUIET:
		c->quiet = true;
		break;
	}
	return 0;
}

int il_parse(const char *uname, const char *summary, unsigned mask, const struct il_opt *extra,
	     int argc, char **argv, struct il_common *c, void *cfg)
{
	struct option lo[MAX_EXTRA + 16];
	struct il_common defaults = *c;
	int nextra = long_options(mask, extra, lo);
	optind = 0; /* 0, not 1: glibc then also resets its position inside "-abc" */
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_ITER: case OPT_WARMUP: case OPT_REPEAT: case OPT_TIMEOUT: case OPT_MODE:
		case OPT_CPU: case OPT_HIST: case OPT_JSON: case OPT_QUIET:
			if (set_common(ch, optarg, c) != 0)
				return IL_USAGE;
			break;
		case OPT_HELP:
			il_print_help(uname, summary, mask, extra, &defaults);
			return -1;
		case '?':
			if (optopt > 0 && optopt < OPT_ITER) /* a short option: we have none */
				il_err("unknown option '-%c'; see 'ipclab %s --help'", optopt, uname);
			else if (optopt)
				il_err("option '%s' takes no value; see 'ipclab %s --help'", argv[optind - 1], uname);
			else
				il_err("unknown option '%s'; see 'ipclab %s --help'", argv[optind - 1], uname);
			return IL_USAGE;
		case ':':
			il_err("option '%s' needs a value; see 'ipclab %s --help'", argv[optind - 1], uname);
			return IL_USAGE;
		default:
			if (ch < OPT_EXTRA || ch >= OPT_EXTRA + nextra)
				return IL_USAGE;
			c->given_extra |= 1u << (ch - OPT_EXTRA);
			if (set_extra(&extra[ch - OPT_EXTRA], optarg, cfg) != 0)
				return IL_USAGE;
		}
	}
	if (optind < argc) {
		il_err("unexpected argument '%s'; see 'ipclab %s --help'", argv[optind], uname);
		return IL_USAGE;
	}
	if ((c->json && !c->json_file) && (c->hist && !c->hist_file)) {
		il_err("--json and --hist cannot both write to stdout; give one a FILE");
		return IL_USAGE;
	}
	il_log_set_quiet(c->quiet);
	return 0;
}
