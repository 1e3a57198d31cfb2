/* Fused statistics over float32 host memory, for tuigrad.engine.native.
 *
 * Each function reads its tensor once, in runs short enough to stay in the L1 cache, and
 * takes every statistic of the run before moving on: where torch needs a pass and a dispatch
 * per statistic, these need one call. Sums are kept in float64, in LANES independent
 * accumulators (no reassociation needed, so the compiler vectorises them as written); runs are
 * combined by Chan's formula, so the variance never subtracts two large sums.
 *
 * Binning is done in float32 exactly as the torch code in stats.py does it (subtract, then
 * multiply, each rounded, no fused multiply-add), so both give the same counts.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define LANES 32
#define RUN 1024 /* floats per run: 4 KB */
#define SETS 8   /* consecutive values count into separate sets of bins (no store stalls) */
#define PAIR_SETS 4              /* the same for pairs of values */
#define PAIR_BYTES (32 << 10)    /* a pair table larger than this leaves the L1 cache */
#define PAIR_MIN 32768           /* values below which a pair table saves nothing */
#define PAIR_FOLD ((int64_t)1 << 31) /* pairs a table takes before it is folded (uint32) */

typedef struct {
    double n, mean, m2, sq; /* count, mean, centred sum of squares, sum of squares */
} moments_t;

/* Sum, centred sum of squares and sum of squares of n floats in double, in two passes (the
 * floats are in the cache for the second). */
static void two_pass(const float *x, int64_t n, double *sum, double *m2, double *sq)
{
    double a[LANES] = {0}, q[LANES] = {0}, p[LANES] = {0};
    int64_t j, whole = n - n % LANES;
    double s = 0, c = 0, t = 0;

    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++)
            a[l] += x[j + l];
    for (int l = 0; l < LANES; l++)
        s += a[l];
    for (; j < n; j++)
        s += x[j];

    double mean = s / (double)n;
    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++) {
            double v = x[j + l], d = v - mean;
            q[l] += d * d;
            p[l] += v * v;
        }
    for (int l = 0; l < LANES; l++) {
        c += q[l];
        t += p[l];
    }
    for (; j < n; j++) {
        double v = x[j], d = v - mean;
        c += d * d;
        t += v * v;
    }
    *sum = s, *m2 = c, *sq = t;
}

/* The same in one pass, each lane summing a few floats in float32 (n <= RUN: under 1e-5 of
 * relative error), unless the mean holds more than half of the sum of squares (the
 * subtraction would cancel digits), or squares overflowed float32, or may have underflowed
 * (values under about 1e-19, as in a vanishing gradient): then in two passes, in float64. */
static void run_moments(const float *x, int64_t n, double *sum, double *m2, double *sq)
{
    float a[LANES] = {0}, p[LANES] = {0};
    int64_t j, whole = n - n % LANES;
    double s = 0, t = 0;

    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++) {
            a[l] += x[j + l];
            p[l] += x[j + l] * x[j + l];
        }
    for (int l = 0; l < LANES; l++) {
        s += a[l];
        t += p[l];
    }
    for (; j < n; j++) {
        s += x[j];
        t += (double)x[j] * x[j];
    }

    double c = t - s * (s / (double)n);
    if (!(c > 0.5 * t) || !isfinite(t) || t < 1e-24 * (double)n) {
        two_pass(x, n, sum, m2, sq);
        return;
    }
    *sum = s, *m2 = c, *sq = t;
}

static void merge(moments_t *m, double n, double sum, double m2, double sq)
{
    if (n == 0)
        return;
    double mean = sum / n;
    if (m->n == 0) {
        m->n = n, m->mean = mean, m->m2 = m2, m->sq = sq;
        return;
    }
    double total = m->n + n, delta = mean - m->mean;
    m->mean += delta * (n / total);
    m->m2 += m2 + delta * delta * (m->n * n / total);
    m->sq += sq;
    m->n = total;
}

/* out: mean, unbiased std (NaN under two values), L2 norm. */
static void finish(const moments_t *m, double *out)
{
    out[0] = m->n > 0 ? m->mean : NAN;
    out[1] = m->n > 1 ? sqrt(m->m2 / (m->n - 1)) : NAN;
    out[2] = sqrt(m->sq);
}

static void add_run(moments_t *m, const float *x, int64_t n)
{
    double sum, m2, sq;
    run_moments(x, n, &sum, &m2, &sq);
    merge(m, (double)n, sum, m2, sq);
}

