/* tp.h - the application side of our tracepoints. The probes live in a separate
 * provider .so loaded only when tracing (dynamic linkage): untraced, a call site costs
 * one load and a not-taken branch, and the binary links no liblttng-ust. */
#ifndef IPCLAB_TP_H
#define IPCLAB_TP_H

#include <stdbool.h>

#include "ipclab_run.h"
#include "ipclab_msg.h"
#include "ipclab_sig.h"
#include "ipclab_task.h"
#include "ipclab_lock.h"

/* Registers the calling thread with LTTng-UST if it is loaded, so a signal handler
 * running on it can trace (lttng_ust_init_thread, looked up at run time). */
void il_trace_init_thread(void);
/* True when the provider .so is loaded into this process (we are being traced). */
bool il_trace_loaded(void);

#endif
