/* dlopen — loads argv[1] (plugin_lib.so, built by run_programs.sh) at run time, calls into
 * it through dlsym'd pointers and lets it call back into the program; then dlclose and
 * dlopen again, so code is unmapped and mapped anew (possibly at the same address). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint64_t (*compute_fn)(uint64_t, uint64_t (*)(uint64_t));

static unsigned long callbacks;
static uint64_t callback(uint64_t x)
{
    callbacks++;
    return x * 0x94d049bb133111ebull + 7;
}

static int run_once(const char *path, int round)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen failed\n");
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    const char *(*name)(void) = (const char *(*)(void))dlsym(h, "plugin_name");
    compute_fn compute = (compute_fn)dlsym(h, "plugin_compute");
    long (*tls_value)(void) = (long (*)(void))dlsym(h, "plugin_tls_value");
    int *loads = dlsym(h, "plugin_loads");
    if (!name || !compute || !tls_value || !loads || dlsym(h, "no_such_symbol")) {
        printf("dlsym failed\n");
        return 1;
    }
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 100000; i++)
        acc += compute(i + (uint64_t)round, callback);
    printf("round %d: %s loads=%d acc=%016llx callbacks=%lu tls=%ld\n", round, name(), *loads,
           (unsigned long long)acc, callbacks, tls_value());
    fflush(stdout);  /* the destructor prints during dlclose */
    return dlclose(h) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dlopen PATH/plugin_lib.so\n");
        return 2;
    }
    for (int round = 0; round < 3; round++)
        if (run_once(argv[1], round))
            return 1;
    fprintf(stderr, "dlopen done\n");
    return 20;
}
