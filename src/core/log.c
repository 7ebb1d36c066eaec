/* log.c - message helpers: one line on stderr, errno-rich, printf-checked. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static char prefix[96] = "ipclab: ";
static bool quiet;

/* One failure, one line: after an error (could not run) the FAIL lines of the peers it
 * brought down are secondary; after the watchdog's line nothing else is said. The state
 * lives in MAP_SHARED memory made before any peer is forked, so peers see it too. */
enum { LOG_OPEN, LOG_ERRORED, LOG_FINAL };
static volatile int local_state;
static volatile int *state = &local_state;

static void share_state(void)
{
	if (state != &local_state)
		return;
	void *p = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		state = p;
}

void il_log_final(void)
{
	__atomic_store_n(state, LOG_FINAL, __ATOMIC_RELEASE);
}

void il_log_set_prefix(const char *what)
{
	share_state();
	__atomic_store_n(state, LOG_OPEN, __ATOMIC_RELEASE);
	if (what && *what)
		(void)snprintf(prefix, sizeof(prefix), "ipclab: %s: ", what);
	else
		(void)snprintf(prefix, sizeof(prefix), "ipclab: ");
}

void il_log_set_quiet(bool q) { quiet = q; }
bool il_log_quiet(void) { return quiet; }

/* Copies src into dst with control characters escaped (\n, \t, \xHH): a message is
 * one line whatever the values it quotes hold. */
static void escape(char *dst, size_t len, const char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c >= 0x20 && c != 0x7f)
			dst[o++] = (char)c;
		else if (c == '\n' || c == '\t')
			o += (size_t)snprintf(dst + o, len - o, "\\%c", c == '\n' ? 'n' : 't');
		else
			o += (size_t)snprintf(dst + o, len - o, "\\x%02x", c);
	}
	dst[o] = 0;
}

/* Formats prefix + tag + message (+ errno text) into one buffer and writes it at once. */
static void emit(const char *tag, int errnum, const char *fmt, va_list ap)
{
	char buf[1024], line[1100];
	int n = snprintf(buf, sizeof(buf), "%s%s", prefix, tag);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf))
		n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (errnum && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s (errno %d)", strerror(errnum), errnum);
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	escape(line, sizeof(line), buf, (size_t)n);
	(void)fprintf(stderr, "%s\n", line);
}

/* Whether a line of this kind is still to be said; an error makes later FAILs secondary. */
static bool say(bool is_error)
{
	int st = __atomic_load_n(state, __ATOMIC_ACQUIRE);
	if (st == LOG_FINAL || (st == LOG_ERRORED && !is_error))
		return false;
	if (is_error)
		__atomic_store_n(state, LOG_ERRORED, __ATOMIC_RELEASE);
	return true;
}

void il_err(const char *fmt, ...)
{
	if (!say(true))
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", 0, fmt, ap);
	va_end(ap);
}

void il_errno(const char *fmt, ...)
{
	int e = errno;
	if (!say(true))
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", e, fmt, ap);
	va_end(ap);
	errno = e;
}

void il_fail(const char *fmt, ...)
{
	if (!say(false))
		return;
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
