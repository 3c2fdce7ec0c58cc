/* The till's C API end to end against a real central: tests/c/run.sh starts the
 * inventory-server binary on CENTRAL_DB (keys required) and makes KEY, a write key limited to
 * "Shop" named till-c. This program adds the products at central through the engine on the
 * same file, then opens tills on real files: every till function, its error paths, a sale
 * made with central unreachable and pushed once afterwards, a lapsed lease's conflict and its
 * resolution, a background sync, and central listing its tills and taking them over. Run
 * under valgrind.
 * Usage: test_till DIR CENTRAL_URL KEY CENTRAL_DB */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static int starts_with(const char *s, const char *prefix) {
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int64_t micros(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Polls `holds(arg)` until it is true (1), or 0 once `timeout_ms` has passed: a test waits for
 * what it needs, never a fixed time. */
static int wait_until(int (*holds)(void *), void *arg, long timeout_ms) {
    const struct timespec pause = {0, 10 * 1000000L};
    int64_t deadline = micros(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000;
    while (!holds(arg)) {
        if (micros(CLOCK_MONOTONIC) > deadline)
            return 0;
        nanosleep(&pause, NULL);
    }
    return 1;
}

static char dir[1024], till_db[1200], conflict_db[1200], background_db[1200];
static const char *url, *key, *central_db;
/* Nothing listens there: central, as far as a till opened with it can tell, is down. */
static const char *down = "http://127.0.0.1:1";

/* A product at central's "Shop" with `quantity` on hand; its id goes to `id`. */
static void central_product(InvHandle *central, const char *sku, int64_t quantity,
                            char id[INV_UUID_LEN]) {
    InvNewProduct p = {0};
    p.name = sku;
    p.sku = sku;
    p.price = "3.20";
    p.location = "Shop";
    p.initial_quantity = quantity;
    InvProductWithStock created;
    OK(inv_create_product(central, &p, NULL, &created));
    memcpy(id, created.product.id, INV_UUID_LEN);
    inv_product_with_stock_free(&created);
}

static size_t pending_len(InvTill *t) {
    InvSaleList pending;
    OK(inv_till_pending(t, &pending));
    size_t len = pending.len;
    inv_sale_list_free(&pending);
    return len;
}

static void test_open_refusals(void) {
    InvTill *t = (InvTill *)1;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_open(NULL, url, key, "T-C", "Shop", &t));
    CHECK(t == NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_open(till_db, url, NULL, "T-C", "Shop", &t));
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_till_open(till_db, url, key, "T C", "Shop", &t));
    CHECK(streq(inv_last_error_field(), "till_id"));
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_till_open(till_db, "ftp://x", key, "T-C", "Shop", &t));
    CHECK(streq(inv_last_error_field(), "central_url"));
    InvTillOptions negative = {0};
    negative.lease_seconds = -1;
    EXPECT(INV_ERR_INVALID_ARGUMENT,
           inv_till_open_with(till_db, url, key, "T-C", "Shop", &negative, &t));
    CHECK(t == NULL);
    negative.lease_seconds = 0;
    negative.retention_seconds = -1;
    EXPECT(INV_ERR_INVALID_ARGUMENT,
           inv_till_open_with(till_db, url, key, "T-C", "Shop", &negative, &t));
    CHECK(t == NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_open(till_db, url, key, "T-C", "Shop", NULL));
}

