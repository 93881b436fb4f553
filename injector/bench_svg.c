/* bench_svg.c — the chart of `hotpath bench --svg FILE`: hand-written SVG, one group of
 * bars per program (and the geometric mean when there are several), one bar per variant
 * other than native, its height the ratio to native, a whisker from the smallest to the
 * largest paired ratio, a dashed line at 1.0 (native). Invariant: a variant with a
 * mismatching run gets no bar, a red "mismatch" mark instead, never a height. */
#include <stdio.h>
#include <string.h>
#include "bench.h"

static const char *const colours[] = { "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* One bar's figures; has == 0: nothing to draw (mismatch or native failure). */
typedef struct { int has, mismatch; double ratio, lo, hi; } bar_t;

static bar_t bar_of(const bench_t *b, size_t g, size_t v)
{
    bar_t r = { 0, 0, 0, 0, 0 };
    if (g == b->ncases) {                  /* the geometric mean group */
        size_t used;
        r.ratio = bench_report_geomean(b, v, &used);
        r.has = used > 0;
        r.lo = r.hi = r.ratio;
        return r;
    }
    const bench_case_t *c = &b->cases[g];
    if (!c->stats || c->native_failed) return r;
    if (c->mismatches[v] || c->mismatches[0]) { r.mismatch = 1; return r; }
    r.has = 1;
    r.ratio = c->stats[v].ratio;
    r.lo = c->stats[v].pairs ? c->stats[v].ratio_min : r.ratio;
    r.hi = c->stats[v].pairs ? c->stats[v].ratio_max : r.ratio;
    return r;
}

int bench_svg_write(const char *path, const bench_t *b)
{
    size_t nser = b->nvariants - 1;
    size_t ngroups = b->ncases + (b->ncases > 1);
    double top = 1.0;                        /* the y axis goes from 0 to top */
    for (size_t g = 0; g < ngroups; g++)
        for (size_t v = 1; v < b->nvariants; v++) {
            bar_t r = bar_of(b, g, v);
            if (r.has && r.hi > top) top = r.hi;
        }
    double step = top <= 2 ? 0.25 : top <= 5 ? 0.5 : top <= 20 ? 2 : top <= 50 ? 5 : 10;
    int nticks = (int)(top / step) + 1;
    top = nticks * step;
    double bar_w = 14, gap = 18, left = 60, right = 20, plot_h = 300, top_m = 66;
    double group_w = (double)(nser ? nser : 1) * bar_w + gap;
    double width = left + right + (double)ngroups * group_w;
    double legend_w = 0;
    for (size_t v = 1; v < b->nvariants; v++) legend_w += 30 + 7.0 * (double)strlen(b->variants[v].name);
    if (width < legend_w + left + right) width = legend_w + left + right;
    if (width < 420) width = 420;          /* the title's width */
    double height = top_m + plot_h + 130;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n", width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"10\" y=\"18\" font-size=\"13\">time / native time (lower is "
               "faster)</text>\n<text x=\"10\" y=\"34\" fill=\"#555\">whiskers: smallest and "
               "largest ratio of a run to native's in its round</text>\n");
    /* legend */
    double lx = left;
    for (size_t v = 1; v < b->nvariants; v++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"44\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"53\">", lx, colours[(v - 1) % NCOLOURS], lx + 14);
        xml_text(f, b->variants[v].name);
        fputs("</text>\n", f);
        lx += 30 + 7.0 * (double)strlen(b->variants[v].name);
    }
    /* axis and grid */
    double y0 = top_m + plot_h;
#define Y(r) (y0 - (r) / top * plot_h)
    for (int t = 0; t <= nticks; t++) {
        double r = t * step, y = Y(r);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                left, y, width - right, y, left - 5, y + 4, r);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, y0, width - right, y0);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
               "stroke-dasharray=\"5,3\"/>\n", left, Y(1.0), width - right, Y(1.0));
    /* bars */
    for (size_t g = 0; g < ngroups; g++) {
        double gx = left + gap / 2 + (double)g * group_w;
        for (size_t v = 1; v < b->nvariants; v++) {
            bar_t r = bar_of(b, g, v);
            double x = gx + (double)(v - 1) * bar_w;
            if (r.mismatch) {
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"red\" font-size=\"9\" "
                           "transform=\"rotate(-90 %.1f %.1f)\">mismatch</text>\n",
                        x + bar_w / 2 + 3, y0 - 4, x + bar_w / 2 + 3, y0 - 4);
                continue;
            }
            if (!r.has) continue;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                       "<title>", x + 1, Y(r.ratio), bar_w - 2, r.ratio / top * plot_h,
                    colours[(v - 1) % NCOLOURS]);
            xml_text(f, b->variants[v].name);
            fprintf(f, ": %.3f (%.3f-%.3f)</title></rect>\n", r.ratio, r.lo, r.hi);
            if (r.hi > r.lo) {
                double cx = x + bar_w / 2;
                fprintf(f, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#222\"/>\n",
                        cx, Y(r.lo), Y(r.hi), cx - 3, Y(r.lo), cx + 3, cx - 3, Y(r.hi), cx + 3);
            }
        }
        char label[25];                      /* what fits under the chart */
        snprintf(label, sizeof(label), "%s", g == b->ncases ? "geometric mean" : b->cases[g].name);
        double lxg = gx + (double)nser * bar_w / 2;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">",
                lxg, y0 + 14, lxg, y0 + 14);
        xml_text(f, label);
        fputs("</text>\n", f);
    }
#undef Y
    fputs("</svg>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return -1;
    return 0;
}
