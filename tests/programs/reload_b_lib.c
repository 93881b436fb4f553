/* reload_b_lib — library B for dl_reload.c (built to OUTDIR/reload_b_lib.so): the same
 * symbols and layout as reload_a_lib.c, different code. */
int reload_value(int x)
{
    int acc = 0;
    for (int i = 0; i < x % 16; i++)
        acc += x * 5 - i;       /* differs from library A */
    return acc + 2000;
}

const char *reload_name(void) { return "B"; }