static void test_selling_and_syncing(InvHandle *central, const char *a) {
    InvTill *t;
    OK(inv_till_open(till_db, url, key, "T-C", "Shop", &t));
    /* One process (one open till) per till's files. */
    InvTill *again = (InvTill *)1;
    EXPECT(INV_ERR_BUSY, inv_till_open(till_db, url, key, "T-C", "Shop", &again));
    CHECK(again == NULL);

    EXPECT(INV_ERR_VALIDATION_ERROR, inv_till_set_target(t, a, -1));
    CHECK(streq(inv_last_error_field(), "target"));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_set_target(t, "not-a-uuid", 1));
    OK(inv_till_set_target(t, a, 5));
    InvSyncReport report;
    OK(inv_till_sync(t, &report));
    CHECK(report.complete);
    CHECK(report.error_code == NULL && report.error_message == NULL);
    CHECK(report.catalogue_created >= 1);
    CHECK(report.allotments_len == 1);
    if (report.allotments_len == 1) {
        CHECK(streq(report.allotments[0].product_id, a));
        CHECK(report.allotments[0].before == 0 && report.allotments[0].after == 5);
        CHECK(report.allotments[0].held == 5);
    }
    inv_sync_report_free(&report);
    inv_sync_report_free(&report); /* twice is harmless */

    InvAllotmentList allotments;
    OK(inv_till_allotments(t, &allotments));
    CHECK(allotments.len == 1);
    if (allotments.len == 1) {
        const InvAllotment *x = &allotments.items[0];
        CHECK(x->target == 5 && x->held == 5 && x->remaining == 5 && x->pending == 0);
        long long left_s = x->lease_expires_at_us / 1000000 - (long long)time(NULL);
        CHECK(x->has_lease && left_s > (long long)INV_TILL_DEFAULT_LEASE_SECONDS - 120 &&
              left_s <= (long long)INV_TILL_DEFAULT_LEASE_SECONDS);
    }
    inv_allotment_list_free(&allotments);

    InvSaleOptions options = {0};
    options.sale_id = "R-1";
    options.notes = "receipt 1";
    options.actor = "cashier-2";
    InvSale sale;
    OK(inv_till_sell(t, a, 2, &options, &sale));
    CHECK(streq(sale.reference, "sale:T-C:R-1"));
    CHECK(streq(sale.product_id, a) && sale.quantity == 2 && !sale.conflict);
    CHECK(streq(sale.notes, "receipt 1") && streq(sale.actor, "cashier-2"));
    CHECK(sale.seq > 0 && sale.sold_at_us > 0);
    inv_sale_free(&sale);
    /* The same POS id again: the first sale, not a second one. */
    OK(inv_till_sell(t, a, 2, &options, &sale));
    CHECK(streq(sale.reference, "sale:T-C:R-1"));
    inv_sale_free(&sale);
    CHECK(pending_len(t) == 1);
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_till_sell(t, a, 4, NULL, &sale));
    CHECK(sale.reference == NULL);
    EXPECT(INV_ERR_NOT_FOUND,
           inv_till_sell(t, "00000000-0000-7000-8000-000000000000", 1, NULL, &sale));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_sell(t, "nope", 1, NULL, &sale));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_till_sell(NULL, a, 1, NULL, &sale));
    inv_till_close(t);

    /* The same till with central unreachable: it sells, keeps the sale, and says so. */
    OK(inv_till_open(till_db, down, key, "T-C", "Shop", &t));
    OK(inv_till_sell(t, a, 1, NULL, &sale));
    CHECK(starts_with(sale.reference, "sale:T-C:"));
    inv_sale_free(&sale);
    OK(inv_till_sync(t, &report));
    CHECK(!report.complete && report.pushed == 0);
    CHECK(streq(report.error_code, "UNREACHABLE") && report.error_message != NULL);
    inv_sync_report_free(&report);
    InvSaleList pending;
    OK(inv_till_pending(t, &pending));
    CHECK(pending.len == 2);
    if (pending.len == 2) {
        CHECK(streq(pending.items[0].reference, "sale:T-C:R-1"));
        CHECK(pending.items[1].quantity == 1 && !pending.items[1].conflict);
    }
    inv_sale_list_free(&pending);
    inv_till_close(t);

    /* Central back: both sales pushed once, the allotment topped up to its target. */
    OK(inv_till_open(till_db, url, key, "T-C", "Shop", &t));
    OK(inv_till_sync(t, &report));
    CHECK(report.complete && report.pushed == 2 && report.already_applied == 0);
    CHECK(!report.rewound && report.repushed == 0);
    CHECK(report.conflicts.len == 0);
    inv_sync_report_free(&report);
    CHECK(pending_len(t) == 0);
    InvConflictList conflicts;
    OK(inv_till_conflicts(t, &conflicts));
    CHECK(conflicts.len == 0 && conflicts.items == NULL);
    inv_conflict_list_free(&conflicts);
    bool applied = true;
    EXPECT(INV_ERR_NOT_FOUND, inv_till_resolve(t, "sale:T-C:none", INV_RESOLUTION_APPLY,
                                               "counted", &applied));
    CHECK(!applied);
    EXPECT(INV_ERR_INVALID_ARGUMENT,
           inv_till_resolve(t, "sale:T-C:R-1", 7, "counted", &applied));
    EXPECT(INV_ERR_INVALID_ARGUMENT,
           inv_till_resolve(t, "sale:T-C:R-1", INV_RESOLUTION_APPLY, NULL, &applied));

    /* The till's own database, read with the usual functions. */
    InvHandle *local;
    OK(inv_till_inventory(t, &local));
    InvLevel level;
    OK(inv_get_stock_level(local, a, "Shop", &level));
    CHECK(level.on_hand == 5);
    inv_level_free(&level);
    InvVerifyReport verified;
    OK(inv_verify(local, &verified));
    CHECK(verified.ok);
    inv_verify_report_free(&verified);
    inv_till_close(t);
    inv_close(local); /* after the till: either order */

    /* At central: each sale is one COMMIT, made with the till's key (its name the actor). */
    InvMovementQuery query = {0};
    query.limit = 100;
    InvMovementList moves;
    OK(inv_list_movements(central, a, &query, &moves));
    int commits = 0, receipt = 0;
    for (size_t i = 0; i < moves.len; i++) {
        const InvMovement *m = &moves.items[i];
        if (!streq(m->kind, "COMMIT")) continue;
        CHECK(starts_with(m->reference, "sale:T-C:"));
        CHECK(streq(m->actor, "till-c"));
        commits++;
        if (streq(m->reference, "sale:T-C:R-1")) {
            receipt++;
            CHECK(m->quantity == 2 && streq(m->notes, "receipt 1"));
        }
    }
    inv_movement_list_free(&moves);
    CHECK(commits == 2 && receipt == 1);
    OK(inv_get_stock_level(central, a, "Shop", &level));
    CHECK(level.on_hand == 17 && level.reserved == 5);
    inv_level_free(&level);
}

