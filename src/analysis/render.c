/* Analyses: minimal raster pictures (image grids, line plots) and the PNG writer
 * (btsp_analysis.h). PNG output needs libpng (BTSP_HAVE_PNG, set by the build). */
#define _POSIX_C_SOURCE 200809L /* getpid */
#include "btsp/btsp_analysis.h"

#include "../io/io_util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(BTSP_HAVE_PNG) && BTSP_HAVE_PNG
#include <png.h>
#endif

btsp_status btsp_an_grid_size(size_t n_tiles, size_t tile_w, size_t tile_h, size_t grid_cols, size_t zoom,
                              size_t *width, size_t *height)
{
    if (width)
        *width = 0;
    if (height)
        *height = 0;
    if (!width || !height || n_tiles == 0 || tile_w == 0 || tile_h == 0 || grid_cols == 0 || zoom == 0)
        return BTSP_E_INVALID_ARG;
    const size_t lim = (size_t)1 << 20; /* one million pixels per side is plenty */
    if (tile_w > lim || tile_h > lim || zoom > lim || grid_cols > lim)
        return BTSP_E_INVALID_ARG;
    size_t cols = grid_cols < n_tiles ? grid_cols : n_tiles;
    size_t rows = n_tiles / cols + (n_tiles % cols != 0);
    if (tile_w * zoom >= lim || tile_h * zoom >= lim || rows > lim)
        return BTSP_E_INVALID_ARG;
    size_t w = cols * (tile_w * zoom + 1) + 1, h = rows * (tile_h * zoom + 1) + 1;
    if (w > lim || h > lim)
        return BTSP_E_INVALID_ARG;
    *width = w;
    *height = h;
    return BTSP_OK;
}

