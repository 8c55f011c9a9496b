/*
 * xstate-pad-check.c - for tests only: exercises the padding path of
 * shim/uml_xstate_pad.c on any host with XSAVE. It restores a traced
 * child's xstate, as UML does, from a buffer shorter than the host's
 * (the 512-byte legacy area and the 64-byte header, 576 bytes). The host
 * kernel refuses that (EFAULT) unless the shim is preloaded; with the
 * shim, the legacy registers written arrive intact and the components
 * that lay past the short buffer are left in their initial state.
 *
 * Prints "ok", "EFAULT" (refused) or what went wrong; exit status 0 for
 * ok, 1 for EFAULT, 2 otherwise, 3 when the host's xstate fits in 576.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHORT 576
#define XMM0 160 /* offset of xmm0 in the legacy area */

int main(void)
{
	unsigned int a, b, c, d;
	static unsigned char buf[1 << 16], back[1 << 16];
	struct iovec io;
	uint64_t bv;
	int st, rc = 2;
	size_t full;
	pid_t pid;

	if (__get_cpuid_max(0, 0) < 0xd)
		return puts("no CPUID leaf 0xD"), 3;
	__cpuid_count(0xd, 0, a, b, c, d);
	full = b;
	if (full <= SHORT || full > sizeof buf)
		return printf("host xstate %zu bytes\n", full), 3;

	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(pid, &st, 0);

	io.iov_base = buf;
	io.iov_len = full;
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &io) != 0) {
		printf("getregset: %s\n", strerror(errno));
		goto out;
	}
	memset(buf + XMM0, 0x5a, 16);
	memcpy(&bv, buf + 512, 8);
	bv |= 3; /* x87 and SSE in use */
	memcpy(buf + 512, &bv, 8);

	io.iov_len = SHORT;
	if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &io) != 0) {
		if (errno == EFAULT) {
			puts("EFAULT");
			rc = 1;
		} else {
			printf("setregset: %s\n", strerror(errno));
		}
		goto out;
	}
	io.iov_base = back;
	io.iov_len = full;
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &io) != 0) {
		printf("getregset after: %s\n", strerror(errno));
		goto out;
	}
	memcpy(&bv, back + 512, 8);
	for (int i = 0; i < 16; i++)
		if (back[XMM0 + i] != 0x5a) {
			puts("xmm0 was not restored");
			goto out;
		}
	/* PKRU (bit 9) is the kernel's own business: it reports it anyway */
	if ((bv & ~(1ULL << 9)) >> 2) {
		printf("components past the buffer not in their initial state: XSTATE_BV %#llx\n", (unsigned long long)bv);
		goto out;
	}
	puts("ok");
	rc = 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return rc;
}
