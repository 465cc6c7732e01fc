/* probes.h: attach points -> concrete probes (see probes.c). */
#ifndef TRACE_PROBES_H
#define TRACE_PROBES_H

#include "compiler/sema.h"

/* Fills s->probes from s->program; errors go through sema_error. */
void probes_resolve(struct sema *s);

#endif
