/* integrity.h - damaged and incomplete traces, as the sink sees them (babeltrace2 side).
 *
 * filter.utils.muxer refuses a stream whose time goes backwards; the sink's own merge of
 * several inputs (scripts/ipclab-analyze) must refuse it too, and source.ctf.fs checks
 * neither a packet against the LTTng index nor a stream file cut at a packet boundary,
 * and skips an empty stream file with a log line. Every message goes through
 * integ_check():
 *   damaged (the sink fails, no result, like the muxer): time going backwards within a
 *     stream (events, packet beginnings and ends); a packet whose sequence number does
 *     not increase; a packet whose sizes, times or sequence number differ from its entry
 *     in the stream file's index (index/<file>.idx beside it), or that the index lacks;
 *   incomplete (a result, "complete": false, each file named): a stream file shorter
 *     than its index says (packets cut off), an empty stream file (no packet), any other
 *     file of a read trace folder that no stream came from, an unreadable index.
 * The file checks need source.ctf.fs's stream names (the data stream file's path); a
 * stream without one (another source) gets the time and sequence checks only. */
#ifndef IPCLAB_INTEGRITY_H
#define IPCLAB_INTEGRITY_H

#include <babeltrace2/babeltrace.h>
#include <stddef.h>

struct integ;

struct integ *integ_new(void);
void integ_free(struct integ *g);

/* Checks message m (of any type) against its stream's history: 0 fine, -1 the trace is
 * damaged (why says how, one line). */
int integ_check(struct integ *g, const bt_message *m, char *why, size_t len);

/* After the last message: calls fn(arg, path, reason) for every stream file that was not
 * read whole (see above). */
void integ_incomplete(struct integ *g, void (*fn)(void *arg, const char *path, const char *reason), void *arg);

#endif