/* Mean, unbiased std and L2 norm of each of `count` tensors (3 values each in out). */
void tg_moments(const float *const *xs, const int64_t *ns, int64_t count, double *out)
{
    for (int64_t i = 0; i < count; i++) {
        moments_t m = {0};
        for (int64_t j = 0; j < ns[i]; j += RUN)
            add_run(&m, xs[i] + j, ns[i] - j < RUN ? ns[i] - j : RUN);
        finish(&m, out + 3 * i);
    }
}

/* The same of one tensor. */
void tg_moments_one(const float *x, int64_t n, double *out)
{
    tg_moments(&x, &n, 1, out);
}

/* The same of each difference a[i] - b[i] (taken in float32, as torch does). */
void tg_diff_moments(const float *const *as, const float *const *bs, const int64_t *ns,
                     int64_t count, double *out)
{
    float d[RUN];
    for (int64_t i = 0; i < count; i++) {
        moments_t m = {0};
        for (int64_t j = 0; j < ns[i]; j += RUN) {
            int64_t n = ns[i] - j < RUN ? ns[i] - j : RUN;
            for (int64_t k = 0; k < n; k++)
                d[k] = as[i][j + k] - bs[i][j + k];
            add_run(&m, d, n);
        }
        finish(&m, out + 3 * i);
    }
}

/* Sum of squares of n <= RUN floats, in float32 lanes (as run_moments), or in float64 where
 * a square may have overflowed or underflowed float32. */
static double run_squares(const float *x, int64_t n)
{
    float p[LANES] = {0};
    int64_t j, whole = n - n % LANES;
    double t = 0;

    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++)
            p[l] += x[j + l] * x[j + l];
    for (int l = 0; l < LANES; l++)
        t += p[l];
    for (; j < n; j++)
        t += (double)x[j] * x[j];
    if (isfinite(t) && t >= 1e-24 * (double)n)
        return t;

    double q[LANES] = {0};
    t = 0;
    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++)
            q[l] += (double)x[j + l] * x[j + l];
    for (int l = 0; l < LANES; l++)
        t += q[l];
    for (; j < n; j++)
        t += (double)x[j] * x[j];
    return t;
}

/* Sum of squares of all `count` tensors together (float64). */
double tg_sum_squares(const float *const *xs, const int64_t *ns, int64_t count)
{
    double t = 0;
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < ns[i]; j += RUN)
            t += run_squares(xs[i] + j, ns[i] - j < RUN ? ns[i] - j : RUN);
    return t;
}

/* ---- histograms ------------------------------------------------------------------------- */

typedef struct {
    int64_t bins, width; /* width = bins + 1: the last bin of each set takes NaN, dropped */
    int64_t *counts;     /* SETS * width counts of single values */
    uint32_t *pairs;     /* PAIR_SETS * width^2 counts of pairs of bins (a, b) at a * width +
                          * b, or NULL: values are counted one by one */
    int64_t paired;      /* pairs counted since the pair table was last folded */
} counter_t;

/* A counter for `bins` bins, about to count n values. Returns 0 when out of memory. */
static int counter_open(counter_t *c, int64_t bins, int64_t n)
{
    int64_t width = bins + 1;
    size_t cells = (size_t)(width * width);
    c->bins = bins, c->width = width, c->paired = 0, c->pairs = NULL;
    c->counts = calloc((size_t)(SETS * width), sizeof(int64_t));
    if (!c->counts)
        return 0;
    if (n >= PAIR_MIN && cells * PAIR_SETS * sizeof(uint32_t) <= PAIR_BYTES
        && !(c->pairs = calloc(cells * PAIR_SETS, sizeof(uint32_t)))) {
        free(c->counts);
        return 0;
    }
    return 1;
}

/* Bin numbers of n floats over [lo, ...) with `scale` bins per unit, in float32. */
static void uniform_bins(const float *restrict x, int64_t n, int64_t bins, float lo, float scale,
                         int32_t *restrict idx)
{
    float top = (float)(bins - 1), drop = (float)bins;
    for (int64_t k = 0; k < n; k++) {
        float t = (x[k] - lo) * scale;
        t = t < 0 ? 0 : t;
        t = t > top ? top : t;
        idx[k] = (int32_t)(x[k] != x[k] ? drop : t);
    }
}

/* Adds the pair table into the single counts (each pair counts once in each of its bins),
 * and empties it. */
