/*
 * uml-fail-xstate.c - for tests only: makes linux.uml fail as it does on
 * hosts with AMX, on any host. Preloaded, it answers every
 * PTRACE_SETREGSET NT_X86_XSTATE with EFAULT, as the host kernel does
 * there when UML's buffer is shorter than the host's xstate.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>

long ptrace(enum __ptrace_request req, ...)
{
	static long (*real)(int, ...);
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if (req == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE) {
		errno = EFAULT;
		return -1;
	}
	if (!real)
		real = (long (*)(int, ...))dlsym(RTLD_NEXT, "ptrace");
	return real(req, pid, addr, data);
}
