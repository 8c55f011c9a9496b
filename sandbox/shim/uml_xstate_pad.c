/*
 * uml_xstate_pad.c - preloaded into Debian's linux.uml (LD_PRELOAD) by
 * wordish on hosts whose user xstate is larger than UML's fixed buffer.
 *
 * UML 6.1/6.12 restores a process's FPU state with
 *   ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, {buf, 2696})
 * and the host kernel refuses (EFAULT) any length but its full user
 * xstate size, CPUID(0xD,0).EBX (11008 bytes with AMX). Reading with a
 * short buffer is fine (the kernel truncates), so only that one call is
 * changed: the kernel gets UML's bytes followed by zeros, and the
 * XSTATE_BV bits of the components that do not fit in UML's buffer are
 * cleared, so that those components are loaded in their initial state.
 * They can only be dynamic ones (AMX tiles), which a guest process never
 * gets permission to use, so they are always in that state anyway.
 *
 * Everything else goes to glibc's ptrace unchanged.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define XSTATE_BV_OFFSET 512 /* after the 512-byte legacy FXSAVE area */
#define LEGACY_AND_HEADER 576 /* legacy area + 64-byte xsave header */

static size_t host_size;         /* CPUID(0xD,0).EBX */
static uint32_t comp_end[64];    /* standard-format end offset of component i */
static long (*real_ptrace)(int, ...);

/* One padded buffer per thread, and a depth count: a call made from a
 * signal handler that interrupted another one gets its own mapping. */
static __thread unsigned char *pad_buf;
static __thread int pad_depth;

__attribute__((constructor)) static void pad_init(void)
{
	unsigned int a, b, c, d;

	real_ptrace = (long (*)(int, ...))dlsym(RTLD_NEXT, "ptrace");
	if (__get_cpuid_max(0, 0) < 0xd)
		return;
	__cpuid_count(0xd, 0, a, b, c, d);
	host_size = b;
	for (int i = 2; i < 64; i++) {
		__cpuid_count(0xd, i, a, b, c, d);
		/* a = size, b = offset in the standard (user) format */
		comp_end[i] = a ? a + b : 0;
	}
}

static unsigned char *map_buf(void)
{
	void *p = mmap(NULL, host_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static long set_padded(pid_t pid, const struct iovec *iov)
{
	unsigned char *b;
	int own = pad_depth++ > 0;
	struct iovec padded;
	uint64_t bv;
	long r;
	int err;

	if (own) {
		b = map_buf();
	} else {
		if (!pad_buf)
			pad_buf = map_buf();
		b = pad_buf;
	}
	if (!b) {
		pad_depth--;
		errno = ENOMEM;
		return -1;
	}
	memcpy(b, iov->iov_base, iov->iov_len);
	memset(b + iov->iov_len, 0, host_size - iov->iov_len);
	memcpy(&bv, b + XSTATE_BV_OFFSET, sizeof bv);
	for (int i = 2; i < 64; i++)
		if (comp_end[i] > iov->iov_len)
			bv &= ~(1ULL << i);
	memcpy(b + XSTATE_BV_OFFSET, &bv, sizeof bv);

	padded.iov_base = b;
	padded.iov_len = host_size;
	r = syscall(SYS_ptrace, PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &padded);
	err = errno;
	if (own)
		munmap(b, host_size);
	pad_depth--;
	errno = err;
	return r;
}

long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);

	if (req == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE && data != NULL) {
		const struct iovec *iov = data;
		if (iov->iov_len >= LEGACY_AND_HEADER && iov->iov_len < host_size)
			return set_padded(pid, iov);
	}
	if (!real_ptrace) {
		errno = ENOSYS;
		return -1;
	}
	return real_ptrace(req, pid, addr, data);
}