static void fold(counter_t *c)
{
    int64_t w = c->width, cells = w * w;
    int64_t *col = c->counts + w; /* the second set, as good as any */
    for (int64_t a = 0; a < w; a++) {
        int64_t row = 0;
        for (int64_t b = 0; b < w; b++) {
            int64_t v = 0;
            for (int s = 0; s < PAIR_SETS; s++)
                v += c->pairs[s * cells + a * w + b];
            row += v;
            col[b] += v;
        }
        c->counts[a] += row;
    }
    memset(c->pairs, 0, (size_t)(cells * PAIR_SETS) * sizeof(uint32_t));
    c->paired = 0;
}

/* Counts n bin numbers (0..bins; bins is dropped). It may overwrite idx.
 *
 * NOTE: each count is a load and a store, and stores bound the counting. With a pair table,
 * one count takes two values, the first half of idx paired with the second: about a quarter
 * less time over a histogram of 65,536 values, but its fold costs as much below PAIR_MIN. */
static void tally(counter_t *c, int32_t *idx, int64_t n)
{
    int64_t k = 0;
    if (c->pairs) {
        int64_t half = n / 2, cells = c->width * c->width;
        int32_t w = (int32_t)c->width;
        for (int64_t j = 0; j < half; j++)
            idx[j] = idx[j] * w + idx[half + j];
        for (; k + PAIR_SETS <= half; k += PAIR_SETS)
            for (int s = 0; s < PAIR_SETS; s++)
                c->pairs[s * cells + idx[k + s]]++;
        for (; k < half; k++)
            c->pairs[idx[k]]++;
        c->paired += half;
        if (c->paired > PAIR_FOLD)
            fold(c);
        k = 2 * half;
    }
    for (; k + SETS <= n; k += SETS)
        for (int s = 0; s < SETS; s++)
            c->counts[s * c->width + idx[k + s]]++;
    for (; k < n; k++)
        c->counts[idx[k]]++;
}

static void counter_close(counter_t *c, double *out)
{
    if (c->pairs)
        fold(c);
    for (int64_t b = 0; b < c->bins; b++) {
        int64_t total = 0;
        for (int s = 0; s < SETS; s++)
            total += c->counts[s * c->width + b];
        out[b] = (double)total;
    }
    free(c->counts);
    free(c->pairs);
}

#ifdef __AVX512F__
/* magnitude_bins' first values in sixteens, with no lookup in memory, for bins < 64 and a
 * scale and offset for which native.py's `_estimate` vouches: returns how many it binned. The bits of |x| read as a number, times 2^-23, less
 * 127, are log2 |x| or up to 0.087 below it (exact at powers of two); scaled and offset into
 * bins, less a margin for float32 rounding, that gives the bin or the one below it, and one
 * compare with the next edge (found by permutes across four registers) decides. */
static int64_t magnitude_bins_estimated(const float *x, int64_t n, int64_t bins,
                                        const uint32_t *edges, float scale, float offset,
                                        int32_t *idx)
{
    uint32_t table[64];
    for (int64_t e = 0; e < 64; e++)
        table[e] = e <= bins ? edges[e] : UINT32_MAX;
    __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 16);
    __m512i t2 = _mm512_loadu_si512(table + 32), t3 = _mm512_loadu_si512(table + 48);
    __m512 s = _mm512_set1_ps(scale), o = _mm512_set1_ps(offset);
    __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps((float)(bins - 1));
    __m512i magnitude = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    __m512i one = _mm512_set1_epi32(1), upper = _mm512_set1_epi32(32);
    __m512i drop = _mm512_set1_epi32((int32_t)bins);
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i u = _mm512_and_si512(_mm512_loadu_si512(x + k), magnitude);
        __m512 t = _mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(u), s), o);
        __m512i b = _mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(t, zero), top));
        __m512i next = _mm512_add_epi32(b, one);
        __m512i low = _mm512_permutex2var_epi32(t0, next, t1);  /* edges 0..31 */
        __m512i high = _mm512_permutex2var_epi32(t2, next, t3); /* edges 32..63 */
        __m512i edge = _mm512_mask_blend_epi32(_mm512_test_epi32_mask(next, upper), low, high);
        b = _mm512_mask_add_epi32(b, _mm512_cmpge_epu32_mask(u, edge), b, one);
        b = _mm512_mask_mov_epi32(b, _mm512_cmpgt_epu32_mask(u, inf), drop); /* NaN */
        _mm512_storeu_si512(idx + k, b);
    }
    return k;
}
#endif

