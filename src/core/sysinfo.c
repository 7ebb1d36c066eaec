/* sysinfo.c - the environment recorded beside every result (kernel, CPU, clocksource,
 * governor, libc, tracing state). */
#include "result.h"
#include "tp.h"

#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Reads the first line of a small file into buf (newline stripped); "" on error. */
static void read_line(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	(void)fclose(f);
}

/* "model name" from /proc/cpuinfo. */
static void cpu_model(char *buf, size_t len)
{
	buf[0] = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c++;
				while (*c == ' ' || *c == '\t')
					c++;
				(void)snprintf(buf, len, "%s", c);
				buf[strcspn(buf, "\n")] = 0;
			}
			break;
		}
	}
	(void)fclose(f);
}

json_t *il_sysinfo_json(void)
{
	struct utsname u;
	char model[256], clocksrc[64], governor[64];
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	cpu_model(model, sizeof(model));
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", clocksrc, sizeof(clocksrc));
	read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", governor, sizeof(governor));
	const char *status = getenv("IPCLAB_TRACE_STATUS");
	return json_pack("{ss ss ss ss ss sI sI ss ss ss sb ss}", "hostname", u.nodename,
			 "kernel", u.release, "kernel_version", u.version, "machine", u.machine,
			 "cpu_model", model, "nproc_online", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
			 "nproc_conf", (json_int_t)sysconf(_SC_NPROCESSORS_CONF),
			 "clocksource", clocksrc, "cpufreq_governor", *governor ? governor : "n/a",
			 "libc", gnu_get_libc_version(), "tracing_loaded", il_trace_loaded(),
			 "trace_status", status && *status ? status : (il_trace_loaded() ? "traced" : "untraced"));
}