static void test_a_lapsed_lease(InvHandle *central, const char *b) {
    InvTillOptions options = {0};
    options.lease_seconds = 1;
    InvTill *t;
    OK(inv_till_open_with(conflict_db, url, key, "T-X", "Shop", &options, &t));
    OK(inv_till_set_target(t, b, 3));
    InvSyncReport report;
    OK(inv_till_sync(t, &report));
    CHECK(report.complete);
    inv_sync_report_free(&report);
    InvSale sale;
    OK(inv_till_sell(t, b, 2, NULL, &sale));
    char reference[128];
    snprintf(reference, sizeof reference, "%s", sale.reference);
    inv_sale_free(&sale);
    /* A web shop on central's file, two seconds on: the lease has lapsed, and the shop's first
     * operation on the product releases it and takes every unit. */
    InvOptions later = {0};
    later.manual_clock = true;
    later.clock_start_us = micros(CLOCK_REALTIME) + 2000000;
    InvHandle *shop;
    OK(inv_open_with(central_db, &later, &shop));
    InvStockOp op;
    InvLevel level;
    inv_stock_op_init(&op, INV_OP_RESERVE, b, 3);
    op.location = "Shop";
    op.reference = "web-1";
    OK(inv_reserve_stock(shop, &op, NULL, &level));
    inv_level_free(&level);
    inv_close(shop);

    OK(inv_till_sync(t, &report));
    CHECK(report.complete && report.pushed == 0);
    CHECK(report.conflicts.len == 1);
    if (report.conflicts.len == 1) {
        const InvConflict *c = &report.conflicts.items[0];
        CHECK(streq(c->sale.reference, reference) && c->sale.conflict);
        CHECK(streq(c->code, "INSUFFICIENT_STOCK") && c->message != NULL);
        CHECK(c->resolution == INV_RESOLUTION_NONE && c->reason == NULL);
    }
    inv_sync_report_free(&report);
    InvSaleList pending;
    OK(inv_till_pending(t, &pending));
    CHECK(pending.len == 1 && pending.items[0].conflict);
    inv_sale_list_free(&pending);

    bool applied = false;
    OK(inv_till_resolve(t, reference, INV_RESOLUTION_DISCARD, "a test sale, voided", &applied));
    CHECK(applied);
    InvConflictList conflicts;
    OK(inv_till_conflicts(t, &conflicts));
    CHECK(conflicts.len == 0);
    inv_conflict_list_free(&conflicts);
    CHECK(pending_len(t) == 0);
    inv_till_close(t);

    /* Central's ledger records the decision, with the reason, under the sale's reference. */
    InvMovementQuery query = {0};
    query.limit = 100;
    InvMovementList moves;
    OK(inv_list_movements(central, b, &query, &moves));
    int found = 0;
    for (size_t i = 0; i < moves.len; i++) {
        const InvMovement *m = &moves.items[i];
        if (streq(m->kind, "ADJUST") && streq(m->reference, reference)) {
            found++;
            CHECK(m->quantity == 0);
            CHECK(m->notes != NULL && strstr(m->notes, "a test sale, voided") != NULL);
        }
        CHECK(!streq(m->kind, "COMMIT"));
    }
    inv_movement_list_free(&moves);
    CHECK(found == 1);
}

