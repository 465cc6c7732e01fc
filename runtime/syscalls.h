/* syscalls.h: the kernel's own syscall number of each syscall trace event.
 *
 * In: a name. Out: "getppid" -> 110, the number for which the kernel fires
 * syscalls:sys_enter_getppid. Used to attach many syscall tracepoints as
 * one raw tracepoint filtered on the number (docs/kernel.md, "Detaching").
 * Does not: read the kernel (see syscalls.c for why); a name it does not
 * know makes callers keep one perf event for that tracepoint.
 */
#ifndef TRACE_RUNTIME_SYSCALLS_H
#define TRACE_RUNTIME_SYSCALLS_H

/* The number of syscall `name` (the event name without "sys_enter_"), or
 * -ENOENT if the kernel has no such syscall event, or another negative
 * errno if this architecture has no table. */
int rt_syscall_nr(const char *name);

#endif
