/* elf_check.c — the checks `hotpath run` makes before exec: the program exists, is an
 * executable x86-64 ELF, is dynamically linked (LD_PRELOAD injection) and not set-id
 * (the loader ignores LD_PRELOAD there). Each failure is one clear line. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elf_check.h"

int elf_resolve(const char *prog, char *out, size_t cap, char *err, size_t errcap)
{
    if (!*prog) {
        snprintf(err, errcap, "empty program name");
        return -1;
    }
    if (strchr(prog, '/')) {
        snprintf(out, cap, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(out, cap, "%.*s%s%s", (int)n, path, n ? "/" : "", prog);
        if (access(out, X_OK) == 0) {
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) return 0;
        }
        if (!colon) break;
        path = colon + 1;
    }
    snprintf(err, errcap, "%s: command not found", prog);
    return -1;
}

int elf_check(const char *path, char *err, size_t errcap, int *exit_code)
{
    struct stat st;
    *exit_code = 126;
    if (stat(path, &st) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (errno == ENOENT) *exit_code = 127;
        return -1;
    }
    if (S_ISDIR(st.st_mode)) { snprintf(err, errcap, "%s: is a directory", path); return -1; }
    if (access(path, X_OK) != 0) { snprintf(err, errcap, "%s: permission denied", path); return -1; }
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        snprintf(err, errcap, "%s: set-user-ID/set-group-ID program: the loader ignores LD_PRELOAD there, so hotpath cannot run it", path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errcap, "%s: %s", path, strerror(errno)); return -1; }
    Elf64_Ehdr eh;
    ssize_t got = read(fd, &eh, sizeof(eh));
    if (got >= 2 && ((unsigned char *)&eh)[0] == '#' && ((unsigned char *)&eh)[1] == '!') {
        close(fd);
        snprintf(err, errcap, "%s: a script, not an ELF program: run its interpreter under hotpath (hotpath run -- /bin/sh %s)", path, path);
        return -1;
    }
    if (got < EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        close(fd);
        snprintf(err, errcap, "%s: not an ELF executable", path);
        return -1;
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
        close(fd);
        snprintf(err, errcap, "%s: a 32-bit ELF: hotpath runs only x86-64 programs", path);
        return -1;
    }
    if (got < (ssize_t)sizeof(eh) || eh.e_machine != EM_X86_64) {
        close(fd);
        snprintf(err, errcap, "%s: not an x86-64 ELF (machine %d)", path, got < (ssize_t)sizeof(eh) ? -1 : eh.e_machine);
        return -1;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        close(fd);
        snprintf(err, errcap, "%s: not an executable ELF (type %d)", path, eh.e_type);
        return -1;
    }
    int dynamic = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != (ssize_t)sizeof(ph)) break;
        if (ph.p_type == PT_INTERP) dynamic = 1;
    }
    close(fd);
    if (!dynamic) {
        snprintf(err, errcap, "%s: statically linked: not supported yet (hotpath injects through LD_PRELOAD; the ptrace injector will handle static programs)", path);
        return -1;
    }
    return 0;
}