btsp_status btsp_an_render_grid(const float *tiles, size_t n_tiles, size_t tile_w, size_t tile_h, size_t grid_cols,
                                size_t zoom, int symmetric, uint8_t *pixels, size_t width, size_t height)
{
    size_t w, h;
    if (!tiles || !pixels)
        return BTSP_E_INVALID_ARG;
    btsp_status st = btsp_an_grid_size(n_tiles, tile_w, tile_h, grid_cols, zoom, &w, &h);
    if (st)
        return st;
    if (w != width || h != height)
        return BTSP_E_SHAPE;
    memset(pixels, BTSP_AN_GRID_SEPARATOR, width * height);
    size_t cols = grid_cols < n_tiles ? grid_cols : n_tiles;
    size_t tn = tile_w * tile_h;
    for (size_t t = 0; t < n_tiles; t++) {
        const float *v = tiles + t * tn;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < tn; i++)
            if (isfinite(v[i])) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        if (symmetric) {
            double m = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
            lo = -m;
            hi = m;
        }
        size_t x0 = (t % cols) * (tile_w * zoom + 1) + 1, y0 = (t / cols) * (tile_h * zoom + 1) + 1;
        for (size_t r = 0; r < tile_h; r++)
            for (size_t c = 0; c < tile_w; c++) {
                double x = v[r * tile_w + c];
                uint8_t g;
                if (!isfinite(x))
                    g = 0;
                else if (!(hi > lo))
                    g = 128;
                else {
                    double q = (x - lo) / (hi - lo) * 255.0 + 0.5;
                    g = (uint8_t)(q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q);
                }
                for (size_t dy = 0; dy < zoom; dy++)
                    memset(pixels + (y0 + r * zoom + dy) * width + x0 + c * zoom, g, zoom);
            }
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Line plots */

static const uint8_t palette[8][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                      {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

typedef struct canvas {
    uint8_t *rgb;
    long w, h;
} canvas;

static void put(const canvas *cv, long x, long y, const uint8_t *col)
{
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h)
        return;
    uint8_t *p = cv->rgb + ((size_t)y * (size_t)cv->w + (size_t)x) * 3;
    p[0] = col[0];
    p[1] = col[1];
    p[2] = col[2];
}

/* A 3 x 5 pixel font for axis numbers and legend indices: digits, '.', '-', '+', 'e'. Each
 * glyph is 5 rows of 3 bits (bit 2 = left column). */
static const struct {
    char c;
    uint8_t rows[5];
} glyphs[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {'+', {0, 2, 7, 2, 0}}, {'e', {0, 7, 7, 4, 7}},
};
#define GLYPH_SCALE 2
#define GLYPH_ADVANCE (4 * GLYPH_SCALE) /* 3 columns + 1 blank, scaled */

/* Draw `text` with its top-left corner at (x, y); characters without a glyph leave a gap. */
static void draw_text(const canvas *cv, long x, long y, const char *text, const uint8_t *col)
{
    for (; *text; text++, x += GLYPH_ADVANCE) {
        for (size_t g = 0; g < sizeof glyphs / sizeof glyphs[0]; g++) {
            if (glyphs[g].c != *text)
                continue;
            for (long r = 0; r < 5; r++)
                for (long c = 0; c < 3; c++)
                    if (glyphs[g].rows[r] & (4 >> c))
                        for (long dy = 0; dy < GLYPH_SCALE; dy++)
                            for (long dx = 0; dx < GLYPH_SCALE; dx++)
                                put(cv, x + c * GLYPH_SCALE + dx, y + r * GLYPH_SCALE + dy, col);
        }
    }
}

/* Bresenham, two pixels thick (the pixel below is drawn too). */
static void line(const canvas *cv, long x0, long y0, long x1, long y1, const uint8_t *col, int thick)
{
    long dx = x1 > x0 ? x1 - x0 : x0 - x1, sx = x0 < x1 ? 1 : -1;
    long dy = y1 > y0 ? y0 - y1 : y1 - y0, sy = y0 < y1 ? 1 : -1;
    long e = dx + dy;
    for (;;) {
        put(cv, x0, y0, col);
        if (thick)
            put(cv, x0, y0 + 1, col);
        if (x0 == x1 && y0 == y1)
            break;
        long e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* Make [lo, hi] a range a plot can map onto pixels: a width that is finite, a normal double and
 * wide against the doubles around it (so that tick positions lo + k step are distinct values).
 * An overflowing width is cut to +-DBL_MAX / 2; a width of zero or of a few ulps is widened by 5 %
 * of the centre (0.5 where that is not a normal double). */
static void usable_range(double *lo, double *hi)
{
    double w = *hi - *lo, mag = fmax(fabs(*lo), fabs(*hi));
    if (!isfinite(w)) {
        *lo = fmax(*lo, -DBL_MAX / 2);
        *hi = fmin(*hi, DBL_MAX / 2);
        return;
    }
    if (isnormal(w) && w >= 64.0 * DBL_EPSILON * mag)
        return;
    double c = *lo / 2 + *hi / 2, d = 0.05 * fabs(c);
    if (!isnormal(d))
        d = 0.5;
    *lo = c - d;
    *hi = c + d;
}

/* The axis ranges of a line plot: y [y_lo, y_hi] if that is a finite range, else the data's
 * range widened by 5 % (a constant series by 5 % of its value); x the finite x values' range
 * (x NULL: point indices); both made usable_range(). */
static void plot_ranges(const float *x, const float *y, size_t n_series, size_t n_points, double *y_lo,
                        double *y_hi, double *x_lo, double *x_hi)
{
    if (!(*y_lo < *y_hi) || !isfinite(*y_lo) || !isfinite(*y_hi)) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n_series * n_points; i++)
            if (isfinite(y[i])) {
                lo = y[i] < lo ? y[i] : lo;
                hi = y[i] > hi ? y[i] : hi;
            }
        if (!(lo <= hi)) {
            lo = 0.0;
            hi = 1.0;
        } else if (hi > lo) {
            double d = 0.05 * (hi - lo);
            lo -= d;
            hi += d;
        }
        *y_lo = lo;
        *y_hi = hi;
    }
    usable_range(y_lo, y_hi);
    *x_lo = 0.0;
    *x_hi = (double)(n_points - 1);
    if (x) {
        *x_lo = INFINITY;
        *x_hi = -INFINITY;
        for (size_t i = 0; i < n_points; i++)
            if (isfinite(x[i])) {
                *x_lo = x[i] < *x_lo ? x[i] : *x_lo;
                *x_hi = x[i] > *x_hi ? x[i] : *x_hi;
            }
        if (!(*x_lo <= *x_hi)) {
            *x_lo = 0.0;
            *x_hi = 1.0;
        }
    }
    usable_range(x_lo, x_hi);
}

btsp_status btsp_an_render_lines(const float *x, const float *y, size_t n_series, size_t n_points, double y_lo,
                                 double y_hi, uint8_t *rgb, size_t width, size_t height)
{
    if (!y || !rgb || n_series == 0 || n_points == 0 || width < 32 || height < 32 || width > 100000 ||
        height > 100000)
        return BTSP_E_INVALID_ARG;
    memset(rgb, 255, width * height * 3);
    canvas cv = {rgb, (long)width, (long)height};
    double x_lo, x_hi;
    plot_ranges(x, y, n_series, n_points, &y_lo, &y_hi, &x_lo, &x_hi);
    const long m = 8;
    /* Large images get numbers on the axes (the y range at the left, the x range below) and
     * numbered colour keys for the series (series i is CSV column i in the callers' files). */
    const int labels = width >= 200 && height >= 120;
    long left = labels ? 11 * GLYPH_ADVANCE : m, right = (long)width - 1 - m, top = m;
    long bottom = (long)height - 1 - (labels ? 5 * GLYPH_SCALE + 2 * m : m);
    static const uint8_t black[3] = {0, 0, 0}, gray[3] = {200, 200, 200};
    if (labels) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.4g", y_hi);
        draw_text(&cv, 4, top, buf, black);
        snprintf(buf, sizeof buf, "%.4g", y_lo);
        draw_text(&cv, 4, bottom - 5 * GLYPH_SCALE, buf, black);
        snprintf(buf, sizeof buf, "%.4g", x_lo);
        draw_text(&cv, left, bottom + m, buf, black);
        snprintf(buf, sizeof buf, "%.4g", x_hi);
        draw_text(&cv, right - (long)strlen(buf) * GLYPH_ADVANCE, bottom + m, buf, black);
        for (size_t s = 0; s < n_series && s < 8; s++) {
            long kx = right - 8 - (long)(8 - s) * 4 * GLYPH_ADVANCE, ky = top + 6;
            for (long dy = 0; dy < 10; dy++)
                line(&cv, kx, ky + dy, kx + 10, ky + dy, palette[s], 0);
            snprintf(buf, sizeof buf, "%zu", s + 1);
            draw_text(&cv, kx + 14, ky, buf, black);
        }
    }
    if (y_lo < 0.0 && y_hi > 0.0) {
        long yz = bottom - (long)lround((0.0 - y_lo) / (y_hi - y_lo) * (double)(bottom - top));
        line(&cv, left, yz, right, yz, gray, 0);
    }
    line(&cv, left, top, right, top, black, 0);
    line(&cv, left, bottom, right, bottom, black, 0);
    line(&cv, left, top, left, bottom, black, 0);
    line(&cv, right, top, right, bottom, black, 0);
    for (size_t s = 0; s < n_series; s++) {
        const uint8_t *col = palette[s % 8];
        int have = 0;
        long px = 0, py = 0;
        for (size_t i = 0; i < n_points; i++) {
            double xv = x ? (double)x[i] : (double)i, yv = y[s * n_points + i];
            if (!isfinite(xv) || !isfinite(yv)) {
                have = 0;
                continue;
            }
            double fx = (xv - x_lo) / (x_hi - x_lo), fy = (yv - y_lo) / (y_hi - y_lo);
            fx = fx < 0.0 ? 0.0 : fx > 1.0 ? 1.0 : fx;
            fy = fy < 0.0 ? 0.0 : fy > 1.0 ? 1.0 : fy;
            long cx = left + 1 + (long)lround(fx * (double)(right - left - 2));
            long cy = bottom - 1 - (long)lround(fy * (double)(bottom - top - 3));
            if (have)
                line(&cv, px, py, cx, cy, col, 1);
            else
                line(&cv, cx, cy, cx, cy, col, 1);
            px = cx;
            py = cy;
            have = 1;
        }
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* PNG */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

int btsp_png_available(void)
{
#if defined(BTSP_HAVE_PNG) && BTSP_HAVE_PNG
    return 1;
#else
    return 0;
#endif
}

btsp_status btsp_png_write(const char *path, const uint8_t *pixels, size_t width, size_t height, size_t channels,
                           char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !pixels || width == 0 || height == 0 || (channels != 1 && channels != 3) || width > 1000000 ||
        height > 1000000) {
        set_err(err, errlen, "btsp_png_write: %s%s", "invalid argument", "");
        return BTSP_E_INVALID_ARG;
    }
#if defined(BTSP_HAVE_PNG) && BTSP_HAVE_PNG
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) {
        set_err(err, errlen, "%s: %s", path, "file name too long");
        return BTSP_E_INVALID_ARG;
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&img, tmp, 0, pixels, (png_int_32)(width * channels), NULL)) {
        set_err(err, errlen, "%s: cannot write PNG: %s", path, img.message);
        png_image_free(&img);
        remove(tmp);
        return BTSP_E_IO;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "%s: %s", path, "cannot rename the temporary file into place");
        remove(tmp);
        return BTSP_E_IO;
    }
    return BTSP_OK;
