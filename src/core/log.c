/* log.c - message helpers: one line on stderr, errno-rich, printf-checked. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char prefix[96] = "ipclab: ";
static bool quiet;

void il_log_set_prefix(const char *what)
{
	if (what && *what)
		(void)snprintf(prefix, sizeof(prefix), "ipclab: %s: ", what);
	else
		(void)snprintf(prefix, sizeof(prefix), "ipclab: ");
}

void il_log_set_quiet(bool q) { quiet = q; }
bool il_log_quiet(void) { return quiet; }

/* Formats prefix + tag + message (+ errno text) into one buffer and writes it at once. */
static void emit(const char *tag, int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s%s", prefix, tag);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf))
		n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (errnum && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s (errno %d)", strerror(errnum), errnum);
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	(void)fprintf(stderr, "%.*s\n", n, buf);
}

void il_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("", 0, fmt, ap);
	va_end(ap);
}

void il_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	emit("", e, fmt, ap);
	va_end(ap);
	errno = e;
}

void il_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("FAIL: ", 0, fmt, ap);
	va_end(ap);
}

void il_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", 0, fmt, ap);
	va_end(ap);
}

void il_info(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", 0, fmt, ap);
	va_end(ap);
}

int il_exit_for_errno(int e)
{
	switch (e) {
	case EPERM: case EACCES: case ENOMEM: case EAGAIN: case EMFILE: case ENFILE:
	case ENOSPC: case EMSGSIZE: case EDQUOT: case EBUSY:
		return IL_NORES;
	case ENOSYS: case EOPNOTSUPP: case EAFNOSUPPORT: case EPROTONOSUPPORT:
		return IL_UNSUP;
	default:
		return IL_FAIL;
	}
}
