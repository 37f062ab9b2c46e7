/* test_golden.c - golden tests of the optimisation passes: IR text in, pipeline, IR text out.
 *
 * Every tests/golden/<dir>/<case>.ir is parsed (ir_parse_model), type-inferred and run through
 *   - the pass pipeline named by <dir> ("fold", "fuse_epilogue", ...), or
 *   - <dir> "O1".."O3": that level's pipeline, or
 *   - <dir> "plan": the whole compile pipeline at -O0 (lowering and the memory plan, so the
 *     dump shows kernels and @ws offsets), or
 *   - the pipeline written in <case>.pipeline when that file exists,
 * then printed in full (ir_print_model) and compared byte for byte with <case>.expected.
 *
 * After an intended change of a pass, regenerate the expected files and review the diff:
 *     ONNXC_GOLDEN_UPDATE=1 build/test_golden && git diff tests/golden
 * (the inputs come from tests/golden/make_inputs.py; see docs/PASSES.md, "Golden tests").
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/ir.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"

#define GOLDEN_DIR ONNXC_SOURCE_DIR "/tests/golden"

/* Reads a whole file (malloc-owned, NUL-terminated); NULL if absent. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = 0;
        if (len)
            *len = (size_t)n;
    }
    return s;
}

/* Runs one case; returns the printed IR (malloc-owned) or NULL after printing why. */
static char *run_case(const char *dir, const char *ir_path, const char *pipe_path) {
    size_t len = 0;
    char *text = slurp(ir_path, &len);
    if (!text) {
        print_error("%s: cannot read\n", ir_path);
        return NULL;
    }
    IrDiag d;
    ir_diag_init(&d, ir_path);
    IrModel *m = ir_parse_model(text, len, ir_path, &d);
    free(text);
    char *out = NULL;
    size_t outlen = 0;
    int ok = 0;
    if (m) {
        char *custom = slurp(pipe_path, NULL);
        if (custom) /* one line: the pipeline */
            custom[strcspn(custom, "\r\n")] = 0;
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        o.verify_each = 1;
        if (!custom && strcmp(dir, "plan") == 0) {
            o.opt_level = 0;
            ok = onnxc_prepare(m, &o, &d) == 0;
        } else if (pass_infer(m->graph, &d) == 0) {
            const char *pl = custom ? custom : dir;
            if (dir[0] == 'O' && dir[1] >= '0' && dir[1] <= '3' && !dir[2] && !custom)
                pl = pm_pipeline_for_level(dir[1] - '0');
            PassCtx cx;
            pm_ctx_init(&cx, &o, &d);
            ok = pm_run_pipeline(m, &cx, pl) >= 0 && ir_verify(m->graph, &d) == 0;
            pm_ctx_free(&cx);
        }
        free(custom);
        if (ok) {
            FILE *f = open_memstream(&out, &outlen);
            ok = f && ir_print_model(m, f, 1) == 0;
            if (f)
                fclose(f);
        }
    }
    if (!ok) {
        for (int i = 0; i < d.nentries; i++)
            print_error("%s\n", d.entries[i].msg);
        free(out);
        out = NULL;
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
    return out;
}

/* Prints the first differing line of two texts. */
static void show_diff(const char *name, const char *want, const char *got) {
    int line = 1;
    const char *a = want, *b = got;
    while (*a && *b && *a == *b) {
        if (*a == '\n')
            line++;
        a++;
        b++;
    }
    while (a > want && a[-1] != '\n') a--;
    while (b > got && b[-1] != '\n') b--;
    print_error("%s: differs at line %d\n  expected: %.*s\n  got:      %.*s\n", name, line,
                (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
}

static void test_golden(void **state) {
    (void)state;
    const char *update = getenv("ONNXC_GOLDEN_UPDATE");
    int do_update = update && *update && strcmp(update, "0") != 0;
    DIR *top = opendir(GOLDEN_DIR);
    assert_non_null(top);
    int ncases = 0, nfail = 0, nupdated = 0;
    char dirs[64][64];
    int ndirs = 0;
    struct dirent *e;
    while ((e = readdir(top)) && ndirs < 64)
        if (e->d_name[0] != '.' && strlen(e->d_name) < 64 && !strchr(e->d_name, '.'))
            strcpy(dirs[ndirs++], e->d_name);
    closedir(top);
    for (int i = 0; i < ndirs; i++) {
        char dp[512];
        snprintf(dp, sizeof dp, "%s/%s", GOLDEN_DIR, dirs[i]);
        DIR *dd = opendir(dp);
        if (!dd)
            continue;
        while ((e = readdir(dd))) {
            size_t n = strlen(e->d_name);
            if (n < 4 || strcmp(e->d_name + n - 3, ".ir") != 0 || n > 200)
                continue;
            char base[256], ir[800], exp[800], pipe[800];
            snprintf(base, sizeof base, "%.*s", (int)(n - 3), e->d_name);
            snprintf(ir, sizeof ir, "%s/%s.ir", dp, base);
            snprintf(exp, sizeof exp, "%s/%s.expected", dp, base);
            snprintf(pipe, sizeof pipe, "%s/%s.pipeline", dp, base);
            ncases++;
            char *got = run_case(dirs[i], ir, pipe);
            if (!got) {
                print_error("golden %s/%s: the pipeline failed\n", dirs[i], base);
                nfail++;
                continue;
            }
            char *want = slurp(exp, NULL);
            if (do_update) {
                if (!want || strcmp(want, got) != 0) {
                    FILE *f = fopen(exp, "wb");
                    assert_non_null(f);
                    fputs(got, f);
                    fclose(f);
                    nupdated++;
                    print_message("updated %s\n", exp);
                }
            } else if (!want) {
                print_error("golden %s/%s: no %s (run with ONNXC_GOLDEN_UPDATE=1)\n", dirs[i],
                            base, exp);
                nfail++;
            } else if (strcmp(want, got) != 0) {
                char nm[300];
                snprintf(nm, sizeof nm, "golden %s/%s", dirs[i], base);
                show_diff(nm, want, got);
                nfail++;
            }
            free(want);
            free(got);
        }
        closedir(dd);
    }
    print_message("golden: %d cases, %d failed%s\n", ncases, nfail,
                  do_update ? " (update mode)" : "");
    if (do_update)
        print_message("golden: %d expected files rewritten\n", nupdated);
    assert_true(ncases >= 10);
    assert_int_equal(nfail, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