struct selling {
    InvTill *till;
    const char *product;
    InvSale sale;
};

/* Sells one unit: refused until a background sync has mirrored the product and the allotment. */
static int sold_one(void *arg) {
    struct selling *s = arg;
    return inv_till_sell(s->till, s->product, 1, NULL, &s->sale) == INV_OK;
}

static int nothing_pending(void *till) {
    return pending_len(till) == 0;
}

static void test_background_sync(const char *a) {
    InvTillOptions options = {0};
    options.sync_interval_ms = 100;
    InvTill *t;
    OK(inv_till_open_with(background_db, url, key, "T-B", "Shop", &options, &t));
    OK(inv_till_set_target(t, a, 2));
    struct selling selling = {0};
    selling.till = t;
    selling.product = a;
    int sold = wait_until(sold_one, &selling, 20000);
    CHECK(sold);
    if (sold)
        inv_sale_free(&selling.sale);
    CHECK(wait_until(nothing_pending, t, 20000));
    inv_till_close(t);
}

/* The till registered under `id` in `tills`, or NULL. */
static const InvTillStatus *find_till(const InvTillStatusList *tills, const char *id) {
    for (size_t i = 0; i < tills->len; i++)
        if (streq(tills->items[i].till.id, id))
            return &tills->items[i];
    return NULL;
}

/* Central's view of its tills, then two take-overs: T-C's allotment released, T-B's kept for
 * its next instance. Owners show in every read of a reservation. */
