/* `btsp merge RUN_A RUN_B --out DIR`: one run directory from a run and its continuation.
 *
 * RUN_B must have been resumed (btsp train|demo --resume) from a checkpoint of RUN_A (or of a
 * run identical to it up to there): same config text, data, seeds, sample order, random-number
 * source, snapshot interval and recorded populations, and RUN_A's snapshot at RUN_B's first
 * sample equal to RUN_B's first snapshot byte for byte. DIR then holds what one uninterrupted run
 * would have written:
 *
 *   per-sample records (loss_history.npy, train_output.npy, plateaus_<pop>.npy,
 *   dend_history.csv)    RUN_A's up to RUN_B's first sample, then RUN_B's
 *   val_history.csv      RUN_A's rows before RUN_B's first sample, then RUN_B's
 *   snapshots/           those run.json lists: RUN_A's before RUN_B's first sample, then
 *                        RUN_B's (without its first one when that is off the --history-interval
 *                        grid: RUN_A stopped between snapshots, an uninterrupted run has none there)
 *   final weights, config.yaml, state.btsp(.json), val_window.csv   RUN_B's
 *   run.json             RUN_B's text, with RUN_A's first sample, resumed_from and init_weights, the
 *                        snapshots of both, the training time (RUN_A's prorated to the samples
 *                        kept, plus RUN_B's; null if a part's is unknown), and "merged_from"
 *
 * so `btsp analyze DIR` gives the analysis of the whole run (tests/cli/test_cli_merge.sh
 * checks it equals that of a run that never stopped). If the two plateau rasters were recorded
 * with different strides (the stride is chosen from each run's --samples), the merged raster
 * keeps the samples both recorded at their least common multiple, which can be coarser than an
 * uninterrupted run's. Nothing is written until every check passed; DIR is built under a
 * temporary name beside it (DIR.merge-XXXXXX, made readable like any run directory) and renamed
 * at the end, so a failure leaves no half-merged directory; on SIGINT, SIGTERM or SIGHUP the
 * merge removes it and dies of the signal; a directory that only SIGKILL (or a crash) can leave is
 * removed by the next merge to DIR on the same host that gets as far as writing (OWNER_FILE).
 * The inputs are only read; DIR may not be inside either. */
#define _XOPEN_SOURCE 700 /* nftw, realpath, mkdtemp */

#include "cli.h"
#include "../io/io_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* SIGINT, SIGTERM or SIGHUP during a merge: the signal's number. The merge then stops at its next
 * step (a blocked read returns, as the handler does not restart it), removes its temporary
 * directory and dies of the signal, leaving no DIR.merge-XXXXXX behind. */
static volatile sig_atomic_t merge_signal = 0;

static void on_merge_signal(int sig)
{
    merge_signal = sig;
}

typedef struct run_info {
    const char *dir;
    char *json;
    unsigned long long first, done;
    int complete;
    double stride; /* plateau_stride (0: no raster) */
} run_info;

static int same_raw(const run_info *a, const run_info *b, const char *key)
{
    size_t la = 0, lb = 0;
    const char *va = cli_json_get_raw(a->json, key, &la), *vb = cli_json_get_raw(b->json, key, &lb);
    if (!va && !vb)
        return 1;
    return va && vb && la == lb && memcmp(va, vb, la) == 0;
}

/* "data" names a directory or a data set: the same directory under two spellings (relative,
 * trailing slash) is the same data. */
static int same_data_path(const run_info *a, const run_info *b)
{
    char va[4096], vb[4096], ra[PATH_MAX], rb[PATH_MAX];
    return cli_json_get_string(a->json, "data", va, sizeof va) && cli_json_get_string(b->json, "data", vb, sizeof vb) &&
           realpath(va, ra) && realpath(vb, rb) && strcmp(ra, rb) == 0;
}

/* "order" names an --order file: a copy elsewhere is the same order if its contents hash alike
 * (state.btsp.json's "order_fnv", which --resume itself checks). */
static int same_order_contents(const run_info *a, const run_info *b)
{
    unsigned long long ha = 0, hb = 0;
    char pa[4096], pb[4096];
    char *sa = cli_path(pa, sizeof pa, a->dir, "state.btsp.json") ? cli_read_file(pa, NULL) : NULL;
    char *sb = cli_path(pb, sizeof pb, b->dir, "state.btsp.json") ? cli_read_file(pb, NULL) : NULL;
    int same = sa && sb && cli_json_get_u64(sa, "order_fnv", &ha) && cli_json_get_u64(sb, "order_fnv", &hb) &&
               ha != 0 && ha == hb;
    free(sa);
    free(sb);
    return same;
}

