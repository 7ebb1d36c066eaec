/* clean.c - "ipclab clean [--dry-run] [--json]": removes the named objects that runs
 * killed with SIGKILL left behind, and nothing else. An object is ipclab's by its name
 * ("ipclab-<tag>-<pid>-<random>": /dev/shm, /dev/mqueue, /tmp) or, for SysV objects
 * (which have no name), by the record file its run kept in /dev/shm (cleanup.c). It is
 * removed only when it belongs to the user running clean and its creator <pid> is gone
 * (kill(pid, 0) fails with ESRCH): a live run's objects and other users' are kept. */
#include "clean.h"
#include "experiment.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

struct clean {
	bool dry_run;
	json_t *objects;
	unsigned removed, kept, failed;
};

/* The creator pid in "ipclab-<tag>-<pid>-<rest>" (the last-but-one field), -1 if none. */
pid_t il_clean_name_pid(const char *name)
{
	const char *p = strncmp(name, "sem.", 4) ? name : name + 4;
	if (strncmp(p, "ipclab-", 7))
		return -1;
	const char *last = strrchr(p, '-');
	if (!last || last == p)
		return -1;
	const char *start = last;
	while (start > p && start[-1] != '-')
		start--;
	if (start == last || start == p + 7)
		return -1;
	long pid = 0;
	for (const char *c = start; c < last; c++) {
		if (*c < '0' || *c > '9' || pid > 4194304)
			return -1;
		pid = pid * 10 + (*c - '0');
	}
	return pid > 0 ? (pid_t)pid : -1;
}

/* True while a process with this pid exists (ours or not: EPERM means it does). */
static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Records one object and what was done to it (e: errno of a failed removal). */
static void note(struct clean *cl, const char *kind, const char *name, pid_t pid, const char *action, int e)
{
	if (!strcmp(action, "kept"))
		cl->kept++;
	else if (e)
		cl->failed++;
	else
		cl->removed++;
	json_t *o = json_pack("{ss ss si ss}", "kind", kind, "name", name, "creator_pid", (int)pid, "action",
			      e ? "failed" : action);
	il_jset(o, "error", e ? json_string(strerror(e)) : json_null());
	(void)json_array_append_new(cl->objects, o);
	if (e)
		il_err("cannot remove %s: %s", name, strerror(e));
}

/* Removes a folder's entries, then the folder (ours: a FIFO folder). 0 or an errno. */
static int remove_folder(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return errno;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(void)unlinkat(fd, e->d_name, 0);
	(void)closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? errno : 0;
}

/* Removes one named object found in folder dir. 0 or an errno. */
static int remove_named(int dfd, const char *dir, const char *name, bool is_dir)
{
	if (is_dir)
		return remove_folder(dfd, name);
	if (!strcmp(dir, "/dev/mqueue")) {
		char mq[300];
		(void)snprintf(mq, sizeof(mq), "/%s", name);
		return mq_unlink(mq) < 0 ? errno : 0;
	}
	return unlinkat(dfd, name, 0) < 0 ? errno : 0;
}

/* Column col of a /proc/sysvipc table row, by the header's names; -1 if absent. */
static int column(const char *header, const char *col)
{
	char h[512];
	(void)snprintf(h, sizeof(h), "%s", header);
	int i = 0;
	char *save = NULL;
	for (char *w = strtok_r(h, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), i++)
		if (!strcmp(w, col))
			return i;
	return -1;
}

/* Field i of a whitespace-separated row, as a number (LONG_MIN if absent). */
static long field(const char *row, int i)
{
	char r[512];
	(void)snprintf(r, sizeof(r), "%s", row);
	char *save = NULL, *w = strtok_r(r, " \t\n", &save);
	for (; w && i > 0; i--)
		w = strtok_r(NULL, " \t\n", &save);
	return w && i == 0 ? strtol(w, NULL, 10) : LONG_MIN;
}

/* True if /proc/sysvipc/<kind> still holds object id, created by us at ctime. */
static bool sysv_is_ours(const char *kind, int id, long ctime)
{
	char path[64], header[512], row[512];
	(void)snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ours = false;
	if (fgets(header, sizeof(header), f)) {
		int cid = column(header, !strcmp(kind, "msg") ? "msqid" : !strcmp(kind, "sem") ? "semid" : "shmid");
		int ccuid = column(header, "cuid"), cctime = column(header, "ctime");
		while (!ours && cid >= 0 && fgets(row, sizeof(row), f))
			ours = field(row, cid) == id && field(row, ccuid) == (long)geteuid() &&
			       field(row, cctime) == ctime;
	}
	(void)fclose(f);
	return ours;
}

