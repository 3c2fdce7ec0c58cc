/* One handle shared by several pthreads at once: sales (reserve then commit), transfers
 * between two locations, idempotent restocks retried by every thread with the same keys, and
 * reads, all racing. Afterwards stock is conserved exactly, nothing was applied twice, no
 * reservation leaked, verify() passes, and each thread saw only its own last error.
 * Usage: test_threads DB_PATH */
#define _POSIX_C_SOURCE 200809L
#include "inventory.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 40
#define INITIAL 1000

static InvHandle *h;
static char product[INV_UUID_LEN];
static pthread_barrier_t start;

struct result {
    int me;
    int sales;       /* reserve + commit pairs that succeeded */
    int refused;     /* transfers refused for lack of stock at the source (allowed) */
    int unexpected;  /* any other failure */
    int own_error;   /* the thread's last error survived the others' failures */
};

static void fail(struct result *r, const char *what, InvStatus s) {
    r->unexpected++;
    fprintf(stderr, "thread %d: %s: %s: %s\n", r->me, what, inv_status_name((int32_t)s),
            inv_last_error_message());
}

static void *worker(void *arg) {
    struct result *r = arg;
    char reference[64], key[64], bad_id[64];
    InvStockOp op;
    InvLevel level, to;
    InvStatus s;

    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS; round++) {
        /* A sale: reserve under a reference of our own, then commit it. */
        snprintf(reference, sizeof reference, "T%d-R%d", r->me, round);
        inv_stock_op_init(&op, INV_OP_RESERVE, product, 1);
        op.reference = reference;
        s = inv_reserve_stock(h, &op, NULL, &level);
        inv_level_free(&level);
        if (s != INV_OK) {
            fail(r, "reserve", s);
        } else {
            inv_stock_op_init(&op, INV_OP_COMMIT, product, 0);
            op.has_quantity = false;
            op.reference = reference;
            s = inv_commit_reservation(h, &op, NULL, &level);
            inv_level_free(&level);
            if (s == INV_OK) r->sales++;
            else fail(r, "commit", s);
        }

        /* A transfer, half the threads one way and half the other. */
        inv_stock_op_init(&op, INV_OP_TRANSFER, product, 3);
        op.location = r->me % 2 ? "B" : "A";
        op.to_location = r->me % 2 ? "A" : "B";
        s = inv_transfer_stock(h, &op, NULL, &level, &to);
        inv_level_free(&level);
        inv_level_free(&to);
        if (s == INV_ERR_INSUFFICIENT_STOCK) r->refused++;
        else if (s != INV_OK) fail(r, "transfer", s);

        /* Every thread retries the same idempotent restock: it must apply once per round. */
        snprintf(key, sizeof key, "restock-%d", round);
        inv_stock_op_init(&op, INV_OP_ADD, product, 1);
        op.location = "A";
        s = inv_add_stock(h, &op, key, &level);
        inv_level_free(&level);
        if (s != INV_OK) fail(r, "restock", s);

        InvStockSummary summary;
        s = inv_get_inventory(h, product, &summary);
        if (s != INV_OK || summary.totals.reserved < 0 || summary.totals.on_hand < 0)
            fail(r, "read", s);
        inv_stock_summary_free(&summary);
    }

    /* Every thread fails with a message only it can produce, waits until all have, and must
     * still find its own: the last error is per thread. */
    snprintf(bad_id, sizeof bad_id, "thread-%d-bad-id", r->me);
    InvProductWithStock p;
    if (inv_get_product(h, bad_id, &p) != INV_ERR_INVALID_ARGUMENT) r->unexpected++;
    pthread_barrier_wait(&start);
    r->own_error = strstr(inv_last_error_message(), bad_id) != NULL;
    return NULL;
}

struct waiter {
    int64_t after, latest;
    InvStatus status;
};

/* Follows the change feed: blocks until something newer than `after` commits. */
static void *wait_for_feed(void *arg) {
    struct waiter *w = arg;
    w->status = inv_wait_for_changes(h, w->after, 60000, &w->latest);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DB_PATH\n", argv[0]);
        return 2;
    }
    int passed = 0, failed = 0;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) passed++;                                                          \
        else {                                                                       \
            failed++;                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

    CHECK(inv_open(argv[1], &h) == INV_OK);
    InvNewProduct np = {0};
    np.name = "Widget";
    np.sku = "WID-1";
    np.price = "2.50";
    np.location = "A";
    np.initial_quantity = INITIAL;
    InvProductWithStock created;
    CHECK(inv_create_product(h, &np, NULL, &created) == INV_OK);
    memcpy(product, created.product.id, INV_UUID_LEN);
    inv_product_with_stock_free(&created);
    InvLocation loc;
    CHECK(inv_create_location(h, "B", NULL, &loc) == INV_OK);
    inv_location_free(&loc);

    pthread_t threads[THREADS];
    struct result results[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].me = i;
        CHECK(pthread_create(&threads[i], NULL, worker, &results[i]) == 0);
    }
    int sales = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        sales += results[i].sales;
        CHECK(results[i].unexpected == 0);
        CHECK(results[i].own_error);
    }
    pthread_barrier_destroy(&start);
    CHECK(sales == THREADS * ROUNDS);

    /* Conservation: the initial stock, plus one restock per round (not per thread), minus
     * every sale; transfers only move stock between A and B. */
    InvStockSummary s;
    CHECK(inv_get_inventory(h, product, &s) == INV_OK);
    CHECK(s.totals.on_hand == INITIAL + ROUNDS - sales);
    CHECK(s.totals.reserved == 0);
    CHECK(s.locations.len == 2);
    inv_stock_summary_free(&s);
    /* A feed follower blocked in inv_wait_for_changes wakes when another thread commits
     * (the timeout is a minute; the write comes at once). */
    struct waiter w = {0, -1, INV_ERR_PANIC};
    CHECK(inv_wait_for_changes(h, 0, 0, &w.after) == INV_OK); /* the latest sequence number */
    InvChangePage page;
    CHECK(inv_changes(h, w.after, 0, &page) == INV_OK && page.movements.len == 0);
    inv_change_page_free(&page);
    pthread_t follower;
    CHECK(pthread_create(&follower, NULL, wait_for_feed, &w) == 0);
    InvStockOp op;
    InvLevel level;
    inv_stock_op_init(&op, INV_OP_ADD, product, 1);
    CHECK(inv_add_stock(h, &op, NULL, &level) == INV_OK);
    inv_level_free(&level);
    pthread_join(follower, NULL);
    CHECK(w.status == INV_OK && w.latest == w.after + 1);

    InvReservationList open;
    CHECK(inv_list_reservations(h, product, &open) == INV_OK);
    CHECK(open.len == 0);
    inv_reservation_list_free(&open);
    InvVerifyReport report;
    CHECK(inv_verify(h, &report) == INV_OK);
    CHECK(report.ok);
    for (size_t i = 0; i < report.problems_len; i++) fprintf(stderr, "verify: %s\n", report.problems[i]);
    inv_verify_report_free(&report);
    inv_close(h);

    printf("threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
