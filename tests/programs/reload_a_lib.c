/* reload_a_lib — library A for dl_reload.c (built to OUTDIR/reload_a_lib.so). It has the
 * same layout as reload_b_lib.c, so after dlclose of one, a dlopen of the other is likely
 * mapped at the same address with different code at the same function address. */
int reload_value(int x)
{
    int acc = 0;
    for (int i = 0; i < x % 16; i++)
        acc += x * 3 + i;       /* differs from library B */
    return acc + 1000;
}

const char *reload_name(void) { return "A"; }