static int read_run(run_info *r, const char *dir)
{
    char path[4096];
    memset(r, 0, sizeof *r);
    r->dir = dir;
    if (!cli_path(path, sizeof path, dir, "run.json") || !(r->json = cli_read_file(path, NULL))) {
        fprintf(stderr, "btsp merge: %s has no run.json (not a run directory of btsp train --out)\n", dir);
        return 0;
    }
    char fmt[64];
    if (!cli_json_get_string(r->json, "format", fmt, sizeof fmt) || strcmp(fmt, "btsp-run-1") != 0 ||
        !cli_json_get_u64(r->json, "first_sample", &r->first) ||
        !cli_json_get_u64(r->json, "samples_done", &r->done) || !cli_json_get_bool(r->json, "complete", &r->complete)) {
        fprintf(stderr, "btsp merge: %s/run.json is not a btsp-run-1 record with first_sample, samples_done and "
                        "complete (written by an older btsp?)\n",
                dir);
        return 0;
    }
    if (!cli_json_get_number(r->json, "plateau_stride", &r->stride))
        r->stride = 0.0;
    if (!(r->stride >= 0.0 && r->stride <= (double)UINT32_MAX && r->stride == (double)(unsigned long long)r->stride)) {
        fprintf(stderr, "btsp merge: %s/run.json has a bad plateau_stride\n", dir);
        return 0;
    }
    return 1;
}

/* Whole files equal? (1 equal, 0 different or unreadable.) Compared in 1 MB pieces, like
 * copy_file(): snapshot weights of large networks need not fit in memory twice. */
static int same_file(const char *pa, const char *pb)
{
    enum { PIECE = 1 << 20 };
    char *ba = malloc(PIECE), *bb = malloc(PIECE);
    FILE *fa = ba && bb ? fopen(pa, "rb") : NULL, *fb = fa ? fopen(pb, "rb") : NULL;
    int same = fb != NULL;
    while (same) {
        size_t na = fread(ba, 1, PIECE, fa), nb = fread(bb, 1, PIECE, fb);
        same = na == nb && memcmp(ba, bb, na) == 0;
        if (na < PIECE)
            break;
    }
    if (same && (ferror(fa) || ferror(fb)))
        same = 0;
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    free(ba);
    free(bb);
    return same;
}

/* A byte copy in 1 MB pieces (weights and state images of large networks need not fit twice in
 * memory). */
