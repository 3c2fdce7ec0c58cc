/* What tests/c's programs check with: CHECK and EXPECT count passes and failures (each
 * program's main prints them and fails when any failed), and print the failed condition, or the
 * call with the status it returned and the last error message. Included once per program. */
#ifndef INVENTORY_TESTS_CHECK_H
#define INVENTORY_TESTS_CHECK_H

#include "inventory.h"

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            passed++;                                                                  \
        } else {                                                                       \
            failed++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

/* Calls `call` and checks it returned `want`; on a mismatch prints the last error. */
#define EXPECT(want, call)                                                             \
    do {                                                                               \
        InvStatus got_ = (call);                                                       \
        if (got_ == (want)) {                                                          \
            passed++;                                                                  \
        } else {                                                                       \
            failed++;                                                                  \
            fprintf(stderr, "%s:%d: %s\n  returned %s (%s), expected %s\n", __FILE__,  \
                    __LINE__, #call, inv_status_name((int32_t)got_),                  \
                    got_ == INV_OK ? "" : inv_last_error_message(),                   \
                    inv_status_name((int32_t)(want)));                                 \
        }                                                                              \
    } while (0)

#define OK(call) EXPECT(INV_OK, call)

static int streq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

#endif
