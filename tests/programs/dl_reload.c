/* dl_reload — dlopen library A (argv[1]), call its reload_value from a hot loop, dlclose;
 * dlopen library B (argv[2]), which defines the same function with different code and is
 * most likely mapped at the address A had: the old translations must not be used. Repeated
 * A, B, A, B. Only whether each library's function returned its own values is printed (and
 * whether the address was reused is not: that depends on the loader). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int value_a(int x)
{
    int acc = 0;
    for (int i = 0; i < x % 16; i++)
        acc += x * 3 + i;
    return acc + 1000;
}

static int value_b(int x)
{
    int acc = 0;
    for (int i = 0; i < x % 16; i++)
        acc += x * 5 - i;
    return acc + 2000;
}

static int run(const char *path, int is_b, int round)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("round %d: dlopen failed\n", round);
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*value)(int) = (int (*)(int))dlsym(h, "reload_value");
    const char *(*name)(void) = (const char *(*)(void))dlsym(h, "reload_name");
    if (!value || !name) {
        printf("round %d: dlsym failed\n", round);
        return 1;
    }
    int right = 0;
    for (int i = 0; i < 5000; i++)
        right += value(i) == (is_b ? value_b(i) : value_a(i));
    int named = strcmp(name(), is_b ? "B" : "A") == 0;
    printf("round %d: library %s: name right %s, %d of 5000 values right\n", round, is_b ? "B" : "A",
           named ? "yes" : "no", right);
    dlclose(h);
    return right != 5000 || !named;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dl_reload PATH/reload_a_lib.so PATH/reload_b_lib.so\n");
        return 2;
    }
    int bad = 0;
    for (int round = 0; round < 4; round++)
        bad |= run(argv[1 + round % 2], round % 2, round);
    return bad ? 1 : 43;
}
