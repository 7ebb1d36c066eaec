/* tp.c - defines the tracepoint structures (once per binary) with dynamic linkage. */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

void il_trace_init_thread(void)
{
	void (*fn)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "lttng_ust_init_thread");
	if (fn)
		fn();
}

bool il_trace_loaded(void)
{
	/* The provider registers its probes through liblttng-ust; its presence in the
	 * process is what makes our tracepoints live. */
	return dlsym(RTLD_DEFAULT, "lttng_ust_probe_register") != NULL;
}

static pid_t (*libc_fork)(void);

/* Traced: glibc's own fork, dlsym on libc's handle finds its definition, not an
 * interposed one (LD_PRELOAD'ed liblttng-ust-fork.so comes first for RTLD_DEFAULT and
 * RTLD_NEXT). Untraced: fork() as everyone resolves it (a sanitizer's interceptor too). */
static void find_libc_fork(void)
{
	void *libc = il_trace_loaded() ? dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD) : NULL;
	if (libc) {
		libc_fork = (pid_t(*)(void))dlsym(libc, "fork");
		(void)dlclose(libc);
	}
	if (!libc_fork)
		libc_fork = fork;
}

pid_t il_fork_untraced(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, find_libc_fork);
	return libc_fork();
}
