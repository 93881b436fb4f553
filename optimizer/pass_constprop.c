/* pass_constprop.c — (being written; see passes.def). Changes nothing yet. */
#include "opt.h"

int opt_pass_constprop(ir_trace_t *t)
{
    (void)t;
    return 0;
}
