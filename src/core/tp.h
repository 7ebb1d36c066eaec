/* tp.h - the application side of our tracepoints. The probes live in a separate
 * provider .so loaded only when tracing (dynamic linkage): untraced, a call site costs
 * one load and a not-taken branch, and the binary links no liblttng-ust. */
#ifndef IPCLAB_TP_H
#define IPCLAB_TP_H

#include <stdbool.h>
#include <sys/types.h>

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
/* glibc's fork() without the tracer's fork hooks, for a child that never traces and
 * leaves with _exit(). Traced runs preload liblttng-ust-fork.so, whose fork() makes every
 * child re-register with the session daemon (milliseconds: a new pid needs its own
 * registration before its first event); such a child leaves its stamps in shared memory
 * and the parent emits its events (proxy = 1). Untraced, this is fork(). */
pid_t il_fork_untraced(void);

#endif