#else
    set_err(err, errlen, "%s: %s", path, "this build has no PNG support (libpng was not found)");
    return BTSP_E_UNSUPPORTED;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Line plots as SVG: the same data and ranges as btsp_an_render_lines(), with text */

/* Length of the UTF-8 sequence at s (1-4) if it encodes a character XML allows, else 0:
 * overlong forms, surrogates (U+D800-DFFF), code points above U+10FFFF and U+FFFE/U+FFFF are
 * not (an XML parser rejects the file for any of them). */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    unsigned long cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = cp << 6 | (s[k] & 0x3fu);
    }
    static const unsigned long least[5] = {0, 0, 0x80, 0x800, 0x10000}; /* shortest form of each length */
    if (n == 0 || cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff)
        return 0;
    return n;
}

/* Text content: XML-escaped, control characters dropped, bytes that are not UTF-8 (a file name
 * in another encoding) written as '?', so that the file stays well-formed XML. */
static void svg_text(FILE *f, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (s && *s) {
        int n = utf8_len(s);
        if (n == 0) {
            fputc('?', f);
            s++;
            continue;
        }
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (*s >= 0x20)
                fwrite(s, 1, (size_t)n, f);
        }
        s += n;
    }
}

/* Tick spacing: 1, 2 or 5 times a power of ten, giving at most 7 intervals over `range`. */
static double tick_step(double range)
{
    double p = pow(10.0, floor(log10(range / 5.0)));
    if (!(p > 0.0) || !isfinite(p))
        return range > 0.0 && isfinite(range) ? range : 1.0;
    static const double mult[4] = {1.0, 2.0, 5.0, 10.0};
    for (int k = 0; k < 4; k++)
        if (range / (mult[k] * p) <= 7.0)
            return mult[k] * p;
    return 10.0 * p;
}