/* Bin numbers of n magnitudes, as tg_magnitude_histogram describes them. */
static void magnitude_bins(const float *restrict x, int64_t n, int64_t bins,
                           const uint32_t *restrict first, const uint32_t *restrict edges,
                           int64_t steps, float scale, float offset, int32_t *restrict idx)
{
    const uint32_t *u = (const uint32_t *)x;
    int64_t k = 0;
#ifdef __AVX512F__
    if (scale > 0 && bins < 64)
        k = magnitude_bins_estimated(x, n, bins, edges, scale, offset, idx);
#else
    (void)scale, (void)offset;
#endif
    if (steps == 0) { /* first[] is packed: one lookup per value, vectorised */
        for (; k < n; k++) {
            uint32_t bits = u[k] & 0x7fffffffu, entry = first[bits >> 23];
            uint32_t b = (entry >> 24) + ((bits & 0x7fffffu) >= (entry & 0xffffffu));
            idx[k] = bits > 0x7f800000u ? (int32_t)bins : (int32_t)b; /* NaN: dropped */
        }
        return;
    }
    for (; k < n; k++) {
        uint32_t bits = u[k] & 0x7fffffffu;
        uint32_t b = first[bits >> 23];
        for (int64_t r = 0; r < steps; r++)
            b += bits >= edges[b + 1];
        idx[k] = bits > 0x7f800000u ? (int32_t)bins : (int32_t)b;
    }
}

/* How the values of one histogram are binned: uniformly, or by magnitude (then bins, first,
 * edges and steps are as tg_magnitude_histogram takes them). */
typedef struct {
    int64_t bins;
    float lo, scale;
    const uint32_t *first, *edges;
    int64_t steps;
    float est_scale, est_offset;
    int magnitudes;
} binning_t;

static int histogram_of(const binning_t *b, const float *x, int64_t n, double *out)
{
    counter_t c;
    int32_t idx[RUN];
    if (!counter_open(&c, b->bins, n))
        return 0;
    for (int64_t j = 0; j < n; j += RUN) {
        int64_t m = n - j < RUN ? n - j : RUN;
        if (b->magnitudes)
            magnitude_bins(x + j, m, b->bins, b->first, b->edges, b->steps, b->est_scale,
                           b->est_offset, idx);
        else
            uniform_bins(x + j, m, b->bins, b->lo, b->scale, idx);
        tally(&c, idx, m);
    }
    counter_close(&c, out);
    return 1;
}

/* Counts of n floats over `bins` uniform bins from lo, `scale` bins per unit; values below
 * or above count in the end bins, NaN nowhere. Returns 0 when out of memory. */
int tg_histogram(const float *x, int64_t n, int64_t bins, float lo, float scale, double *out)
{
    binning_t b = {bins, lo, scale, NULL, NULL, 0, 0, 0, 0};
    return histogram_of(&b, x, n, out);
}

/* Counts of |x| over bins whose lower edges, as float32 bit patterns, are edges[0..bins-1]
 * (edges[0] = 0: the first bin takes everything below the second edge, zeros included;
 * edges[bins] must be above every finite and infinite magnitude). first[e] is the bin of the
 * smallest magnitude with binary exponent e, and the magnitudes of one exponent span at most
 * steps + 1 bins. With steps 0 they span at most 2, and first[e] holds that bin in its top 8
 * bits and, in its low 24, the mantissa from which on a magnitude is in the next one (2^23:
 * none is). NaN is not counted.
 *
 * With est_scale > 0 (where bits * est_scale - est_offset, the bits of |x| read as a number,
 * is never above a magnitude's bin nor more than one below it; see magnitude_bins_estimated)
 * and bins < 64, a CPU with AVX-512 bins most values with no lookup. */
int tg_magnitude_histogram(const float *x, int64_t n, int64_t bins, const uint32_t *first,
                           const uint32_t *edges, int64_t steps, float est_scale,
                           float est_offset, double *out)
{
    binning_t b = {bins, 0, 0, first, edges, steps, est_scale, est_offset, 1};
    return histogram_of(&b, x, n, out);
}

/* ---- the weights of a step and their gradients -------------------------------------------- */

