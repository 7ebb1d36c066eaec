/* bus.h - the parts of "ipclab signal bus" that unit tests pin down. */
#ifndef IPCLAB_SIGNAL_BUS_H
#define IPCLAB_SIGNAL_BUS_H

#include <stddef.h>

#define IL_BUS_MAX_KEYS 64

/* Parses a --script value "INT,QUIT,INT,TSTP" (keys INT, QUIT, TSTP, an optional "SIG"
 * prefix, any case) into signal numbers. TSTP ends the ride, so it must come last and
 * only once. Returns the number of keys, or -1 with the reason in why. */
int il_bus_parse_script(const char *s, int sigs[IL_BUS_MAX_KEYS], char *why, size_t whylen);

#endif
