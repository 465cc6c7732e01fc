/* list.h: -l / -lv probe listing (list.c). */
#ifndef TRACE_DRIVER_LIST_H
#define TRACE_DRIVER_LIST_H

#include <stdbool.h>

/* Prints matching probe names; returns the exit status. */
int list_probes(const char *pattern, bool verbose);

#endif