/* The least and greatest finite values of n floats (lo > hi when none is finite). */
static void finite_range(const float *x, int64_t n, float *lo, float *hi)
{
    float mn[LANES], mx[LANES];
    int64_t j, whole = n - n % LANES;
    for (int l = 0; l < LANES; l++)
        mn[l] = INFINITY, mx[l] = -INFINITY;
    for (j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float v = x[j + l];
            mn[l] = v < mn[l] && v > -INFINITY ? v : mn[l];
            mx[l] = v > mx[l] && v < INFINITY ? v : mx[l];
        }
    for (; j < n; j++) {
        float v = x[j];
        mn[0] = v < mn[0] && v > -INFINITY ? v : mn[0];
        mx[0] = v > mx[0] && v < INFINITY ? v : mx[0];
    }
    for (int l = 1; l < LANES; l++) {
        mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
        mx[0] = mx[l] > mx[0] ? mx[l] : mx[0];
    }
    *lo = mn[0], *hi = mx[0];
}

/* A finite range as stats.data_range gives it: [0, 1] if there was no finite value (lo > hi),
 * widened by 0.5 each way if it is a single value. */
static void widen(float *lo, float *hi)
{
    if (*lo > *hi)
        *lo = 0, *hi = 1;
    else if (*lo == *hi)
        *lo = (float)((double)*lo - 0.5), *hi = (float)((double)*hi + 0.5);
}

/* For each of `count` layers: its weight ws[i] (copied into copies[i] in the same read, when
 * copies is not NULL) and its gradient gs[i] (NULL: none), ns[i] values each. out holds
 * 8 + 2 * bins values per layer: mean, unbiased std and L2 norm of the weight, the same of
 * the gradient (NaN without one), then, with bins > 0, the weight histogram's range and
 * counts (over its finite range, as stats.data_range widens it) and the gradient's
 * magnitude counts (as tg_magnitude_histogram). Returns 0 when out of memory. */
int tg_weights(const float *const *ws, float *const *copies, const float *const *gs,
               const int64_t *ns, int64_t count, int64_t bins, const uint32_t *first,
               const uint32_t *edges, int64_t steps, float est_scale, float est_offset,
               double *out)
{
    int64_t stride = 8 + 2 * (bins > 0 ? bins : 0);
    int32_t idx[RUN];

    for (int64_t i = 0; i < count; i++) {
        const float *w = ws[i], *g = gs[i];
        int64_t n = ns[i];
        double *o = out + i * stride;
        moments_t mw = {0}, mg = {0};
        float lo = INFINITY, hi = -INFINITY;

        for (int64_t j = 0; j < n; j += RUN) {
            int64_t m = n - j < RUN ? n - j : RUN;
            float a, b;
            if (copies)
                memcpy(copies[i] + j, w + j, (size_t)m * sizeof(float));
            add_run(&mw, w + j, m);
            if (bins > 0) {
                finite_range(w + j, m, &a, &b);
                lo = a < lo ? a : lo;
                hi = b > hi ? b : hi;
            }
        }
        finish(&mw, o);

        if (g) {
            counter_t c = {0};
            if (bins > 0 && !counter_open(&c, bins, n))
                return 0;
            for (int64_t j = 0; j < n; j += RUN) {
                int64_t m = n - j < RUN ? n - j : RUN;
                add_run(&mg, g + j, m);
                if (bins > 0) {
                    magnitude_bins(g + j, m, bins, first, edges, steps, est_scale, est_offset,
                                   idx);
                    tally(&c, idx, m);
                }
            }
            finish(&mg, o + 3);
            if (bins > 0)
                counter_close(&c, o + 8 + bins);
        } else {
            o[3] = o[4] = o[5] = NAN;
            for (int64_t b = 0; b < bins; b++)
                o[8 + bins + b] = 0;
        }

        if (bins > 0) {
            widen(&lo, &hi);
            o[6] = lo, o[7] = hi;
            if (!tg_histogram(w, n, bins, lo, (float)((double)bins / ((double)hi - lo)), o + 8))
                return 0;
        }
    }
    return 1;
}

/* ---- a layer's forward statistics --------------------------------------------------------- */

enum { TAILS_NONE = 0, TAILS_ABOVE = 1, TAILS_OUTSIDE = 2 };

