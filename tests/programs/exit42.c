/* exit42 — the plain exit path: output on stdout and stderr (stdio and raw write(2)),
 * then `return 42` from main. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("exit42: %d argument(s)", argc - 1);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    fprintf(stderr, "exit42: this line goes to stderr\n");
    const char raw[] = "exit42: raw write to fd 2\n";
    if (write(2, raw, strlen(raw)) < 0)
        return 1;
    fflush(stdout);
    const char raw1[] = "exit42: raw write to fd 1 after fflush\n";
    if (write(1, raw1, strlen(raw1)) < 0)
        return 1;
    return 42;
}
