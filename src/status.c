/* Status codes and version: static data only, thread-safe. */
#include "internal.h"

/* One row per code; the numbers are pinned by the enum and checked by tests/test_status.c. */
static const struct {
    int code;
    const char *name;
    const char *text;
} status_table[] = {
    {BTSP_OK, "BTSP_OK", "success"},
    {BTSP_STOPPED, "BTSP_STOPPED", "stopped by a callback"},
    {BTSP_E_INVALID_ARG, "BTSP_E_INVALID_ARG", "invalid argument"},
    {BTSP_E_NOMEM, "BTSP_E_NOMEM", "out of memory"},
    {BTSP_E_STATE, "BTSP_E_STATE", "call not allowed in the current state"},
    {BTSP_E_RANGE, "BTSP_E_RANGE", "value out of range"},
    {BTSP_E_SHAPE, "BTSP_E_SHAPE", "size mismatch"},
    {BTSP_E_NOT_FOUND, "BTSP_E_NOT_FOUND", "not found"},
    {BTSP_E_NUMERIC, "BTSP_E_NUMERIC", "non-finite value"},
    {BTSP_E_UNSUPPORTED, "BTSP_E_UNSUPPORTED", "not supported by this version"},
    {BTSP_E_IO, "BTSP_E_IO", "input/output error"},
    {BTSP_E_FORMAT, "BTSP_E_FORMAT", "malformed input"},
    {BTSP_E_CALLBACK, "BTSP_E_CALLBACK", "a callback reported an error"},
    {BTSP_E_EXISTS, "BTSP_E_EXISTS", "already exists or already attached"},
    {BTSP_E_INTERNAL, "BTSP_E_INTERNAL", "internal error"},
};

const char *btsp_status_string(int status)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == status)
            return status_table[i].text;
    return "unknown status";
}

const char *btsp_status_name(int status)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == status)
            return status_table[i].name;
    return "BTSP_UNKNOWN";
}

unsigned btsp_version_number(void) { return BTSP_VERSION_NUMBER; }
const char *btsp_version_string(void) { return BTSP_VERSION_STRING; }
unsigned btsp_version_major(void) { return BTSP_VERSION_MAJOR; }
unsigned btsp_version_minor(void) { return BTSP_VERSION_MINOR; }
unsigned btsp_version_patch(void) { return BTSP_VERSION_PATCH; }