/* Removes the SysV objects a dead run recorded in its record file (name in dfd). */
static void clean_sysv_record(struct clean *cl, int dfd, const char *name, pid_t pid)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	FILE *f = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() ? fdopen(fd, "r")
													: NULL;
	if (!f) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	char kind[8], line[128];
	int id;
	long ctime;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %d %ld", kind, &id, &ctime) != 3 || !sysv_is_ours(kind, id, ctime))
			continue; /* removed with its run, or not ours */
		char what[64];
		(void)snprintf(what, sizeof(what), "sysv-%s:%d", kind, id);
		int e = 0;
		if (!cl->dry_run) {
			int r = !strcmp(kind, "msg") ? msgctl(id, IPC_RMID, NULL)
				: !strcmp(kind, "sem") ? semctl(id, 0, IPC_RMID)
						       : shmctl(id, IPC_RMID, NULL);
			e = r < 0 ? errno : 0;
		}
		note(cl, "sysv", what, pid, cl->dry_run ? "would remove" : "removed", e);
	}
	(void)fclose(f);
}

/* Every "ipclab-*" entry of dir (and "sem.ipclab-*" in /dev/shm) owned by us; only
 * those starting with one of prefixes[] when given (/tmp holds others' files too). */
static void clean_folder(struct clean *cl, const char *dir, const char *kind, const char *const *prefixes)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			(void)close(dfd);
		return; /* no such folder here (no mqueue file system mounted...) */
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		bool listed = !prefixes;
		for (const char *const *p = prefixes; p && *p && !listed; p++)
			listed = !strncmp(e->d_name, *p, strlen(*p));
		pid_t pid = listed ? il_clean_name_pid(e->d_name) : -1;
		struct stat st;
		if (pid < 0 || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != geteuid() ||
		    S_ISLNK(st.st_mode))
			continue;
		char full[PATH_MAX];
		(void)snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		if (alive(pid)) {
			note(cl, kind, full, pid, "kept", 0);
			continue;
		}
		bool record = !strncmp(e->d_name, "ipclab-sysv-", 12);
		if (record)
			clean_sysv_record(cl, dfd, e->d_name, pid);
		int err = cl->dry_run ? 0 : remove_named(dfd, dir, e->d_name, S_ISDIR(st.st_mode));
		note(cl, record ? "record" : kind, full, pid, cl->dry_run ? "would remove" : "removed", err);
	}
	(void)closedir(d);
}

static void clean_print(const struct clean *cl)
{
	size_t i;
	json_t *o;
	json_array_foreach(cl->objects, i, o)
		printf("%-12s %s (creator %d)\n", json_string_value(json_object_get(o, "action")),
		       json_string_value(json_object_get(o, "name")),
		       (int)json_integer_value(json_object_get(o, "creator_pid")));
	printf("clean%s: %u %s, %u kept (creator still running), %u failed\n", cl->dry_run ? " --dry-run" : "",
	       cl->removed, cl->dry_run ? "to remove" : "removed", cl->kept, cl->failed);
}

int il_clean_main(int argc, char **argv)
{
	struct clean cl = { 0 };
	const struct il_opt opts[] = {
		{ .name = "dry-run", .type = IL_OPT_FLAG, .help = "list what would be removed, remove nothing",
		  .dst = &cl.dry_run },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, "clean", argc, argv);
	int rc = il_ctx_parse(&x, "Remove what ipclab runs killed with SIGKILL left behind: POSIX shared memory,\n"
			      "semaphores and message queues, FIFO folders and lock files named ipclab-<tag>-<pid>-...,\n"
			      "and the SysV objects such runs recorded; only the caller's own, and only when the\n"
			      "creator <pid> is gone (a running experiment's objects are kept).", 0, opts);
	if (rc != IL_RUN)
		return rc;
	cl.objects = json_array();
	static const char *const tmp_prefixes[] = { "ipclab-flock-", "ipclab-fifo-", NULL };
	clean_folder(&cl, "/dev/shm", "posix-shm", NULL);
	clean_folder(&cl, "/dev/mqueue", "posix-mq", NULL);
	clean_folder(&cl, "/tmp", "file", tmp_prefixes);
	il_jset(x.params, "dry_run", json_boolean(cl.dry_run));
	il_jset(x.results, "objects", json_incref(cl.objects));
	il_jset(x.results, "removed", json_integer(cl.removed));
	il_jset(x.results, "kept", json_integer(cl.kept));
	il_jset(x.results, "failed", json_integer(cl.failed));
	if (!x.c.json || x.c.json_file)
		clean_print(&cl);
	json_decref(cl.objects);
	return il_ctx_finish(&x, cl.failed ? IL_NORES : IL_OK);
}
