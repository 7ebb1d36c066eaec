/* provider.c - the LTTng-UST probes of every ipclab provider, built as
 * build/lib/libipclab-tp.so and preloaded by scripts/ipclab-trace only when tracing. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "ipclab_run.h"
#include "ipclab_msg.h"
#include "ipclab_sig.h"
#include "ipclab_lock.h"
#include "ipclab_task.h"
