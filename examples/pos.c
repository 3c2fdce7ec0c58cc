/* A small point-of-sale flow on the inventory C API: open a database as till 1, put two items
 * on the shelf, sell one (reserve it for the order, then commit the reservation), print the
 * stock and who moved it.
 *
 * Offline mode (`till`): the same till selling from an allotment held at a central
 * inventory-server, which keeps selling while central is down (docs/TILLS.md). Its files are
 * till.db and till.db.till in the current directory; KEY is a write key limited to
 * "Front store".
 *   ./pos till URL KEY sync                 # push sales, mirror the catalogue, rebalance
 *   ./pos till URL KEY target SKU N         # ask central to hold N of SKU for this till
 *   ./pos till URL KEY sell SKU N           # a local sale: works with central down
 *
 *   make -C inventory-c install PREFIX=$HOME/.local
 *   export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig LD_LIBRARY_PATH=$HOME/.local/lib
 *   cc examples/pos.c $(pkg-config --cflags --libs inventory) -o pos
 *   ./pos            # uses pos.db in the current directory
 *   ./pos shop.db    # or another file
 *   valgrind --leak-check=full \
 *       --suppressions=$(pkg-config --variable=valgrind_suppressions inventory) ./pos
 *
 * The SKUs are fixed, so a second run finds them already there and sells from them again. */
#include <inventory.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failure and returns 1 when `status` is not INV_OK. */
static int failed(InvStatus status, const char *what) {
    if (status == INV_OK) return 0;
    fprintf(stderr, "%s failed: %s (%s)\n", what, inv_status_name((int32_t)status),
            inv_last_error_message());
    return 1;
}

/* Creates the item, or finds it by SKU if an earlier run did. Its id goes to `id`. */
static int stock_item(InvHandle *h, const char *name, const char *sku, const char *price,
                      int64_t quantity, char id[INV_UUID_LEN]) {
    InvNewProduct item = {0};
    item.name = name;
    item.sku = sku;
    item.price = price;
    item.location = "Front store";
    item.initial_quantity = quantity;
    InvProductWithStock created;
    InvStatus s = inv_create_product(h, &item, NULL, &created);
    if (s == INV_OK) {
        memcpy(id, created.product.id, INV_UUID_LEN);
        inv_product_with_stock_free(&created);
        return 0;
    }
    if (s != INV_ERR_DUPLICATE_SKU) return failed(s, "create product");
    InvProductQuery query = {0};
    query.q = sku;
    InvProductList found;
    if (failed(inv_list_products(h, &query, &found), "find product")) return 1;
    int missing = 1;
    for (size_t i = 0; i < found.len; i++) {
        if (strcmp(found.items[i].sku, sku) == 0) {
            memcpy(id, found.items[i].id, INV_UUID_LEN);
            missing = 0;
        }
    }
    inv_product_list_free(&found);
    return missing;
}

static int print_stock(InvHandle *h, const char *id) {
    InvProductWithStock p;
    if (failed(inv_get_product(h, id, &p), "get product")) return 1;
    const InvLevel *total = &p.inventory.totals;
    printf("%-8s %-14s %10s  on hand %3lld  reserved %3lld  available %3lld\n", p.product.sku,
           p.product.name, p.product.price, (long long)total->on_hand,
           (long long)total->reserved, (long long)total->available);
    inv_product_with_stock_free(&p);
    return 0;
}

/* The product's latest movement and who made it. */
static int print_last_movement(InvHandle *h, const char *id) {
    InvMovementQuery query = {0};
    query.limit = 1;
    InvMovementList moves;
    if (failed(inv_list_movements(h, id, &query, &moves), "list movements")) return 1;
    if (moves.len == 1)
        printf("last movement: %s %lld by %s\n", moves.items[0].kind,
               (long long)moves.items[0].quantity,
               moves.items[0].actor != NULL ? moves.items[0].actor : "(unknown)");
    inv_movement_list_free(&moves);
    return 0;
}

/* The id of the product with this SKU in the till's mirrored catalogue. */
static int till_product(InvTill *t, const char *sku, char id[INV_UUID_LEN]) {
    InvHandle *local;
    if (failed(inv_till_inventory(t, &local), "till inventory")) return 1;
    InvProductQuery query = {0};
    query.q = sku;
    InvProductList found;
    int missing = 1;
    if (!failed(inv_list_products(local, &query, &found), "find product")) {
        for (size_t i = 0; i < found.len; i++) {
            if (strcmp(found.items[i].sku, sku) == 0) {
                memcpy(id, found.items[i].id, INV_UUID_LEN);
                missing = 0;
            }
        }
        inv_product_list_free(&found);
        if (missing) fprintf(stderr, "%s is not in the till's catalogue: sync first\n", sku);
    }
    inv_close(local);
    return missing;
}

