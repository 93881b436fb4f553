/* elf_check.h — decide, before exec, whether hotpath can run a program. */
#ifndef HOTPATH_ELF_CHECK_H
#define HOTPATH_ELF_CHECK_H
#include <stddef.h>

/* elf_resolve: find prog as execvp would (a name without '/' is searched in PATH); writes
 * the path into out. Returns 0, or -1 with a one-line reason in err. */
int elf_resolve(const char *prog, char *out, size_t cap, char *err, size_t errcap);

/* elf_check: 0 if path is an executable, dynamically linked x86-64 ELF without set-id
 * bits; otherwise -1 with a one-line reason in err and *exit_code set (126 or 127). */
int elf_check(const char *path, char *err, size_t errcap, int *exit_code);

#endif
