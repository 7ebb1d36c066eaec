/* proc.c - what the task experiments read from /proc (memory, threads, children) and a
 * bounded wait for the death of a task through a pipe only it holds. The OS idioms
 * themselves (full reads and writes, waitpid, /proc/PID/stat) are src/core/sys.h's. */
#include "task.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/clock.h"

/* The value of "Key:  N kB" in text, -1 if absent. */
static int64_t kb_field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtoll(p + kl + 1, NULL, 10);
	}
	return -1;
}

int tk_read_mem(pid_t pid, struct tk_mem *m)
{
	char path[64], buf[4096];
	memset(m, 0, sizeof(*m));
	if (pid)
		(void)snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	else
		(void)snprintf(path, sizeof(path), "/proc/self/smaps_rollup");
	if (il_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	m->rss_kb = kb_field(buf, "Rss");
	m->pss_kb = kb_field(buf, "Pss");
	int64_t pc = kb_field(buf, "Private_Clean"), pd = kb_field(buf, "Private_Dirty");
	m->private_kb = (pc < 0 ? 0 : pc) + (pd < 0 ? 0 : pd);
	m->anon_huge_kb = kb_field(buf, "AnonHugePages");
	if (m->rss_kb < 0 || m->pss_kb < 0)
		return -1;
	if (pid)
		(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		(void)snprintf(path, sizeof(path), "/proc/self/status");
	if (il_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	m->pte_kb = kb_field(buf, "VmPTE");
	return 0;
}

int64_t tk_meminfo_kb(const char *key)
{
	char buf[8192];
	if (il_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	return kb_field(buf, key);
}

int tk_thread_count(void)
{
	char buf[4096];
	if (il_read_file("/proc/self/status", buf, sizeof(buf)) <= 0)
		return -1;
	const char *p = strstr(buf, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

int tk_first_allowed_cpu(void)
{
	int cpu;
	return il_allowed_cpus(&cpu, 1) > 0 ? cpu : 0;
}

int tk_count_children(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], buf[4096];
		(void)snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		if (il_read_file(path, buf, sizeof(buf)) < 0)
			continue;
		for (char *p = buf; *p;) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p) {
				n++;
				while (*p && *p != ' ' && *p != '\n')
					p++;
			}
		}
	}
	(void)closedir(d);
	return n;
}

void tk_close(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void tk_close_pair(int p[2])
{
	tk_close(&p[0]);
	tk_close(&p[1]);
}

bool tk_wait_eof(int fd, int ms)
{
	uint64_t deadline = il_now_ns() + (uint64_t)ms * 1000000;
	for (;;) {
		uint64_t now = il_now_ns();
		if (now >= deadline)
			return false;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n == 0)
			return true;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return false;
	}
}