btsp_status btsp_an_write_lines_svg(const char *path, const btsp_an_plot_labels *labels, const float *x,
                                    const float *y, size_t n_series, size_t n_points, double y_lo, double y_hi,
                                    char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !y || n_series == 0 || n_points == 0) {
        btsp__io_set_err(err, errlen, "btsp_an_write_lines_svg: NULL path or data, or no series or points");
        return BTSP_E_INVALID_ARG;
    }
    double x_lo, x_hi;
    plot_ranges(x, y, n_series, n_points, &y_lo, &y_hi, &x_lo, &x_hi);
    const btsp_an_plot_labels none = {NULL, NULL, NULL, NULL};
    const btsp_an_plot_labels *lb = labels ? labels : &none;
    /* plot area [left, right] x [top, bottom]; the legend to its right, the canvas 900 x 460 or
     * wider for long series names (about 7.5 units per character at font size 13) */
    const double H = 460.0, left = 80.0, right = 660.0, top = 44.0, bottom = 400.0;
    size_t longest = 0;
    for (size_t s = 0; lb->names && s < n_series; s++)
        if (lb->names[s] && strlen(lb->names[s]) > longest)
            longest = strlen(lb->names[s]);
    const double W = fmax(900.0, right + 52.0 + 7.5 * (double)longest);
    char *tmp = btsp__io_tmp_name(path);
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    if (!f) {
        btsp__io_set_err(err, errlen, "%s: cannot create: %s", path, tmp ? strerror(errno) : "out of memory");
        free(tmp);
        return BTSP_E_IO;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    if (lb->title) {
        fprintf(f, "<text x=\"%.1f\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">", (left + right) / 2.0);
        svg_text(f, lb->title);
        fputs("</text>\n", f);
    }
    /* grid and ticks */
    double sx = (right - left) / (x_hi - x_lo), sy = (bottom - top) / (y_hi - y_lo);
    for (int axis = 0; axis < 2; axis++) {
        double lo = axis ? y_lo : x_lo, hi = axis ? y_hi : x_hi, step = tick_step(hi - lo);
        /* by integer index, at most 8 ticks (usable_range() keeps k0 far below 2^53) */
        const double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
        /* enough digits to tell neighbouring ticks apart (1e17 + 200 k needs 15) */
        const int digits = (int)fmin(15.0, fmax(6.0, ceil(log10(fmax(fabs(lo), fabs(hi)) / step)) + 2.0));
        for (int i = 0; i <= 8 && k0 + i <= k1; i++) {
            const double v = (k0 + i) * step;
            double t = fabs(v) < 1e-12 * step ? 0.0 : v; /* no "-0" */
            if (axis) {
                double py = bottom - (t - y_lo) * sy;
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*g</text>\n",
                        left, py, right, py, left - 6.0, py + 4.0, digits, t);
            } else {
                double px = left + (t - x_lo) * sx;
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*g</text>\n",
                        px, top, px, bottom, px, bottom + 18.0, digits, t);
            }
        }
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", left,
            top, right - left, bottom - top);
    if (lb->x_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (left + right) / 2.0, bottom + 42.0);
        svg_text(f, lb->x_label);
        fputs("</text>\n", f);
    }
    if (lb->y_label) {
        fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">", (top + bottom) / 2.0);
        svg_text(f, lb->y_label);
        fputs("</text>\n", f);
    }
    /* series: one polyline per run of finite points, clipped to the plot area like the PNG; a
     * run of one point (between NaNs) is a dot, as a polyline of one point draws nothing */
    for (size_t s = 0; s < n_series; s++) {
        const uint8_t *c = palette[s % 8];
        size_t run = 0; /* points in the current run */
        double fx = 0.0, fy = 0.0; /* its first point, written once a second one comes */
        for (size_t i = 0; i <= n_points; i++) {
            double xv = i < n_points ? (x ? (double)x[i] : (double)i) : NAN;
            double yv = i < n_points ? (double)y[s * n_points + i] : NAN;
            if (!isfinite(xv) || !isfinite(yv)) {
                if (run == 1)
                    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"rgb(%d,%d,%d)\"/>\n", fx, fy, c[0],
                            c[1], c[2]);
                else if (run > 1)
                    fputs("\"/>\n", f);
                run = 0;
                continue;
            }
            double px = left + (xv - x_lo) * sx, py = bottom - (yv - y_lo) * sy;
            px = px < left ? left : px > right ? right : px;
            py = py < top ? top : py > bottom ? bottom : py;
            if (run == 0) {
                fx = px;
                fy = py;
            } else {
                if (run == 1)
                    fprintf(f, "<polyline fill=\"none\" stroke=\"rgb(%d,%d,%d)\" stroke-width=\"2\" points=\"%.2f,%.2f",
                            c[0], c[1], c[2], fx, fy);
                fprintf(f, " %.2f,%.2f", px, py);
            }
            run++;
        }
        /* legend entry: rows of 20 units, closer when many series would leave the canvas */
        double row = (H - top - 12.0) / (double)n_series;
        double ly = top + 8.0 + (row < 20.0 ? row : 20.0) * (double)s;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"rgb(%d,%d,%d)\" stroke-width=\"3\"/>",
                right + 16.0, ly, right + 36.0, ly, c[0], c[1], c[2]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", right + 42.0, ly + 4.0);
        if (lb->names && lb->names[s])
            svg_text(f, lb->names[s]);
        else
            fprintf(f, "%zu", s + 1);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    btsp_status st = btsp__io_commit(f, tmp, path, !ferror(f), errno, 0, "btsp_an_write_lines_svg", err, errlen);
    free(tmp);
    return st;
}