static int copy_file(const char *src, const char *dst)
{
    if (merge_signal)
        return 0;
    enum { PIECE = 1 << 20 };
    char *buf = malloc(PIECE);
    FILE *in = buf ? fopen(src, "rb") : NULL, *out = in ? fopen(dst, "wb") : NULL;
    int ok = out != NULL;
    size_t n;
    while (ok && (n = fread(buf, 1, PIECE, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in && ferror(in))
        ok = 0;
    if (out && fclose(out) != 0)
        ok = 0;
    if (in)
        fclose(in);
    if (!ok)
        fprintf(stderr, "btsp merge: cannot copy %s to %s: %s\n", src, dst, buf ? strerror(errno) : "out of memory");
    free(buf);
    return ok;
}

/* Every regular file of directory `src` (no subdirectories) copied into `dst` (created);
 * `skip(name)` true leaves a file out. */
static int copy_dir_files(const char *src, const char *dst, int (*skip)(const char *))
{
    DIR *d = opendir(src);
    if (!d) {
        fprintf(stderr, "btsp merge: cannot read %s: %s\n", src, strerror(errno));
        return 0;
    }
    int ok = cli_make_dir(dst);
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        char ps[4096], pd[4096];
        struct stat sb;
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.' || (skip && skip(e->d_name)) || (nl > 4 && strcmp(e->d_name + nl - 4, ".tmp") == 0))
            continue; /* also the leftovers of a run killed while it replaced a file */
        if (!cli_path(ps, sizeof ps, src, e->d_name) || stat(ps, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        ok = cli_path(pd, sizeof pd, dst, e->d_name) && copy_file(ps, pd);
    }
    closedir(d);
    return ok;
}

/* The per-sample records and what merge writes itself: not copied from RUN_B's top level. */
static int is_record(const char *name)
{
    static const char *const merged[] = {"loss_history.npy", "train_output.npy", "dend_history.csv",
                                         "val_history.csv",  "run.json",         "val_window.csv"};
    for (size_t k = 0; k < sizeof merged / sizeof merged[0]; k++)
        if (strcmp(name, merged[k]) == 0)
            return 1;
    return strncmp(name, "plateaus_", 9) == 0;
}

/* The final weights of an unfinished run are not written yet: only its other files. */
static int is_record_or_weights(const char *name)
{
    size_t n = strlen(name);
    return is_record(name) || (n > 4 && strcmp(name + n - 4, ".npy") == 0);
}

/* Close a joined record `out` (path po; a failed close after a good write is a failure, said)
 * and its two inputs; returns ok. */
static int close_parts(FILE *out, FILE *a, FILE *b, const char *po, int ok)
{
    if (out && fclose(out) != 0 && ok) {
        fprintf(stderr, "btsp merge: cannot write %s: %s\n", po, strerror(errno));
        ok = 0;
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    return ok;
}

/* 1 if record k of a run with stride s, whose sample is (first / s + k + 1) * s, falls on a
 * multiple of `stride` (the records a merged raster keeps; all of them for stride 1). */
static int record_kept(unsigned long long first, size_t s, size_t k, size_t stride)
{
    return ((first / s + k + 1) * s) % stride == 0;
}

/* How many of records 0 .. n - 1 are kept. */
static size_t kept_records(unsigned long long first, size_t s, size_t n, size_t stride)
{
    size_t kept = 0;
    for (size_t k = 0; k < n; k++)
        kept += record_kept(first, s, k, stride);
    return kept;
}

/* Copy those records (rows of `bytes` each) of `in`, left at its data, to `out`, a piece at a
 * time: the per-sample records of long runs need not fit in memory. 0 on a read or write error
 * or a signal. */
static int copy_records(FILE *in, FILE *out, unsigned long long first, size_t s, size_t n, size_t stride,
                        size_t bytes, unsigned char *row)
{
    for (size_t k = 0; k < n && !merge_signal; k++) {
        if (fread(row, 1, bytes, in) != bytes)
            return 0;
        if (record_kept(first, s, k, stride) && fwrite(row, 1, bytes, out) != bytes)
            return 0;
    }
    return !merge_signal;
}

/* A's rows [0, keep) then all of B's, of a records file (1-D or rows x width), streamed into the
 * bytes btsp_npy_write_f32() would write for the joined array (the files are ours: '<f4', C
 * order). Absent in both: nothing to do; in one only: the merged run cannot have it, said on
 * stderr. */
static int merge_npy(const run_info *a, const run_info *b, const char *out, const char *name, size_t keep,
                     size_t stride_a, size_t stride_b, size_t stride)
{
    char pa[4096], pb[4096], po[4096], err[1024];
    if (merge_signal)
        return 0;
    if (!cli_path(pa, sizeof pa, a->dir, name) || !cli_path(pb, sizeof pb, b->dir, name) ||
        !cli_path(po, sizeof po, out, name))
        return 0;
    struct stat sa, sb;
    int ha = stat(pa, &sa) == 0, hb = stat(pb, &sb) == 0;
    if (!ha && !hb)
        return 1;
    if (ha != hb) {
        fprintf(stderr, "btsp merge: %s is in only one of the runs (too long to record there?): left out\n", name);
        return 1;
    }
    FILE *fa = NULL, *fb = NULL, *fo = NULL;
    unsigned char *row = NULL;
    size_t sha[2], shb[2], nda, ndb;
    int ok = 0;
    if (btsp__npy_open_f32le(pa, &fa, sha, &nda, err, sizeof err) ||
        btsp__npy_open_f32le(pb, &fb, shb, &ndb, err, sizeof err)) {
        fprintf(stderr, "btsp merge: %s\n", err);
        goto done;
    }
    size_t w = sha[1];
    if (nda != ndb || sha[1] != shb[1]) {
        fprintf(stderr, "btsp merge: %s has another shape in %s than in %s\n", name, a->dir, b->dir);
        goto done;
    }
    if (keep > sha[0]) {
        fprintf(stderr, "btsp merge: %s in %s has %zu records, fewer than the %zu before %s's first sample\n", name,
                a->dir, sha[0], keep, b->dir);
        goto done;
    }
    /* record k of a run with stride s is sample (first / s + k + 1) * s; keep multiples of `stride` */
    size_t rows = kept_records(a->first, stride_a, keep, stride) + kept_records(b->first, stride_b, shb[0], stride);
    unsigned char head[256];
    size_t hl = btsp__npy_f32_header(nda, rows, w, head), bytes = w * 4;
    row = malloc(bytes ? bytes : 1);
    if (!row || hl == 0) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    if (!(fo = fopen(po, "wb")) || fwrite(head, 1, hl, fo) != hl ||
        !copy_records(fa, fo, a->first, stride_a, keep, stride, bytes, row) ||
        !copy_records(fb, fo, b->first, stride_b, shb[0], stride, bytes, row)) {
        if (!merge_signal)
            fprintf(stderr, "btsp merge: cannot join %s into %s: %s\n", name, po,
                    !fo || ferror(fo) || ferror(fa) || ferror(fb) ? strerror(errno)
                                                                  : "an input is shorter than its header says");
        goto done;
    }
    ok = 1;
done:
    ok = close_parts(fo, fa, fb, po, ok);
    free(row);
    return ok;
}

/* Copy the rows of `in` (after its header) whose samples column s satisfies lo <= s < hi to
 * `out`, a line at a time (records of long runs need not fit in memory); a last row without its
 * newline gets one. Returns the number of rows copied, or -1 on a read or write error. */
static long long copy_rows(FILE *in, FILE *out, unsigned long long lo, unsigned long long hi)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long rows = 0;
    while (!merge_signal && (len = getline(&line, &cap, in)) > 0) {
        unsigned long long smp = strtoull(line, NULL, 10);
        if (smp < lo || smp >= hi)
            continue;
        if (fwrite(line, 1, (size_t)len, out) != (size_t)len || (line[len - 1] != '\n' && fputc('\n', out) == EOF)) {
            rows = -1;
            break;
        }
        rows++;
    }
    if (ferror(in) || merge_signal)
        rows = -1;
    free(line);
    return rows;
}

/* A CSV with a "samples" first column: the header (equal in both), A's rows with samples <
 * limit, then B's rows from b_from up to B's last checkpoint. per_sample: one row per sample is
 * expected from each part (a record cut short is refused, not joined silently). Streamed, a line
 * at a time. */
static int merge_csv(const run_info *a, const run_info *b, const char *out, const char *name,
                     unsigned long long limit, unsigned long long b_from, int per_sample)
{
    char pa[4096], pb[4096], po[4096];
    if (merge_signal)
        return 0;
    if (!cli_path(pa, sizeof pa, a->dir, name) || !cli_path(pb, sizeof pb, b->dir, name) ||
        !cli_path(po, sizeof po, out, name))
        return 0;
    FILE *fa = fopen(pa, "r"), *fb = merge_signal ? NULL : fopen(pb, "r"), *f = NULL;
    char *ha = NULL, *hb = NULL;
    size_t ca = 0, cb = 0;
    int ok = 1;
    if (merge_signal) { /* an open cut short by a signal (a FIFO): stop, say nothing about the file */
        ok = 0;
        goto done;
    }
    if (!fa && !fb)
        goto done;
    if (!fa || !fb) {
        fprintf(stderr, "btsp merge: %s is in only one of the runs: left out\n", name);
        goto done;
    }
    ssize_t la = getline(&ha, &ca, fa), lb = getline(&hb, &cb, fb);
    if (merge_signal) {
        ok = 0;
        goto done;
    }
    if (la <= 0 || lb <= 0 || la != lb || memcmp(ha, hb, (size_t)la) != 0 || ha[la - 1] != '\n') {
        fprintf(stderr, "btsp merge: %s has other columns in %s than in %s\n", name, a->dir, b->dir);
        ok = 0;
        goto done;
    }
    if (!(f = fopen(po, "w"))) {
        fprintf(stderr, "btsp merge: cannot write %s: %s\n", po, strerror(errno));
        ok = 0;
        goto done;
    }
    /* B's seam row if dropped; no rows after B's last checkpoint */
    long long rows_a = fwrite(ha, 1, (size_t)la, f) == (size_t)la ? copy_rows(fa, f, 0, limit) : -1;
    long long rows_b = rows_a < 0 ? -1 : copy_rows(fb, f, b_from, b->done + 1);
    if (rows_a < 0 || rows_b < 0) {
        if (!merge_signal)
            fprintf(stderr, "btsp merge: cannot merge %s: %s\n", name, strerror(errno));
        ok = 0;
        goto done;
    }
    if (per_sample && ((unsigned long long)rows_a != limit - 1 - a->first ||
                       (unsigned long long)rows_b != b->done - b->first)) {
        fprintf(stderr, "btsp merge: %s has %lld rows for samples %llu..%llu in %s and %lld for %llu..%llu in %s: "
                        "a record is cut short\n",
                name, rows_a, a->first + 1, limit - 1, a->dir, rows_b, b->first + 1, b->done, b->dir);
        ok = 0;
        goto done;
    }
done:
    ok = close_parts(f, fa, fb, po, ok);
    free(ha);
    free(hb);
    return ok;
}

/* B's first snapshot equals A's snapshot at the same sample, file by file. */
static int same_snapshot(const run_info *a, const run_info *b, unsigned long long s)
{
    char da[4096], db[4096], name[32];
    snprintf(name, sizeof name, "snapshots/%llu", s);
    if (!cli_path(da, sizeof da, a->dir, name) || !cli_path(db, sizeof db, b->dir, name))
        return 0;
    DIR *d = opendir(db);
    if (!d)
        return 0;
    int ok = 1, files = 0;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        char pa[4096], pb[4096];
        if (e->d_name[0] == '.')
            continue;
        files++;
        ok = cli_path(pa, sizeof pa, da, e->d_name) && cli_path(pb, sizeof pb, db, e->d_name) && same_file(pa, pb);
    }
    closedir(d);
    return ok && files > 0;
}

/* The directory part of `path` ("." for a bare name, "/" for a name in the root). */
static void parent_of(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

static const int merge_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* Catch the merge signals (those not ignored, as under nohup), keeping the old actions. */
static void catch_signals(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_merge_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked open or read returns with EINTR */
    for (int k = 0; k < 3; k++) {
        sigaction(merge_signals[k], NULL, &old[k]);
        if (old[k].sa_handler != SIG_IGN)
            sigaction(merge_signals[k], &sa, NULL);
    }
}

static void restore_signals(const struct sigaction *old)
{
    for (int k = 0; k < 3; k++)
        sigaction(merge_signals[k], &old[k], NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A directory under construction holds OWNER_FILE, "<pid> <host>\n" of the merge building it,
 * write-locked (fcntl) by that merge until it renames the directory; so a later merge can tell a
 * directory that a killed merge left (SIGKILL, power loss) from one another merge is still
 * building: the lock goes with the process. */
#define OWNER_FILE ".merge-owner"

static void this_host(char *host, size_t cap)
{
    if (gethostname(host, cap) != 0)
        host[0] = '\0';
    host[cap - 1] = '\0';
}

/* Create and lock the owner file in `dir`; returns its descriptor (kept open: closing it drops
 * the lock) or -1. */
static int own_build(const char *dir)
{
    char own[4096], host[256], text[320];
    if (!cli_path(own, sizeof own, dir, OWNER_FILE)) {
        fprintf(stderr, "btsp merge: path too long: %s/%s\n", dir, OWNER_FILE);
        return -1;
    }
    this_host(host, sizeof host);
    int len = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    int fd = open(own, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    struct flock lk = {0};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (fd < 0 || write(fd, text, (size_t)len) != len || fcntl(fd, F_SETLK, &lk) != 0) {
        fprintf(stderr, "btsp merge: cannot write and lock %s: %s\n", own, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Remove the DIR.merge-XXXXXX directories beside `out` that a killed merge on this host left:
 * directories of this user whose owner file is not locked and names a process of this host
 * that no longer exists. Those of running merges (locked), of other hosts (a shared file
 * system), of other users, symbolic links and directories without an owner file (not ours)
 * are left alone. */
static void remove_stale_builds(const char *out)
{
    char parent[4096], host[256];
    parent_of(out, parent, sizeof parent);
    const char *slash = strrchr(out, '/'), *base = slash ? slash + 1 : out;
    size_t bl = strlen(base);
    this_host(host, sizeof host);
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".merge-", 7) != 0 || strlen(n + bl + 7) != 6)
            continue;
        char path[4096], own[4096], text[320] = "", h[256] = "";
        struct stat st;
        long pid = 0;
        if (!cli_path(path, sizeof path, parent, n) || !cli_path(own, sizeof own, path, OWNER_FILE) ||
            lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        int fd = open(own, O_RDONLY | O_NOFOLLOW);
        if (fd < 0)
            continue;
        ssize_t got = read(fd, text, sizeof text - 1);
        struct flock lk = {0};
        lk.l_type = F_WRLCK;
        lk.l_whence = SEEK_SET;
        int locked = fcntl(fd, F_GETLK, &lk) != 0 || lk.l_type != F_UNLCK; /* unknown counts as locked */
        close(fd);
        text[got > 0 ? got : 0] = '\0';
        if (locked || sscanf(text, "%ld %255s", &pid, h) != 2 || pid <= 0 || strcmp(h, host) != 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
            fprintf(stderr, "btsp merge: removed %s, left by a merge (process %ld) that was killed\n", path, pid);
        else
            fprintf(stderr, "btsp merge: cannot remove %s, left by a merge (process %ld) that was killed: %s\n", path,
                    pid, strerror(errno));
    }
    closedir(d);
}

static unsigned long long gcd_ull(unsigned long long a, unsigned long long b)
{
    while (b) {
        unsigned long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The values of RUN_B's run.json that a merge replaces (every other key, whatever cli_run.c
 * writes, is RUN_B's text unchanged, so a key added there needs nothing here). */
enum { RJ_INIT, RJ_RESUMED, RJ_FIRST, RJ_COMPLETE, RJ_SNAPS, RJ_STRIDE, RJ_SECS, RJ_RATE, RJ_MERGED, RJ_N };
static const char *const rj_key[RJ_N] = {"init_weights",   "resumed_from",  "first_sample",
                                         "complete",       "snapshots",     "plateau_stride",
                                         "train_seconds",  "samples_per_second", "merged_from"};

typedef struct {
    const run_info *a, *b;
    const unsigned long long *snaps;
    size_t n_snaps;
    unsigned long long stride;
    const char *abs_a, *abs_b;
    double secs;     /* training time of the samples kept (NaN: unknown) */
    int b_merged;    /* RUN_B is itself a merge: its "merged_from" is replaced, not added to */
} rj_ctx;

static void rj_merged_from(FILE *f, const rj_ctx *c)
{
    fputc('[', f);
    cli_json_escape(f, c->abs_a);
    fputs(", ", f);
    cli_json_escape(f, c->abs_b);
    fputc(']', f);
}

static void rj_raw(FILE *f, const char *json, const char *key)
{
    size_t len;
    const char *v = cli_json_get_raw(json, key, &len);
    if (v)
        fwrite(v, 1, len, f);
    else
        fputs("null", f);
}

static void rj_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

/* The merged value of key k. */
static void rj_value(FILE *f, const rj_ctx *c, int k)
{
    switch (k) {
    case RJ_INIT: /* the start of the whole run is A's */
    case RJ_RESUMED:
        rj_raw(f, c->a->json, rj_key[k]);
        break;
    case RJ_FIRST:
        fprintf(f, "%llu", c->a->first);
        break;
    case RJ_COMPLETE:
        rj_raw(f, c->b->json, rj_key[k]);
        if (!c->b_merged) {
            fputs(",\n  \"merged_from\": ", f);
            rj_merged_from(f, c);
        }
        break;
    case RJ_MERGED:
        rj_merged_from(f, c);
        break;
    case RJ_SNAPS:
        fputc('[', f);
        for (size_t i = 0; i < c->n_snaps; i++)
            fprintf(f, "%s%llu", i ? ", " : "", c->snaps[i]);
        fputc(']', f);
        break;
    case RJ_STRIDE:
        fprintf(f, "%llu", c->stride);
        break;
    case RJ_SECS:
        rj_number(f, c->secs);
        break;
    default: /* RJ_RATE */
        rj_number(f, c->secs > 0.0 ? (double)(c->b->done - c->a->first) / c->secs : NAN);
        break;
    }
}

/* RUN_B's run.json with the values above replaced: B's text is copied up to each replaced
 * value, in the order they appear; a key B lacks (a directory of an older btsp) is added before
 * the closing brace. */
static int write_run_json(const char *path, const run_info *a, const run_info *b, const unsigned long long *snaps,
                          size_t n_snaps, unsigned long long stride, const char *abs_a, const char *abs_b)
{
    rj_ctx c = {a, b, snaps, n_snaps, stride, abs_a, abs_b, 0.0, 0};
    double ta = 0.0, tb = 0.0;
    /* a killed part has no training time ("train_seconds": null): then neither has the merge */
    if (!cli_json_get_number(a->json, "train_seconds", &ta) && b->first > a->first)
        ta = NAN;
    if (!cli_json_get_number(b->json, "train_seconds", &tb) && b->done > b->first)
        tb = NAN;
    /* A's time counts only up to B's first sample; A's records after it are dropped */
    double frac = a->done > a->first ? (double)(b->first - a->first) / (double)(a->done - a->first) : 0.0;
    c.secs = ta * frac + tb;

    const char *text = b->json, *pos[RJ_N], *end = strrchr(text, '}');
    size_t len[RJ_N];
    int order[RJ_N], n_found = 0;
    if (!end) { /* read_run() found its keys, so B's text is an object */
        fprintf(stderr, "btsp merge: %s/run.json is not a JSON object\n", b->dir);
        return 0;
    }
    for (int k = 0; k < RJ_N; k++) {
        pos[k] = cli_json_get_raw(text, rj_key[k], &len[k]);
        if (pos[k])
            order[n_found++] = k;
    }
    c.b_merged = pos[RJ_MERGED] != NULL;
    for (int i = 1; i < n_found; i++) /* insertion sort by position: at most RJ_N keys */
        for (int j = i; j > 0 && pos[order[j]] < pos[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "btsp merge: cannot write %s: %s\n", path, strerror(errno));
        return 0;
    }
    const char *p = text;
    for (int i = 0; i < n_found; i++) {
        int k = order[i];
        fwrite(p, 1, (size_t)(pos[k] - p), f);
        rj_value(f, &c, k);
        p = pos[k] + len[k];
    }
    const char *close = end; /* the whitespace before the closing brace stays before it */
    while (close > p && (close[-1] == '\n' || close[-1] == ' ' || close[-1] == '\r' || close[-1] == '\t'))
        close--;
    fwrite(p, 1, (size_t)(close - p), f);
    for (int k = 0; k < RJ_N; k++)
        if (!pos[k] && k != RJ_MERGED) { /* merged_from goes after "complete", which read_run found */
            fprintf(f, ",\n  \"%s\": ", rj_key[k]);
            rj_value(f, &c, k);
        }
    fputs(close, f);
    int ok = !ferror(f);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "btsp merge: cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

int cli_cmd_merge(options *o)
{
    run_info a, b;
    char out_buf[4096];
    struct sigaction old_actions[3];
    int caught = 0;
    const char *out = o->out;
    int rc = 1, built = 0, owner_fd = -1;
    char tmpdir[4096] = "", abs_a[PATH_MAX], abs_b[PATH_MAX], abs_out[PATH_MAX];
    unsigned long long *snaps_a = NULL, *snaps_b = NULL, *snaps = NULL;
    memset(&b, 0, sizeof b);
    if (!o->weights || !o->run2 || !out) {
        fprintf(stderr, "btsp merge: RUN_A RUN_B --out DIR are required\n");
        return 2;
    }
    size_t ol = strlen(out);
    while (ol > 1 && out[ol - 1] == '/')
        ol--; /* "DIR/" names DIR */
    if (ol == 0 || ol >= sizeof out_buf) {
        fprintf(stderr, "btsp merge: bad --out '%s'\n", o->out);
        return 2;
    }
    snprintf(out_buf, sizeof out_buf, "%.*s", (int)ol, out);
    out = out_buf;
    if (!read_run(&a, o->weights) || !read_run(&b, o->run2))
        goto done;
    if (!realpath(a.dir, abs_a) || !realpath(b.dir, abs_b)) {
        fprintf(stderr, "btsp merge: cannot resolve the run directories: %s\n", strerror(errno));
        goto done;
    }
    if (strcmp(abs_a, abs_b) == 0) {
        fprintf(stderr, "btsp merge: %s and %s are the same directory\n", a.dir, b.dir);
        goto done;
    }
    {
        /* DIR must not be inside either input: check the nearest directory on its path that
         * exists (its missing parents are created later, so they cannot be checked themselves) */
        char anc[4096], abs_p[PATH_MAX];
        struct stat st;
        parent_of(out, anc, sizeof anc);
        while (stat(anc, &st) != 0 && strcmp(anc, ".") != 0 && strcmp(anc, "/") != 0) {
            char up[4096];
            parent_of(anc, up, sizeof up);
            snprintf(anc, sizeof anc, "%s", up);
        }
        if (realpath(anc, abs_p)) {
            const char *ins[2] = {abs_a, abs_b};
            for (int k = 0; k < 2; k++) {
                size_t n = strlen(ins[k]);
                if (strncmp(abs_p, ins[k], n) == 0 && (abs_p[n] == '\0' || abs_p[n] == '/')) {
                    fprintf(stderr, "btsp merge: --out %s is inside the input %s: give a directory outside both runs\n",
                            out, ins[k]);
                    goto done;
                }
            }
        }
    }
    struct stat sb;
    if (stat(out, &sb) == 0) {
        fprintf(stderr, "btsp merge: %s exists: give a new directory for the merged run\n", out);
        goto done;
    }
    /* the same run, continued */
    static const char *const same[] = {"data",      "seed",     "data_seed",          "rng",
                                       "order",     "history_interval", "dendrite_populations",
                                       "plateau_population", "train_rows", "val_rows", "test_rows"};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
        if (!same_raw(&a, &b, same[k]) && !(strcmp(same[k], "data") == 0 && same_data_path(&a, &b)) &&
            !(strcmp(same[k], "order") == 0 && same_order_contents(&a, &b))) {
            fprintf(stderr, "btsp merge: \"%s\" differs between %s and %s: not one run\n", same[k], a.dir, b.dir);
            goto done;
        }
    unsigned long long interval = 0;
    if (!cli_json_get_u64(b.json, "history_interval", &interval) || interval == 0) {
        fprintf(stderr, "btsp merge: the runs have no weight snapshots (--history-interval 0): merge needs them to "
                        "check that %s continues %s and to join their histories\n",
                b.dir, a.dir);
        goto done;
    }
    char ca[4096], cb[4096];
    if (!cli_path(ca, sizeof ca, a.dir, "config.yaml") || !cli_path(cb, sizeof cb, b.dir, "config.yaml") ||
        !same_file(ca, cb)) {
        fprintf(stderr, "btsp merge: the config.yaml copies of %s and %s differ (or one is missing): not one run\n",
                a.dir, b.dir);
        goto done;
    }
    char resumed[4096];
    if (!cli_json_get_string(b.json, "resumed_from", resumed, sizeof resumed)) {
        fprintf(stderr, "btsp merge: %s was not resumed (run.json \"resumed_from\" is null): nothing to merge it "
                        "after\n",
                b.dir);
        goto done;
    }
    if (b.first < a.first || b.first > a.done) {
        fprintf(stderr, "btsp merge: %s starts at sample %llu, outside the samples %llu .. %llu that %s covers\n",
                b.dir, b.first, a.first, a.done, a.dir);
        goto done;
    }
    size_t na = 0, nb = 0;
    snaps_a = cli_list_snapshots(a.dir, a.done, &na);
    snaps_b = cli_list_snapshots(b.dir, b.done, &nb);
    snaps = malloc((na + nb + 1) * sizeof *snaps);
    if (!snaps) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    if (!nb || snaps_b[0] != b.first || !same_snapshot(&a, &b, b.first)) {
        fprintf(stderr, "btsp merge: %s/snapshots/%llu and %s/snapshots/%llu are not the same weights: %s did not "
                        "resume from this run's checkpoint\n",
                a.dir, b.first, b.dir, b.first, b.dir);
        goto done;
    }
    /* plateau rasters: the samples both recorded */
    unsigned long long sa = a.stride >= 1.0 ? (unsigned long long)a.stride : 1,
                       sbr = b.stride >= 1.0 ? (unsigned long long)b.stride : 1;
    unsigned long long stride = sa / gcd_ull(sa, sbr) * sbr;
    if (sa != sbr)
        fprintf(stderr, "btsp merge: the plateau rasters were recorded every %llu and every %llu samples: the merged "
                        "one keeps every %llu\n",
                sa, sbr, stride);

    /* build under a temporary name beside DIR (its parent directories created, as --out of a run) */
    catch_signals(old_actions);
    caught = 1;
    {
        char parent[4096];
        parent_of(out, parent, sizeof parent);
        if (stat(parent, &sb) != 0 && !cli_make_dir(parent))
            goto done;
    }
    remove_stale_builds(out);
    if (snprintf(tmpdir, sizeof tmpdir, "%s.merge-XXXXXX", out) >= (int)sizeof tmpdir || !mkdtemp(tmpdir)) {
        fprintf(stderr, "btsp merge: cannot create a directory beside %s: %s\n", out, strerror(errno));
        tmpdir[0] = '\0';
        goto done;
    }
    built = 1;
    {
        mode_t um = umask(0);
        umask(um);
        chmod(tmpdir, 0777 & ~um); /* mkdtemp made it 0700; a run directory is not private */
    }
    if ((owner_fd = own_build(tmpdir)) < 0)
        goto done;
    size_t n = 0;
    char src[4096], dst[4096], name[64];
    int ok = 1;
    for (size_t i = 0; ok && !merge_signal && i < na && snaps_a[i] < b.first; i++) {
        snprintf(name, sizeof name, "snapshots/%llu", snaps_a[i]);
        ok = cli_path(src, sizeof src, a.dir, name) && cli_path(dst, sizeof dst, tmpdir, name) &&
             copy_dir_files(src, dst, NULL);
        snaps[n++] = snaps_a[i];
    }
    /* B's first snapshot is one an uninterrupted run takes only on the --history-interval grid
     * (or at its own start); B's snapshot at its last checkpoint stays (analyze's final weights) */
    int drop_seam = b.first % interval != 0 && b.first > a.first && b.first < b.done;
    for (size_t i = drop_seam ? 1 : 0; ok && !merge_signal && i < nb; i++) {
        snprintf(name, sizeof name, "snapshots/%llu", snaps_b[i]);
        ok = cli_path(src, sizeof src, b.dir, name) && cli_path(dst, sizeof dst, tmpdir, name) &&
             copy_dir_files(src, dst, NULL);
        snaps[n++] = snaps_b[i];
    }
    /* B's top level: config, state, and (if it finished) the final weights */
    ok = ok && copy_dir_files(b.dir, tmpdir, b.complete ? is_record : is_record_or_weights);
    size_t keep = (size_t)(b.first - a.first);
    ok = ok && merge_npy(&a, &b, tmpdir, "loss_history.npy", keep, 1, 1, 1) &&
         merge_npy(&a, &b, tmpdir, "train_output.npy", keep, 1, 1, 1);
    /* the plateau raster run.json names (another plateaus_*.npy in B's directory is an earlier
     * run's) */
    char file[256] = "", pop[200];
    if (!cli_json_get_string(b.json, "plateau_file", file, sizeof file) &&
        cli_json_get_string(b.json, "plateau_population", pop, sizeof pop)) {
        /* run directories written before "plateau_file": plateaus_<Layer><Pop>.npy from the full
         * name "Layer.Pop" (population names have no dot) */
        char *dot = strrchr(pop, '.');
        if (dot)
            memmove(dot, dot + 1, strlen(dot));
        snprintf(file, sizeof file, "plateaus_%s.npy", pop);
    }
    if (ok && file[0] && !strchr(file, '/')) {
        size_t keep_p = (size_t)(b.first / sa - a.first / sa);
        ok = merge_npy(&a, &b, tmpdir, file, keep_p, (size_t)sa, (size_t)sbr, (size_t)stride);
    }
    ok = ok && merge_csv(&a, &b, tmpdir, "dend_history.csv", b.first + 1, 0, 1) &&
         merge_csv(&a, &b, tmpdir, "val_history.csv", b.first, drop_seam ? b.first + 1 : 0, 0);
    if (ok && cli_path(src, sizeof src, b.dir, "val_window.csv") && stat(src, &sb) == 0)
        ok = cli_path(dst, sizeof dst, tmpdir, "val_window.csv") && copy_file(src, dst);
    if (ok && cli_path(src, sizeof src, a.dir, "val_window.csv") && stat(src, &sb) == 0)
        fprintf(stderr, "btsp merge: %s's windowed validation (val_window.csv) ends before the merged run does: "
                        "left out\n",
                a.dir);
    ok = ok && !merge_signal && cli_path(dst, sizeof dst, tmpdir, "run.json") &&
         write_run_json(dst, &a, &b, snaps, n, stride, abs_a, abs_b);
    if (!ok || merge_signal)
        goto done;
    if (cli_path(src, sizeof src, tmpdir, OWNER_FILE) && unlink(src) != 0) {
        fprintf(stderr, "btsp merge: cannot remove %s: %s\n", src, strerror(errno));
        goto done;
    }
    if (rename(tmpdir, out) != 0) {
        fprintf(stderr, "btsp merge: cannot rename %s to %s: %s\n", tmpdir, out, strerror(errno));
        goto done;
    }
    built = 0;
    if (!realpath(out, abs_out))
        snprintf(abs_out, sizeof abs_out, "%s", out);
    printf("btsp merge: %s = %s (samples %llu..%llu) + %s (%llu..%llu), %zu snapshots\n", out, a.dir, a.first,
           b.first, b.dir, b.first, b.done, n);
    printf("{");
    cli_json_string(stdout, "command", "merge", 0);
    cli_json_string(stdout, "out", abs_out, 0);
    printf("\"first_sample\": %llu, \"samples_done\": %llu, \"complete\": %s, \"snapshots\": %zu}\n", a.first, b.done,
           b.complete ? "true" : "false", n);
    rc = 0;
done:
    if (built && tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (owner_fd >= 0)
        close(owner_fd); /* after the rename or the removal: the lock guarded the directory till then */
    free(snaps_a);
    free(snaps_b);
    free(snaps);
    free(a.json);
    free(b.json);
    if (caught)
        restore_signals(old_actions);
    if (merge_signal && rc != 0) {
        fprintf(stderr, "btsp merge: interrupted by signal %d: %s not written, temporary files removed\n",
                (int)merge_signal, out);
        raise(merge_signal); /* die of it, as the caller expects (its old action, normally the default) */
    }
    return rc;
}
