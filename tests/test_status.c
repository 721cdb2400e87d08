/* Status codes and version: pinned numbers, names, descriptions, unknown codes, and the
 * compile-time version macros against the runtime functions. */
#include "test_support.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef struct code_row {
    int code;
    int pinned;
    const char *name;
} code_row;

#define ROW(c, n) {c, n, #c}
static const code_row codes[] = {
    ROW(BTSP_OK, 0),
    ROW(BTSP_STOPPED, 1),
    ROW(BTSP_E_INVALID_ARG, -1),
    ROW(BTSP_E_NOMEM, -2),
    ROW(BTSP_E_STATE, -3),
    ROW(BTSP_E_RANGE, -4),
    ROW(BTSP_E_SHAPE, -5),
    ROW(BTSP_E_NOT_FOUND, -6),
    ROW(BTSP_E_NUMERIC, -7),
    ROW(BTSP_E_UNSUPPORTED, -8),
    ROW(BTSP_E_IO, -9),
    ROW(BTSP_E_FORMAT, -10),
    ROW(BTSP_E_CALLBACK, -11),
    ROW(BTSP_E_EXISTS, -12),
    ROW(BTSP_E_INTERNAL, -13),
};
#define N_CODES (sizeof codes / sizeof codes[0])

static void test_codes_pinned(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        if (codes[i].code != codes[i].pinned)
            fail_msg("%s = %d, pinned to %d", codes[i].name, codes[i].code, codes[i].pinned);
    }
    /* Success is zero, the one non-error outcome is positive, every error negative. */
    assert_int_equal(BTSP_OK, 0);
    assert_true(BTSP_STOPPED > 0);
    for (size_t i = 2; i < N_CODES; i++)
        assert_true(codes[i].code < 0);
    /* The enum is an int-sized type usable in switch and comparisons. */
    btsp_status s = BTSP_E_INTERNAL;
    assert_int_equal((int)s, -13);
}

static void test_names_and_strings(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        const char *name = btsp_status_name(codes[i].code);
        const char *text = btsp_status_string(codes[i].code);
        assert_non_null(name);
        assert_non_null(text);
        assert_string_equal(name, codes[i].name);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, "unknown status");
        assert_string_not_equal(name, "BTSP_UNKNOWN");
        /* Same pointer on every call (static text). */
        assert_ptr_equal(name, btsp_status_name(codes[i].code));
        assert_ptr_equal(text, btsp_status_string(codes[i].code));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(name, btsp_status_name(codes[j].code)) == 0)
                fail_msg("codes %d and %d share the name '%s'", codes[i].code, codes[j].code, name);
            if (strcmp(text, btsp_status_string(codes[j].code)) == 0)
                fail_msg("codes %d and %d share the description '%s'", codes[i].code, codes[j].code, text);
        }
    }
}

static void test_unknown_codes(void **state)
{
    (void)state;
    const int unknown[] = {-14, -100, 2, 3, 99, -2385, INT_MIN, INT_MAX, 1000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = btsp_status_name(unknown[i]);
        const char *text = btsp_status_string(unknown[i]);
        assert_non_null(name);
        assert_non_null(text);
        assert_string_equal(name, "BTSP_UNKNOWN");
        assert_string_equal(text, "unknown status");
        for (size_t j = 0; j < N_CODES; j++)
            assert_string_not_equal(text, btsp_status_string(codes[j].code));
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(btsp_version_major(), BTSP_VERSION_MAJOR);
    assert_int_equal(btsp_version_minor(), BTSP_VERSION_MINOR);
    assert_int_equal(btsp_version_patch(), BTSP_VERSION_PATCH);
    assert_int_equal(btsp_version_number(), BTSP_VERSION_NUMBER);
    assert_int_equal(BTSP_VERSION_NUMBER,
                     BTSP_VERSION_MAJOR * 10000 + BTSP_VERSION_MINOR * 100 + BTSP_VERSION_PATCH);
    assert_int_equal(btsp_version_number(),
                     btsp_version_major() * 10000u + btsp_version_minor() * 100u + btsp_version_patch());
    /* Minor and patch must fit their two decimal digits for the packed number to be unique. */
    assert_true(BTSP_VERSION_MINOR < 100);
    assert_true(BTSP_VERSION_PATCH < 100);

    char buf[64];
    snprintf(buf, sizeof buf, "%u.%u.%u", btsp_version_major(), btsp_version_minor(), btsp_version_patch());
    assert_non_null(btsp_version_string());
    assert_string_equal(btsp_version_string(), buf);
    assert_string_equal(BTSP_VERSION_STRING, buf);
    assert_string_equal(btsp_version_string(), BTSP_VERSION_STRING);

    /* Parse the string back independently of the formatting above. */
    unsigned ma = 999, mi = 999, pa = 999;
    char tail = 0;
    assert_int_equal(sscanf(btsp_version_string(), "%u.%u.%u%c", &ma, &mi, &pa, &tail), 3);
    assert_int_equal(ma, BTSP_VERSION_MAJOR);
    assert_int_equal(mi, BTSP_VERSION_MINOR);
    assert_int_equal(pa, BTSP_VERSION_PATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_pinned),
        cmocka_unit_test(test_names_and_strings),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