static void test_central_lists_tills_and_takes_them_over(InvHandle *central, const char *a) {
    InvTillStatusList tills;
    OK(inv_tills(central, &tills));
    CHECK(tills.len == 3); /* T-C, T-X and T-B */
    const InvTillStatus *c = find_till(&tills, "T-C");
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK(streq(c->till.key, "till-c") && streq(c->till.location, "Shop"));
        CHECK(c->till.instance_id != NULL && strlen(c->till.instance_id) > 0);
        CHECK(c->till.registered_at_us > 0 && c->till.last_sync_at_us >= c->till.registered_at_us);
        CHECK(c->lag_seconds >= 0);
        CHECK(c->allotments.len == 1);
        if (c->allotments.len == 1) {
            const InvReservation *r = &c->allotments.items[0];
            CHECK(streq(r->product_id, a) && streq(r->reference, "till:T-C"));
            CHECK(r->quantity == 5 && r->has_expiry && streq(r->owner, "till-c"));
        }
    }
    const InvTillStatus *bg = find_till(&tills, "T-B");
    int64_t held_by_b = 0;
    CHECK(bg != NULL);
    if (bg != NULL)
        for (size_t i = 0; i < bg->allotments.len; i++)
            held_by_b += bg->allotments.items[i].quantity;
    CHECK(held_by_b > 0);
    inv_till_status_list_free(&tills);
    CHECK(tills.items == NULL && tills.len == 0);

    /* The library's own reservation has no owner; a till's, its key's name. */
    InvStockOp op;
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, a, 1));
    op.location = "Shop";
    op.reference = "web-1";
    InvLevel level;
    OK(inv_reserve_stock(central, &op, NULL, &level));
    inv_level_free(&level);
    InvReservationList held;
    OK(inv_list_reservations(central, a, &held));
    int web = 0, till = 0;
    for (size_t i = 0; i < held.len; i++) {
        if (streq(held.items[i].reference, "web-1")) {
            web++;
            CHECK(held.items[i].owner == NULL);
        } else if (streq(held.items[i].reference, "till:T-C")) {
            till++;
            CHECK(streq(held.items[i].owner, "till-c"));
        }
    }
    CHECK(web == 1 && till == 1);
    inv_reservation_list_free(&held);

    OK(inv_get_stock_level(central, a, "Shop", &level));
    int64_t reserved = level.reserved;
    inv_level_free(&level);
    InvTakeOver taken;
    OK(inv_take_over_till(central, "T-C", true, &taken));
    CHECK(streq(taken.till.id, "T-C") && streq(taken.till.key, "till-c"));
    CHECK(taken.released == 5 && taken.transferred == 0);
    inv_take_over_free(&taken);
    CHECK(taken.till.id == NULL);
    OK(inv_get_stock_level(central, a, "Shop", &level));
    CHECK(level.reserved == reserved - 5);
    inv_level_free(&level);
    InvStatus again = inv_take_over_till(central, "T-C", true, &taken);
    CHECK(again == INV_ERR_NOT_FOUND);
    CHECK(taken.till.id == NULL);
    CHECK(inv_take_over_till(central, NULL, true, &taken) == INV_ERR_INVALID_ARGUMENT);
    CHECK(strstr(inv_last_error_message(), "till_id") != NULL);

    OK(inv_take_over_till(central, "T-B", false, &taken));
    CHECK(taken.released == 0 && taken.transferred == held_by_b);
    inv_take_over_free(&taken);
    inv_take_over_free(NULL);

    OK(inv_tills(central, &tills));
    CHECK(tills.len == 1 && find_till(&tills, "T-X") != NULL);
    inv_till_status_list_free(&tills);
    inv_till_status_list_free(NULL);
    /* T-B's units are still held under its reference, for its next instance. */
    OK(inv_reservations_by_reference(central, "till:T-B", &held));
    int64_t kept = 0;
    for (size_t i = 0; i < held.len; i++)
        kept += held.items[i].quantity;
    CHECK(kept == held_by_b);
    inv_reservation_list_free(&held);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s DIR CENTRAL_URL KEY CENTRAL_DB\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    url = argv[2];
    key = argv[3];
    central_db = argv[4];
    snprintf(till_db, sizeof till_db, "%s/till.db", dir);
    snprintf(conflict_db, sizeof conflict_db, "%s/conflict.db", dir);
    snprintf(background_db, sizeof background_db, "%s/background.db", dir);

    InvHandle *central;
    if (inv_open(argv[4], &central) != INV_OK) {
        fprintf(stderr, "open central: %s\n", inv_last_error_message());
        return 1;
    }
    char a[INV_UUID_LEN], b[INV_UUID_LEN];
    central_product(central, "TILL-A", 20, a);
    central_product(central, "TILL-B", 3, b);

    test_open_refusals();
    test_selling_and_syncing(central, a);
    test_a_lapsed_lease(central, b);
    test_background_sync(a);
    test_central_lists_tills_and_takes_them_over(central, a);

    /* Zeroed outputs free harmlessly, NULL is ignored. */
    InvSyncReport report = {0};
    inv_sync_report_free(&report);
    inv_sync_report_free(NULL);
    inv_sale_list_free(NULL);
    inv_allotment_list_free(NULL);
    inv_conflict_list_free(NULL);
    inv_sale_free(NULL);
    inv_till_close(NULL);

    InvVerifyReport verified;
    OK(inv_verify(central, &verified));
    CHECK(verified.ok);
    inv_verify_report_free(&verified);
    inv_close(central);
    printf("till C tests: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
