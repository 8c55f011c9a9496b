/*
 * uml-fail-xstate.c - for tests only: makes linux.uml fail as it does on
 * hosts with AMX, on any host. Preloaded, it answers every
 * PTRACE_SETREGSET NT_X86_XSTATE with EFAULT, as the host kernel does
 * there when UML's buffer is shorter than the host's xstate.
 *
 * ptrace is declared with its four arguments, not as <sys/ptrace.h> does
 * (variadic): on x86-64 both pass them in the same registers, and this
 * file is built for x86-64 hosts only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>

#define PTRACE_SETREGSET 0x4205

long ptrace(int req, long pid, unsigned long addr, void *data)
{
	static long (*real)(int, long, unsigned long, void *);

	if (req == PTRACE_SETREGSET && addr == NT_X86_XSTATE) {
		errno = EFAULT;
		return -1;
	}
	if (!real)
		real = (long (*)(int, long, unsigned long, void *))dlsym(RTLD_NEXT, "ptrace");
	return real(req, pid, addr, data);
}