/* The forward statistics of act, (rows, cols) row-major, as stats.forward_scalars defines
 * them: out[0..4] = mean, unbiased std, saturated fraction, dead fraction, unit spread (NaN
 * where they do not apply), out[5] = the unbiased std of the pre_n values of pre (NaN when
 * pre is NULL); with bins > 0, out[6], out[7] = the histogram's range, then its `bins`
 * counts: over [h_lo, h_hi], or with own_range over act's finite range (as stats.data_range
 * widens it, binned in a second read).
 *
 * tails: TAILS_ABOVE counts |a| > hi (tanh), TAILS_OUTSIDE counts a < lo or a > hi
 * (sigmoid). dead: a unit is dead if no row has it > 0 (NaN counts as alive).
 * Returns 0 when out of memory. */
int tg_forward(const float *act, int64_t rows, int64_t cols, const float *pre, int64_t pre_n,
               int tails, float lo, float hi, int dead, int64_t bins, int own_range, float h_lo,
               float h_hi, double *out)
{
    moments_t m = {0};
    double spread = 0;
    int64_t saturated = 0;
    float *top = NULL; /* each unit's largest output, 0 at least (1 once it was NaN) */
    counter_t c = {0};
    int32_t idx[RUN];
    float range_lo = INFINITY, range_hi = -INFINITY, scale = 0;

    if (dead && !(top = calloc((size_t)cols, sizeof(float))))
        return 0;
    if (bins > 0 && !counter_open(&c, bins, rows * cols)) {
        free(top);
        return 0;
    }
    if (bins > 0 && !own_range)
        scale = (float)((double)bins / ((double)h_hi - h_lo));

    for (int64_t r = 0; r < rows; r++) {
        const float *row = act + r * cols;
        double sum, m2, sq;
        run_moments(row, cols, &sum, &m2, &sq);
        merge(&m, (double)cols, sum, m2, sq);
        spread += cols > 1 ? sqrt(m2 / (double)(cols - 1)) : NAN;

        if (tails == TAILS_ABOVE) {
            int64_t k = 0;
            for (int64_t j = 0; j < cols; j++)
                k += fabsf(row[j]) > hi;
            saturated += k;
        } else if (tails == TAILS_OUTSIDE) {
            int64_t k = 0;
            for (int64_t j = 0; j < cols; j++)
                k += (row[j] < lo) | (row[j] > hi);
            saturated += k;
        }
        if (dead) /* a running maximum: several times faster than or-ing flags */
            for (int64_t j = 0; j < cols; j++) {
                float a = row[j] != row[j] ? 1.0f : row[j];
                top[j] = a > top[j] ? a : top[j];
            }
        if (bins > 0 && own_range) {
            float a, b;
            finite_range(row, cols, &a, &b);
            range_lo = a < range_lo ? a : range_lo;
            range_hi = b > range_hi ? b : range_hi;
        } else if (bins > 0)
            for (int64_t j = 0; j < cols; j += RUN) {
                int64_t n = cols - j < RUN ? cols - j : RUN;
                uniform_bins(row + j, n, bins, h_lo, scale, idx);
                tally(&c, idx, n);
            }
    }

    double total = (double)rows * (double)cols, stats[3];
    finish(&m, stats);
    out[0] = stats[0];
    out[1] = stats[1];
    out[2] = tails == TAILS_NONE ? NAN : (double)saturated / total;
    out[3] = NAN;
    if (dead) {
        int64_t k = 0;
        for (int64_t j = 0; j < cols; j++)
            k += !(top[j] > 0);
        out[3] = (double)k / (double)cols;
        free(top);
    }
    out[4] = cols > 1 ? spread / (double)rows : NAN;
    out[5] = NAN;
    if (pre) {
        moments_t mp = {0};
        for (int64_t j = 0; j < pre_n; j += RUN)
            add_run(&mp, pre + j, pre_n - j < RUN ? pre_n - j : RUN);
        finish(&mp, stats);
        out[5] = stats[1];
    }
    if (bins > 0 && own_range) {
        widen(&range_lo, &range_hi);
        h_lo = range_lo, h_hi = range_hi;
        scale = (float)((double)bins / ((double)h_hi - h_lo));
        for (int64_t j = 0; j < rows * cols; j += RUN) {
            int64_t n = rows * cols - j < RUN ? rows * cols - j : RUN;
            uniform_bins(act + j, n, bins, h_lo, scale, idx);
            tally(&c, idx, n);
        }
    }
    if (bins > 0) {
        out[6] = h_lo, out[7] = h_hi;
        counter_close(&c, out + 8);
    }
    return 1;
}
