/* outfile.c - result files checked before the run and written atomically (outfile.h). */
#include "outfile.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How much a result file must be able to grow before the run is worth starting. */
#define PROBE_BYTES 4096

/* errnos that no retry, permission or free space can change: a usage error. */
static bool never_works(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG || e == EISDIR || e == ELOOP || e == EINVAL ||
	       e == ENXIO || e == ENODEV;
}

/* One line for path and errno e; the exit code that goes with it. */
static int refuse(const char *option, const char *path, int e)
{
	errno = e;
	il_errno("%s: cannot write '%s'", option, path);
	return never_works(e) ? IL_USAGE : IL_NORES;
}

/* The folder a path's file lives in, into buf. */
static void folder_of(const char *path, char *buf, size_t len)
{
	char copy[PATH_MAX];
	(void)snprintf(copy, sizeof(copy), "%s", path);
	(void)snprintf(buf, len, "%s", dirname(copy));
}

/* Creates, grows and removes a temporary file beside path: the folder exists, is
 * writable, and has room. 0 or an errno. */
static int probe_folder(const char *path)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	folder_of(path, dir, sizeof(dir));
	struct stat st;
	if (stat(dir, &st) < 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	(void)snprintf(tmp, sizeof(tmp), "%s/.ipclab-probe-XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = posix_fallocate(fd, 0, PROBE_BYTES); /* ftruncate would reserve nothing */
	(void)close(fd);
	(void)unlink(tmp);
	return e == EOPNOTSUPP || e == EINVAL ? 0 : e;
}

/* A device (/dev/null, /dev/full, a terminal) or a FIFO written in place. */
static int check_special(const char *option, const char *path, const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return IL_OK; /* opening it would wait for a reader */
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return refuse(option, path, errno);
	int e = write(fd, "", 0) < 0 ? errno : 0; /* /dev/full: ENOSPC */
	(void)close(fd);
	return e ? refuse(option, path, e) : IL_OK;
}

int il_out_check(const char *option, const char *path)
{
	if (!*path) {
		il_err("%s: the file name is empty", option);
		return IL_USAGE;
	}
	struct stat st;
	bool exists = stat(path, &st) == 0;
	if (exists) {
		if (S_ISDIR(st.st_mode))
			return refuse(option, path, EISDIR);
		if (!S_ISREG(st.st_mode))
			return check_special(option, path, &st);
	} else if (errno != ENOENT) {
		return refuse(option, path, errno);
	}
	int e = probe_folder(path);
	if (e && exists && (e == EACCES || e == EPERM) && access(path, W_OK) == 0)
		return IL_OK; /* a writable file in a folder we cannot add to: written in place */
	return e ? refuse(option, path, e) : IL_OK;
}

/* Opens the destination itself (not a regular file, or its folder takes no new file). */
static int open_direct(struct il_out *o, const char *path)
{
	o->direct = true;
	(void)snprintf(o->path, sizeof(o->path), "%s", path);
	o->f = fopen(path, "we");
	if (!o->f) {
		il_errno("cannot write '%s'", path);
		return IL_NORES;
	}
	return IL_OK;
}

int il_out_open(struct il_out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->shown = path;
	struct stat st;
	bool exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode))
		return open_direct(o, path);
	if (!(exists && realpath(path, o->path)))
		(void)snprintf(o->path, sizeof(o->path), "%s", path);
	char dir[PATH_MAX];
	folder_of(o->path, dir, sizeof(dir));
	(void)snprintf(o->tmp, sizeof(o->tmp), "%s/.ipclab-XXXXXX", dir);
	int fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0 && exists && (errno == EACCES || errno == EPERM))
		return open_direct(o, path);
	if (fd < 0) {
		il_errno("cannot write '%s'", path);
		return IL_NORES;
	}
	mode_t mask = umask(0);
	(void)umask(mask);
	(void)fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~mask);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		(void)close(fd);
		(void)unlink(o->tmp);
		il_errno("cannot write '%s'", path);
		return IL_NORES;
	}
	return IL_OK;
}

int il_out_commit(struct il_out *o)
{
	int e = 0;
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		e = errno ? errno : EIO;
	else if (!o->direct && fsync(fileno(o->f)) != 0)
		e = errno;
	if (fclose(o->f) != 0 && !e)
		e = errno;
	o->f = NULL;
	if (!e && !o->direct && rename(o->tmp, o->path) != 0)
		e = errno;
	if (!e)
		return IL_OK;
	if (!o->direct)
		(void)unlink(o->tmp);
	errno = e;
	il_errno("cannot write '%s'", o->shown);
	return IL_NORES;
}

void il_out_abort(struct il_out *o)
{
	if (o->f)
		(void)fclose(o->f);
	o->f = NULL;
	if (!o->direct && o->tmp[0])
		(void)unlink(o->tmp);
}