/* What the till may sell of each product it holds an allotment of, and what waits for
 * central. */
static int print_till(InvTill *t) {
    InvAllotmentList allotments;
    if (failed(inv_till_allotments(t, &allotments), "allotments")) return 1;
    for (size_t i = 0; i < allotments.len; i++) {
        const InvAllotment *a = &allotments.items[i];
        printf("allotment %s: %lld to sell, target %lld, central holds %lld\n", a->product_id,
               (long long)a->remaining, (long long)a->target, (long long)a->held);
    }
    inv_allotment_list_free(&allotments);
    InvSaleList pending;
    if (failed(inv_till_pending(t, &pending), "pending")) return 1;
    printf("outbox: %zu sale(s) waiting for central\n", pending.len);
    inv_sale_list_free(&pending);
    return 0;
}

static int till_sync(InvTill *t) {
    InvSyncReport report;
    if (failed(inv_till_sync(t, &report), "sync")) return 1;
    if (report.complete)
        printf("synced: %llu sale(s) pushed, %zu conflict(s), %llu product(s) mirrored\n",
               (unsigned long long)report.pushed, report.conflicts.len,
               (unsigned long long)report.catalogue_created);
    else
        printf("central not reached (%s): the sales stay in the outbox\n", report.error_code);
    inv_sync_report_free(&report);
    return print_till(t);
}

/* `pos till URL KEY COMMAND...`: the offline-capable till. */
static int till_mode(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: pos till URL KEY sync | target SKU N | sell SKU N\n");
        return 2;
    }
    InvTill *t;
    if (failed(inv_till_open("till.db", argv[2], argv[3], "till-1", "Front store", &t),
               "open till"))
        return 1;
    const char *command = argv[4];
    char id[INV_UUID_LEN];
    int bad = 0;
    if (strcmp(command, "sync") == 0) {
        bad = till_sync(t);
    } else if (argc == 7 && strcmp(command, "target") == 0) {
        bad = till_product(t, argv[5], id) ||
              failed(inv_till_set_target(t, id, atoll(argv[6])), "target");
        if (!bad) printf("target %s: %s (the next sync reserves it)\n", argv[5], argv[6]);
    } else if (argc == 7 && strcmp(command, "sell") == 0) {
        InvSale sale;
        bad = till_product(t, argv[5], id) ||
              failed(inv_till_sell(t, id, atoll(argv[6]), NULL, &sale), "sell");
        if (!bad) {
            printf("sold %lld x %s (%s)\n", (long long)sale.quantity, argv[5], sale.reference);
            inv_sale_free(&sale);
            bad = print_till(t);
        }
    } else {
        fprintf(stderr, "unknown till command %s\n", command);
        bad = 2;
    }
    inv_till_close(t);
    return bad;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "till") == 0) return till_mode(argc, argv);
    const char *path = argc > 1 ? argv[1] : "pos.db";
    InvOptions options = {0};
    options.actor = "till-1"; /* recorded on every movement this till makes */
    InvHandle *h;
    if (failed(inv_open_with(path, &options, &h), "open")) return 1;

    char coffee[INV_UUID_LEN], mug[INV_UUID_LEN];
    int bad = stock_item(h, "Coffee beans", "COF-250", "12.50", 20, coffee) ||
              stock_item(h, "Mug", "MUG-01", "8.00", 5, mug);

    /* The sale: hold two bags for the order, then take them off the shelf. */
    InvStockOp op;
    InvLevel level;
    if (!bad) {
        inv_stock_op_init(&op, INV_OP_RESERVE, coffee, 2);
        op.reference = "ORDER-1001";
        op.expires_kind = INV_EXPIRES_IN_SECONDS; /* an abandoned till gives them back */
        op.expires_value = 900;
        bad = failed(inv_reserve_stock(h, &op, NULL, &level), "reserve");
        inv_level_free(&level);
    }
    if (!bad) {
        inv_stock_op_init(&op, INV_OP_COMMIT, coffee, 0);
        op.has_quantity = false; /* the whole reservation */
        op.reference = "ORDER-1001";
        bad = failed(inv_commit_reservation(h, &op, NULL, &level), "sell");
        if (!bad) printf("sold 2 x Coffee beans (ORDER-1001)\n");
        inv_level_free(&level);
    }
    if (!bad) bad = print_stock(h, coffee) || print_stock(h, mug) || print_last_movement(h, coffee);
    inv_close(h);
    return bad;
}
