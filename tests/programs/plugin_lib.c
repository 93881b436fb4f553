/* plugin_lib — the shared library that dlopen.c loads at run time. run_programs.sh builds
 * it to OUTDIR/plugin_lib.so (-fPIC -shared); it is not a test case by itself. It calls
 * back into the program, keeps its own data and TLS, and has a constructor/destructor. */
#include <stdint.h>
#include <stdio.h>

int plugin_loads;              /* looked up with dlsym from the program */
static __thread long plugin_tls = 3;

__attribute__((constructor)) static void plugin_init(void) { plugin_loads++; printf("plugin: constructor\n"); }
__attribute__((destructor)) static void plugin_fini(void) { printf("plugin: destructor\n"); }

const char *plugin_name(void) { return "plugin_lib v1"; }

uint64_t plugin_compute(uint64_t x, uint64_t (*callback)(uint64_t))
{
    uint64_t h = x;
    for (int i = 0; i < 16; i++) {
        h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
        if (h & 1)
            h = callback(h);
        plugin_tls += (long)(h & 0xf);
    }
    return h;
}

long plugin_tls_value(void) { return plugin_tls; }
