/* tp.c - defines the tracepoint structures (once per binary) with dynamic linkage. */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tp.h"

#include <dlfcn.h>

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
