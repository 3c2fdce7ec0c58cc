/* The C API end to end: every function, and every error path the boundary and the engine
 * report, against a real database file. Run under valgrind by tests/c/run.sh.
 * Usage: test_inventory DIR (a scratch directory for the database files). */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The last error names `field`. */
static int field_is(const char *field) {
    return streq(inv_last_error_field(), field);
}

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static char dir[1024];

static void path_of(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

/* 2030-01-01T00:00:00Z, where the manual clock starts. */
#define CLOCK_START_S 1893456000LL

static const char NOT_UTF8[] = {'a', (char)0xff, 'b', 0};
static const char NO_SUCH_ID[] = "00000000-0000-7000-8000-000000000000";

/* A string of `n` copies of `c`; the caller frees it. */
static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void test_names_and_last_error(void) {
    static const char *names[] = {"OK", "NOT_FOUND", "VALIDATION_ERROR",
                                  "INSUFFICIENT_STOCK", "INSUFFICIENT_RESERVED",
                                  "DUPLICATE_SKU", "CONFLICT", "STORAGE_ERROR",
                                  "INVALID_ARGUMENT", "PANIC", "BUSY",
                                  "UNAUTHORIZED", "FORBIDDEN"};
    for (int i = 0; i < 13; i++) CHECK(streq(inv_status_name(i), names[i]));
    CHECK(INV_ERR_PANIC == 9 && INV_OK == 0 && INV_ERR_FORBIDDEN == 12);
    CHECK(streq(inv_status_name(-1), "UNKNOWN"));
    CHECK(streq(inv_status_name(13), "UNKNOWN"));
    /* Nothing has failed on this thread yet. */
    CHECK(streq(inv_last_error_message(), ""));
    CHECK(inv_last_error_field() == NULL);
    CHECK(inv_last_error_index() == -1);
}

/* inv_version() is the header's INV_VERSION (Cargo's), '+', and a 12-digit commit or "unknown". */
static void test_version(void) {
    const char *v = inv_version();
    size_t n = strlen(INV_VERSION);
    CHECK(strncmp(v, INV_VERSION, n) == 0 && v[n] == '+');
    const char *commit = v + n + 1;
    int hex = strlen(commit) == 12;
    for (const char *c = commit; hex && *c; c++) hex = strchr("0123456789abcdef", *c) != NULL;
    CHECK(hex || streq(commit, "unknown"));
    CHECK(inv_version() == v); /* static: the same string every call */
}

static void test_open(void) {
    char path[1200];
    InvHandle *h = (InvHandle *)&h; /* anything but NULL: a failed open must clear it */
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_open(NULL, &h));
    CHECK(h == NULL);
    CHECK(contains(inv_last_error_message(), "path must not be NULL"));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_open("x.db", NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_open(NOT_UTF8, &h));
    CHECK(contains(inv_last_error_message(), "UTF-8"));

    /* A file that is not an inventory database is refused and left alone. */
    path_of(path, sizeof path, "not-a-db.db");
    FILE *f = fopen(path, "w");
    fputs("this is not sqlite, just some text long enough to look like a header........"
          "......................................................................",
          f);
    fclose(f);
    EXPECT(INV_ERR_STORAGE_ERROR, inv_open(path, &h));
    CHECK(h == NULL);

    InvOptions bad = {0};
    bad.durability = 7;
    path_of(path, sizeof path, "options.db");
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_open_with(path, &bad, &h));
    CHECK(contains(inv_last_error_message(), "durability"));

    InvOptions normal = {0};
    normal.durability = INV_DURABILITY_NORMAL;
    normal.readers = 2;
    normal.busy_timeout_ms = 100;
    OK(inv_open_with(path, &normal, &h));
    CHECK(h != NULL);
    /* A wall-clock handle cannot be moved. */
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_clock_advance(h, 10));
    OK(inv_health(h));
    OK(inv_checkpoint(h));
    inv_close(h);
    inv_close(NULL);

    /* Defaults (NULL options) reopen the same file. */
    OK(inv_open_with(path, NULL, &h));
    inv_close(h);
}

/* Creates a product; its id goes to `id`. */
static void create(InvHandle *h, const char *name, const char *sku, const char *location,
                   int64_t quantity, int64_t reorder_point, char id[INV_UUID_LEN]) {
    InvNewProduct p = {0};
    p.name = name;
    p.sku = sku;
    p.price = "9.99";
    p.location = location;
    p.initial_quantity = quantity;
    p.has_reorder_point = reorder_point >= 0;
    p.reorder_point = reorder_point;
    InvProductWithStock out;
    OK(inv_create_product(h, &p, NULL, &out));
    memcpy(id, out.product.id, INV_UUID_LEN);
    inv_product_with_stock_free(&out);
}

static void test_products(InvHandle *h, char laptop[INV_UUID_LEN]) {
    InvNewProduct p = {0};
    p.name = "Laptop";
    p.sku = "LAP001";
    p.price = "1500.00";
    p.description = "15 inch";
    p.location = "Warehouse A";
    p.initial_quantity = 50;
    p.has_reorder_point = true;
    p.reorder_point = 10;

    InvProductWithStock out;
    OK(inv_create_product(h, &p, "create-laptop", &out));
    CHECK(strlen(out.product.id) == 36);
    CHECK(streq(out.product.name, "Laptop"));
    CHECK(streq(out.product.sku, "LAP001"));
    CHECK(streq(out.product.price, "1500.00"));
    CHECK(streq(out.product.description, "15 inch"));
    CHECK(streq(out.product.location, "Warehouse A"));
    CHECK(out.product.has_reorder_point && out.product.reorder_point == 10);
    CHECK(out.product.version >= 1);
    CHECK(out.product.created_at_us > 0 && out.product.updated_at_us >= out.product.created_at_us);
    CHECK(out.inventory.totals.on_hand == 50 && out.inventory.totals.reserved == 0);
    CHECK(out.inventory.totals.available == 50);
    CHECK(streq(out.inventory.totals.location, "Warehouse A"));
    CHECK(streq(out.inventory.totals.product_id, out.product.id));
    CHECK(out.inventory.locations.len == 1);
    CHECK(streq(out.inventory.locations.items[0].location, "Warehouse A"));
    memcpy(laptop, out.product.id, INV_UUID_LEN);
    inv_product_with_stock_free(&out);
    CHECK(out.product.name == NULL && out.inventory.locations.items == NULL);
    inv_product_with_stock_free(&out); /* twice is harmless */

    /* Idempotency: the same key and request replays the first result. */
    OK(inv_create_product(h, &p, "create-laptop", &out));
    CHECK(streq(out.product.id, laptop));
    inv_product_with_stock_free(&out);
    /* The same key with a different request is a conflict. */
    p.sku = "LAP002";
    EXPECT(INV_ERR_CONFLICT, inv_create_product(h, &p, "create-laptop", &out));
    CHECK(field_is("idempotency_key"));
    CHECK(out.product.name == NULL);
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &p, "", &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &p, NOT_UTF8, &out));
    p.sku = "LAP001";
    /* Without a key the duplicate SKU is refused. */
    EXPECT(INV_ERR_DUPLICATE_SKU, inv_create_product(h, &p, NULL, &out));

    /* The boundary refuses what C can get wrong. */
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(NULL, &p, NULL, &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, NULL, NULL, &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &p, NULL, NULL));
    InvNewProduct q = p;
    q.sku = "NEW1";
    q.name = NULL;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &q, NULL, &out));
    CHECK(contains(inv_last_error_message(), "name must not be NULL"));
    q.name = NOT_UTF8;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &q, NULL, &out));
    char *huge = repeat('n', INV_MAX_STRING_BYTES + 1);
    q.name = huge;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &q, NULL, &out));
    CHECK(contains(inv_last_error_message(), "longer than"));
    free(huge);
    /* ... and the engine refuses what breaks its rules, naming the field. */
    char *long_name = repeat('n', 300);
    q.name = long_name;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &q, NULL, &out));
    CHECK(field_is("name"));
    free(long_name);
    q.name = "   ";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &q, NULL, &out));
    CHECK(field_is("name"));
    q.name = "Mouse";
    q.price = "abc";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &q, NULL, &out));
    CHECK(field_is("price"));
    q.price = "1.23456";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &q, NULL, &out));
    q.price = NULL;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_product(h, &q, NULL, &out));
    q.price = "1";
    q.initial_quantity = -1;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_product(h, &q, NULL, &out));
    CHECK(field_is("initial_quantity"));

    /* get */
    OK(inv_get_product(h, laptop, &out));
    CHECK(streq(out.product.sku, "LAP001") && out.inventory.totals.on_hand == 50);
    inv_product_with_stock_free(&out);
    EXPECT(INV_ERR_NOT_FOUND, inv_get_product(h, NO_SUCH_ID, &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_product(h, "not-a-uuid", &out));
    CHECK(contains(inv_last_error_message(), "not a UUID"));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_product(h, NULL, &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_product(h, laptop, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_product(NULL, laptop, &out));

    /* list: creation order, prefix search, low stock, pages */
    char mouse[INV_UUID_LEN], cable[INV_UUID_LEN];
    create(h, "Mouse", "MOU001", NULL, 3, 5, mouse);
    create(h, "Lamp", "LMP001", NULL, 100, -1, cable);
    InvProductList list;
    OK(inv_list_products(h, NULL, &list));
    CHECK(list.len == 3);
    CHECK(list.len == 3 && streq(list.items[0].id, laptop) && streq(list.items[1].id, mouse));
    inv_product_list_free(&list);
    CHECK(list.items == NULL && list.len == 0);
    InvProductQuery query = {0};
    query.q = "LA";
    OK(inv_list_products(h, &query, &list));
    CHECK(list.len == 2); /* LAP001 by SKU, "Lamp" by name */
    inv_product_list_free(&list);
    query.q = "lap";
    OK(inv_list_products(h, &query, &list));
    CHECK(list.len == 1 && streq(list.items[0].name, "Laptop"));
    inv_product_list_free(&list);
    query.q = "zzz";
    OK(inv_list_products(h, &query, &list));
    CHECK(list.len == 0 && list.items == NULL);
    inv_product_list_free(&list);
    query.q = NULL;
    query.low_stock = true;
    OK(inv_list_products(h, &query, &list));
    CHECK(list.len == 1 && streq(list.items[0].id, mouse));
    inv_product_list_free(&list);
    query.low_stock = false;
    query.limit = 1;
    query.offset = 1;
    OK(inv_list_products(h, &query, &list));
    CHECK(list.len == 1 && streq(list.items[0].id, mouse));
    inv_product_list_free(&list);
    query.limit = 101;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_list_products(h, &query, &list));
    CHECK(field_is("limit"));
    query.limit = 0;
    query.offset = -1;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_list_products(h, &query, &list));
    CHECK(field_is("offset"));
    query.offset = 0;
    query.q = NOT_UTF8;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_products(h, &query, &list));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_products(h, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_products(NULL, NULL, &list));

    /* update, with and without compare-and-set */
    InvProductChanges changes = {0};
    changes.name = "Laptop Pro";
    changes.price = "1999.9900";
    changes.reorder_point_change = INV_REORDER_SET;
    changes.reorder_point = 20;
    InvProduct updated;
    OK(inv_get_product(h, laptop, &out));
    int64_t version = out.product.version;
    inv_product_with_stock_free(&out);
    OK(inv_update_product(h, laptop, &changes, &version, "update-1", &updated));
    CHECK(streq(updated.name, "Laptop Pro"));
    CHECK(streq(updated.price, "1999.9900"));
    CHECK(streq(updated.description, "15 inch"));
    CHECK(updated.has_reorder_point && updated.reorder_point == 20);
    CHECK(updated.version == version + 1);
    inv_product_free(&updated);
    CHECK(updated.name == NULL);
    /* A replay returns the first result even though the version has moved on. */
    OK(inv_update_product(h, laptop, &changes, &version, "update-1", &updated));
    CHECK(updated.version == version + 1);
    inv_product_free(&updated);
    EXPECT(INV_ERR_CONFLICT, inv_update_product(h, laptop, &changes, &version, NULL, &updated));
    CHECK(field_is("version"));
    CHECK(updated.name == NULL);
    InvProductChanges clear = {0};
    clear.reorder_point_change = INV_REORDER_CLEAR;
    OK(inv_update_product(h, laptop, &clear, NULL, NULL, &updated));
    CHECK(!updated.has_reorder_point && streq(updated.name, "Laptop Pro"));
    inv_product_free(&updated);
    InvProductChanges bad = {0};
    bad.reorder_point_change = 3;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_update_product(h, laptop, &bad, NULL, NULL, &updated));
    bad.reorder_point_change = INV_REORDER_KEEP;
    bad.price = "-1";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_update_product(h, laptop, &bad, NULL, NULL, &updated));
    CHECK(field_is("price"));
    bad.price = NULL;
    bad.name = "";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_update_product(h, laptop, &bad, NULL, NULL, &updated));
    CHECK(field_is("name"));
    EXPECT(INV_ERR_NOT_FOUND, inv_update_product(h, NO_SUCH_ID, &clear, NULL, NULL, &updated));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_update_product(h, laptop, NULL, NULL, NULL, &updated));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_update_product(h, NULL, &clear, NULL, NULL, &updated));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_update_product(h, laptop, &clear, NULL, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_update_product(NULL, laptop, &clear, NULL, NULL, &updated));

    /* delete: compare-and-set, then gone from reads, SKU free again */
    OK(inv_get_product(h, cable, &out));
    int64_t stale = out.product.version - 1;
    int64_t current = out.product.version;
    inv_product_with_stock_free(&out);
    EXPECT(INV_ERR_CONFLICT, inv_delete_product(h, cable, &stale, NULL));
    CHECK(field_is("version"));
    OK(inv_delete_product(h, cable, &current, "delete-1"));
    OK(inv_delete_product(h, cable, &current, "delete-1")); /* replayed, not re-applied */
    EXPECT(INV_ERR_NOT_FOUND, inv_delete_product(h, cable, NULL, NULL));
    EXPECT(INV_ERR_NOT_FOUND, inv_get_product(h, cable, &out));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_delete_product(h, NULL, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_delete_product(NULL, cable, NULL, NULL));
    create(h, "Lamp again", "LMP001", NULL, 0, -1, cable);
}

static void test_locations(InvHandle *h) {
    InvLocation loc;
    OK(inv_create_location(h, "Warehouse B", "loc-b", &loc));
    CHECK(streq(loc.name, "Warehouse B") && loc.on_hand == 0 && loc.products == 0);
    CHECK(loc.created_at_us > 0);
    inv_location_free(&loc);
    CHECK(loc.name == NULL);
    OK(inv_create_location(h, "Warehouse B", "loc-b", &loc)); /* replay */
    CHECK(streq(loc.name, "Warehouse B"));
    inv_location_free(&loc);
    EXPECT(INV_ERR_CONFLICT, inv_create_location(h, "Warehouse B", NULL, &loc));
    CHECK(loc.name == NULL);
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_create_location(h, "  ", NULL, &loc));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_location(h, NULL, NULL, &loc));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_location(h, "X", NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_create_location(NULL, "X", NULL, &loc));

    InvLocationList list;
    OK(inv_list_locations(h, &list));
    int found_a = 0, found_b = 0;
    for (size_t i = 0; i < list.len; i++) {
        if (streq(list.items[i].name, "Warehouse A")) found_a = list.items[i].on_hand == 50;
        if (streq(list.items[i].name, "Warehouse B")) found_b = 1;
    }
    CHECK(found_a && found_b);
    inv_location_list_free(&list);
    CHECK(list.items == NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_locations(h, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_locations(NULL, &list));
}

static void test_stock(InvHandle *h, const char *laptop) {
    InvStockOp op;
    InvLevel level, to;

    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_stock_op_init(NULL, INV_OP_ADD, laptop, 1));
    OK(inv_stock_op_init(&op, INV_OP_ADD, laptop, 10));
    CHECK(op.has_quantity && op.quantity == 10 && op.location == NULL && op.product_id == laptop);
    op.reference = "PO-1";
    op.notes = "delivery";
    op.external_id = "ERP-REC-1";
    OK(inv_add_stock(h, &op, "add-1", &level));
    CHECK(level.on_hand == 60 && level.reserved == 0 && level.available == 60);
    CHECK(streq(level.location, "Warehouse A") && streq(level.product_id, laptop));
    CHECK(strlen(level.id) == 36 && level.updated_at_us >= level.created_at_us);
    inv_level_free(&level);
    CHECK(level.location == NULL);
    inv_level_free(&level);
    inv_level_free(NULL);
    /* Retrying with the key applies nothing twice. */
    OK(inv_add_stock(h, &op, "add-1", &level));
    CHECK(level.on_hand == 60);
    inv_level_free(&level);
    op.quantity = 11;
    EXPECT(INV_ERR_CONFLICT, inv_add_stock(h, &op, "add-1", &level));
    CHECK(field_is("idempotency_key"));
    op.external_id = NULL;

    /* Wrong kind for the function, unknown kind, fields that do not apply. */
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_remove_stock(h, &op, NULL, &level));
    CHECK(contains(inv_last_error_message(), "remove"));
    op.kind = 42;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    CHECK(contains(inv_last_error_message(), "kind 42"));
    op.kind = INV_OP_ADD;
    op.expires_kind = INV_EXPIRES_IN_SECONDS;
    op.expires_value = 60;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_add_stock(h, &op, NULL, &level));
    CHECK(field_is("expires_in_seconds"));
    op.expires_kind = 9;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    op.expires_kind = INV_EXPIRES_NEVER;
    op.expect_kind = 9;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    op.expect_kind = INV_EXPECT_NOTHING;
    op.quantity = 0;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_add_stock(h, &op, NULL, &level));
    CHECK(field_is("quantity"));
    op.has_quantity = false;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_add_stock(h, &op, NULL, &level));
    op.product_id = NO_SUCH_ID;
    op.has_quantity = true;
    op.quantity = 1;
    EXPECT(INV_ERR_NOT_FOUND, inv_add_stock(h, &op, NULL, &level));
    op.product_id = "bad";
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    op.product_id = NULL;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    op.product_id = laptop;
    op.notes = NOT_UTF8;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, &level));
    op.notes = NULL;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, NULL, NULL, &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(h, &op, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_add_stock(NULL, &op, NULL, &level));
    CHECK(level.location == NULL);

    /* remove */
    OK(inv_stock_op_init(&op, INV_OP_REMOVE, laptop, 5));
    OK(inv_remove_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 55 && level.available == 55);
    inv_level_free(&level);
    op.quantity = 56;
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_remove_stock(h, &op, NULL, &level));
    CHECK(contains(inv_last_error_message(), "INSUFFICIENT_STOCK"));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_remove_stock(NULL, &op, NULL, &level));

    /* reserve / unreserve / commit, by reference */
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, laptop, 10));
    op.reference = "ORDER-1";
    OK(inv_reserve_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 55 && level.reserved == 10 && level.available == 45);
    inv_level_free(&level);
    op.quantity = 46;
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_reserve_stock(h, &op, NULL, &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_reserve_stock(NULL, &op, NULL, &level));

    OK(inv_stock_op_init(&op, INV_OP_UNRESERVE, laptop, 3));
    op.reference = "ORDER-1";
    OK(inv_unreserve_stock(h, &op, NULL, &level));
    CHECK(level.reserved == 7 && level.available == 48);
    inv_level_free(&level);
    op.quantity = 8;
    EXPECT(INV_ERR_INSUFFICIENT_RESERVED, inv_unreserve_stock(h, &op, NULL, &level));
    op.reference = "NO-SUCH-ORDER";
    op.quantity = 1;
    CHECK(inv_unreserve_stock(h, &op, NULL, &level) != INV_OK);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_unreserve_stock(NULL, &op, NULL, &level));

    OK(inv_stock_op_init(&op, INV_OP_COMMIT, laptop, 2));
    op.reference = "ORDER-1";
    OK(inv_commit_reservation(h, &op, NULL, &level));
    CHECK(level.on_hand == 53 && level.reserved == 5);
    inv_level_free(&level);
    op.has_quantity = false; /* the whole rest of the reservation */
    OK(inv_commit_reservation(h, &op, "commit-rest", &level));
    CHECK(level.on_hand == 48 && level.reserved == 0 && level.available == 48);
    inv_level_free(&level);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_commit_reservation(NULL, &op, NULL, &level));
    /* release_remainder: commit part, let the rest go */
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, laptop, 4));
    op.reference = "ORDER-2";
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    OK(inv_stock_op_init(&op, INV_OP_COMMIT, laptop, 1));
    op.reference = "ORDER-2";
    op.release_remainder = true;
    OK(inv_commit_reservation(h, &op, NULL, &level));
    CHECK(level.on_hand == 47 && level.reserved == 0);
    inv_level_free(&level);

    /* compare-and-set on the level */
    OK(inv_stock_op_init(&op, INV_OP_REMOVE, laptop, 1));
    op.expect_kind = INV_EXPECT_AVAILABLE;
    op.expected = 46;
    EXPECT(INV_ERR_CONFLICT, inv_remove_stock(h, &op, NULL, &level));
    CHECK(field_is("expected_available"));
    op.expected = 47;
    OK(inv_remove_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 46);
    inv_level_free(&level);
    op.expect_kind = INV_EXPECT_QUANTITY;
    op.expected = 47;
    EXPECT(INV_ERR_CONFLICT, inv_remove_stock(h, &op, NULL, &level));
    CHECK(field_is("expected_quantity"));
    op.expected = 46;
    OK(inv_remove_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 45);
    inv_level_free(&level);

    /* transfer between locations */
    OK(inv_stock_op_init(&op, INV_OP_TRANSFER, laptop, 5));
    op.location = "Warehouse A";
    op.to_location = "Warehouse B";
    InvLevel from;
    OK(inv_transfer_stock(h, &op, "move-1", &from, &to));
    CHECK(from.on_hand == 40 && streq(from.location, "Warehouse A"));
    CHECK(to.on_hand == 5 && streq(to.location, "Warehouse B"));
    inv_level_free(&from);
    inv_level_free(&to);
    op.quantity = 41;
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_transfer_stock(h, &op, NULL, &from, &to));
    CHECK(from.location == NULL && to.location == NULL);
    op.to_location = NULL;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_transfer_stock(h, &op, NULL, &from, &to));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_transfer_stock(h, &op, NULL, NULL, &to));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_transfer_stock(h, &op, NULL, &from, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_transfer_stock(NULL, &op, NULL, &from, &to));
    op.kind = INV_OP_ADD;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_transfer_stock(h, &op, NULL, &from, &to));

    /* the generic entry point: a transfer gives both levels */
    InvLevelList levels;
    OK(inv_stock_op_init(&op, INV_OP_TRANSFER, laptop, 2));
    op.location = "Warehouse B";
    op.to_location = "Warehouse A";
    OK(inv_stock(h, &op, NULL, &levels));
    CHECK(levels.len == 2 && levels.items[0].on_hand == 3 && levels.items[1].on_hand == 42);
    inv_level_list_free(&levels);
    CHECK(levels.items == NULL && levels.len == 0);
    op.kind = INV_OP_ADD;
    op.to_location = NULL;
    OK(inv_stock(h, &op, NULL, &levels));
    CHECK(levels.len == 1 && levels.items[0].on_hand == 5);
    inv_level_list_free(&levels);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_stock(h, NULL, NULL, &levels));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_stock(h, &op, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_stock(NULL, &op, NULL, &levels));

    /* physical count */
    OK(inv_stock_op_init(&op, INV_OP_COUNT, laptop, 40));
    op.location = "Warehouse A";
    op.notes = "cycle count";
    OK(inv_count_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 40);
    inv_level_free(&level);
    /* A count guarded by what the counter last saw: applied while it is current... */
    OK(inv_stock_op_init(&op, INV_OP_COUNT, laptop, 41));
    op.location = "Warehouse A";
    op.expect_kind = INV_EXPECT_QUANTITY;
    op.expected = 40;
    OK(inv_count_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 41);
    inv_level_free(&level);
    /* ... refused once it is stale, naming the guard, with nothing changed. */
    op.quantity = 39;
    EXPECT(INV_ERR_CONFLICT, inv_count_stock(h, &op, NULL, &level));
    CHECK(field_is("expected_quantity"));
    CHECK(level.location == NULL);
    op.quantity = 40;
    op.expect_kind = INV_EXPECT_AVAILABLE;
    op.expected = 40;
    EXPECT(INV_ERR_CONFLICT, inv_count_stock(h, &op, NULL, &level));
    CHECK(field_is("expected_available"));
    op.expected = 41;
    OK(inv_count_stock(h, &op, NULL, &level));
    CHECK(level.on_hand == 40 && level.available == 40);
    inv_level_free(&level);
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, laptop, 10));
    op.reference = "HOLD";
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    OK(inv_stock_op_init(&op, INV_OP_COUNT, laptop, 9));
    op.location = "Warehouse A";
    EXPECT(INV_ERR_CONFLICT, inv_count_stock(h, &op, NULL, &level));
    CHECK(contains(inv_last_error_message(), "reserved"));
    op.quantity = -1;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_count_stock(h, &op, NULL, &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_count_stock(NULL, &op, NULL, &level));
    /* unreserve without a reference acts on unreferenced reserved stock only */
    OK(inv_stock_op_init(&op, INV_OP_UNRESERVE, laptop, 1));
    EXPECT(INV_ERR_INSUFFICIENT_RESERVED, inv_unreserve_stock(h, &op, NULL, &level));
    op.reference = "HOLD";
    op.has_quantity = false;
    OK(inv_unreserve_stock(h, &op, NULL, &level));
    CHECK(level.reserved == 0 && level.on_hand == 40);
    inv_level_free(&level);
}

static void test_reads(InvHandle *h, const char *laptop) {
    InvStockSummary summary;
    OK(inv_get_inventory(h, laptop, &summary));
    CHECK(summary.totals.on_hand == 45 && summary.totals.reserved == 0 && summary.totals.available == 45);
    CHECK(streq(summary.totals.location, "Warehouse A") && streq(summary.totals.product_id, laptop));
    CHECK(summary.locations.len == 2);
    CHECK(summary.locations.len == 2 && streq(summary.locations.items[0].location, "Warehouse A") &&
          summary.locations.items[0].on_hand == 40 && summary.locations.items[1].on_hand == 5);
    inv_stock_summary_free(&summary);
    CHECK(summary.totals.location == NULL && summary.locations.items == NULL);
    EXPECT(INV_ERR_NOT_FOUND, inv_get_inventory(h, NO_SUCH_ID, &summary));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_inventory(h, NULL, &summary));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_inventory(h, laptop, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_inventory(NULL, laptop, &summary));

    InvLevel level;
    OK(inv_get_stock_level(h, laptop, "Warehouse B", &level));
    CHECK(level.on_hand == 5 && streq(level.location, "Warehouse B"));
    inv_level_free(&level);
    EXPECT(INV_ERR_NOT_FOUND, inv_get_stock_level(h, laptop, "Nowhere", &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_stock_level(h, laptop, NULL, &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_stock_level(h, NULL, "Warehouse B", &level));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_stock_level(h, laptop, "Warehouse B", NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_get_stock_level(NULL, laptop, "Warehouse B", &level));

    /* movements, newest first */
    InvMovementList moves;
    OK(inv_list_movements(h, laptop, NULL, &moves));
    CHECK(moves.len == 10);
    CHECK(moves.len == 10 && streq(moves.items[0].kind, "UNRESERVE") &&
          streq(moves.items[0].reference, "HOLD"));
    for (size_t i = 1; i < moves.len; i++) CHECK(moves.items[i].seq < moves.items[i - 1].seq);
    inv_movement_list_free(&moves);
    CHECK(moves.items == NULL);
    InvMovementQuery mq = {0};
    mq.limit = 100;
    OK(inv_list_movements(h, laptop, &mq, &moves));
    size_t total = moves.len;
    int in_with_notes = 0, transfers = 0, adjust = 0, commits = 0;
    for (size_t i = 0; i < moves.len; i++) {
        InvMovement *m = &moves.items[i];
        if (streq(m->kind, "IN") && streq(m->notes, "delivery") && streq(m->reference, "PO-1"))
            in_with_notes += streq(m->external_id, "ERP-REC-1");
        else
            CHECK(m->external_id == NULL);
        if (streq(m->kind, "TRANSFER_OUT") || streq(m->kind, "TRANSFER_IN")) {
            transfers += m->has_transfer_id && strlen(m->transfer_id) == 36;
        } else {
            CHECK(!m->has_transfer_id && m->transfer_id[0] == 0);
        }
        if (streq(m->kind, "ADJUST")) adjust += m->quantity == -2 && streq(m->notes, "cycle count");
        if (streq(m->kind, "COMMIT")) commits++;
        CHECK(streq(m->product_id, laptop) && m->created_at_us > 0 && strlen(m->inventory_id) == 36);
    }
    CHECK(in_with_notes == 1);
    CHECK(transfers == 4);
    CHECK(adjust == 1);
    CHECK(commits == 3);
    int64_t middle = total > 2 ? moves.items[1].seq : 0;
    inv_movement_list_free(&moves);
    mq.before = middle; /* cursor paging */
    OK(inv_list_movements(h, laptop, &mq, &moves));
    CHECK(moves.len == total - 2);
    inv_movement_list_free(&moves);
    mq.before = 0;
    mq.location = "Warehouse B";
    OK(inv_list_movements(h, laptop, &mq, &moves));
    CHECK(moves.len == 3); /* in, out, in */
    for (size_t i = 0; i < moves.len; i++) CHECK(streq(moves.items[i].location, "Warehouse B"));
    inv_movement_list_free(&moves);
    mq.location = NULL;
    mq.limit = 2;
    mq.offset = 1;
    OK(inv_list_movements(h, laptop, &mq, &moves));
    CHECK(moves.len == 2);
    inv_movement_list_free(&moves);
    mq.offset = 0;
    mq.limit = 1000;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_list_movements(h, laptop, &mq, &moves));
    CHECK(field_is("limit"));
    mq.limit = 0;
    mq.location = NOT_UTF8;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_movements(h, laptop, &mq, &moves));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_movements(h, NULL, NULL, &moves));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_movements(h, laptop, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_movements(NULL, laptop, NULL, &moves));
}

/* The change feed: pages of every movement, oldest first, resumable by cursor. */
static void test_changes(InvHandle *h) {
    InvChangePage page;
    int64_t after = 0, last_seq = 0;
    size_t seen = 0;
    int ordered = 1;
    for (;;) {
        OK(inv_changes(h, after, 7, &page));
        if (page.movements.len == 0) {
            CHECK(page.next_after == after);
            inv_change_page_free(&page);
            break;
        }
        CHECK(page.movements.len <= 7);
        for (size_t i = 0; i < page.movements.len; i++) {
            ordered &= page.movements.items[i].seq > last_seq;
            last_seq = page.movements.items[i].seq;
        }
        seen += page.movements.len;
        CHECK(page.next_after == last_seq);
        after = page.next_after;
        inv_change_page_free(&page);
        CHECK(page.movements.items == NULL);
    }
    CHECK(ordered);
    CHECK(seen > 20);
    OK(inv_changes(h, 0, 0, &page)); /* default page size */
    CHECK(page.movements.len == (seen < 100 ? seen : 100));
    inv_change_page_free(&page);
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_changes(h, 0, 1001, &page));
    CHECK(field_is("limit"));
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_changes(h, -1, 1, &page));
    CHECK(field_is("after"));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_changes(h, 0, 1, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_changes(NULL, 0, 1, &page));

    int64_t latest = -1;
    OK(inv_wait_for_changes(h, 0, 1000, &latest)); /* already satisfied: returns at once */
    CHECK(latest == last_seq);
    latest = -1;
    OK(inv_wait_for_changes(h, last_seq, 10, &latest)); /* times out */
    CHECK(latest == last_seq);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_wait_for_changes(h, 0, 10, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_wait_for_changes(NULL, 0, 10, &latest));
}

static void test_batch(InvHandle *h, const char *laptop, const char *mouse) {
    InvStockOp ops[3];
    InvBatchResult result;
    InvStockSummary before, after;
    OK(inv_get_inventory(h, mouse, &before));

    OK(inv_stock_op_init(&ops[0], INV_OP_RESERVE, laptop, 2));
    ops[0].reference = "BASKET-1";
    OK(inv_stock_op_init(&ops[1], INV_OP_RESERVE, mouse, 1));
    ops[1].reference = "BASKET-1";
    OK(inv_stock_op_init(&ops[2], INV_OP_TRANSFER, laptop, 1));
    ops[2].location = "Warehouse A";
    ops[2].to_location = "Warehouse B";
    OK(inv_batch(h, ops, 3, "basket-1", &result));
    CHECK(result.len == 3);
    CHECK(result.len == 3 && result.items[0].len == 1 && result.items[0].items[0].reserved == 2);
    CHECK(result.len == 3 && result.items[1].len == 1 && result.items[1].items[0].reserved == 1);
    CHECK(result.len == 3 && result.items[2].len == 2 && result.items[2].items[1].on_hand == 6);
    inv_batch_result_free(&result);
    CHECK(result.items == NULL && result.len == 0);
    OK(inv_batch(h, ops, 3, "basket-1", &result)); /* replayed, not applied twice */
    inv_batch_result_free(&result);

    OK(inv_get_inventory(h, mouse, &after));
    CHECK(after.totals.reserved == before.totals.reserved + 1);
    inv_stock_summary_free(&after);

    /* All or nothing: the second operation fails, the first is not applied. */
    OK(inv_stock_op_init(&ops[0], INV_OP_REMOVE, mouse, 1));
    OK(inv_stock_op_init(&ops[1], INV_OP_REMOVE, mouse, 1000));
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_batch(h, ops, 2, NULL, &result));
    CHECK(inv_last_error_index() == 1);
    CHECK(result.items == NULL);
    OK(inv_get_inventory(h, mouse, &after));
    CHECK(after.totals.on_hand == before.totals.on_hand && after.totals.reserved == before.totals.reserved + 1);
    inv_stock_summary_free(&after);
    /* A malformed operation is refused at its index before anything runs. */
    ops[1].product_id = "nope";
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_batch(h, ops, 2, NULL, &result));
    CHECK(inv_last_error_index() == 1);
    CHECK(contains(inv_last_error_message(), "operation 1"));
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_batch(h, NULL, 0, NULL, &result));
    CHECK(inv_last_error_index() == -1);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_batch(h, NULL, 2, NULL, &result));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_batch(h, ops, 2, NULL, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_batch(NULL, ops, 2, NULL, &result));
    inv_stock_summary_free(&before);

    /* Release the basket again so that later totals are simple. */
    OK(inv_stock_op_init(&ops[0], INV_OP_UNRESERVE, laptop, 0));
    ops[0].has_quantity = false;
    ops[0].reference = "BASKET-1";
    OK(inv_stock_op_init(&ops[1], INV_OP_UNRESERVE, mouse, 0));
    ops[1].has_quantity = false;
    ops[1].reference = "BASKET-1";
    OK(inv_batch(h, ops, 2, NULL, &result));
    inv_batch_result_free(&result);
    inv_batch_result_free(NULL);
}

/* Reservations with expiry, driven by a manual clock. */
static void test_expiry(void) {
    char path[1200];
    path_of(path, sizeof path, "expiry.db");
    InvOptions options = {0};
    options.manual_clock = true;
    options.clock_start_us = CLOCK_START_S * 1000000;
    InvHandle *h;
    OK(inv_open_with(path, &options, &h));
    char id[INV_UUID_LEN];
    create(h, "Ticket", "TKT001", NULL, 100, -1, id);

    InvStockOp op;
    InvLevel level;
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, id, 5));
    op.reference = "CART-1";
    op.expires_kind = INV_EXPIRES_IN_SECONDS;
    op.expires_value = 60;
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    op.reference = "CART-2";
    op.expires_kind = INV_EXPIRES_AT_UNIX;
    op.expires_value = CLOCK_START_S + 120;
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    op.reference = "CART-3";
    op.expires_kind = INV_EXPIRES_AT_RFC3339;
    op.expires_at = "2030-01-01T00:03:00Z";
    OK(inv_reserve_stock(h, &op, NULL, &level));
    CHECK(level.reserved == 15);
    inv_level_free(&level);
    op.reference = "CART-4";
    op.expires_kind = INV_EXPIRES_NEVER;
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    /* bad expiries */
    op.expires_kind = INV_EXPIRES_AT_RFC3339;
    op.expires_at = "tomorrow";
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_reserve_stock(h, &op, NULL, &level));
    CHECK(field_is("expires_at"));
    op.expires_at = NULL;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_reserve_stock(h, &op, NULL, &level));
    op.expires_kind = INV_EXPIRES_AT_UNIX;
    op.expires_value = CLOCK_START_S - 1;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_reserve_stock(h, &op, NULL, &level));
    CHECK(field_is("expires_at"));
    op.expires_value = INT64_MAX;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_reserve_stock(h, &op, NULL, &level));
    op.expires_kind = INV_EXPIRES_IN_SECONDS;
    op.expires_value = 0;
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_reserve_stock(h, &op, NULL, &level));
    CHECK(field_is("expires_in_seconds"));

    InvReservationList res;
    OK(inv_list_reservations(h, id, &res));
    CHECK(res.len == 4);
    int with_expiry = 0;
    for (size_t i = 0; i < res.len; i++) {
        CHECK(streq(res.items[i].product_id, id) && res.items[i].quantity == 5);
        CHECK(streq(res.items[i].location, "default"));
        if (res.items[i].has_expiry) {
            with_expiry++;
            CHECK(res.items[i].expires_at_us > options.clock_start_us);
        } else {
            CHECK(res.items[i].expires_at_us == 0 && streq(res.items[i].reference, "CART-4"));
        }
    }
    CHECK(with_expiry == 3);
    inv_reservation_list_free(&res);
    CHECK(res.items == NULL);
    OK(inv_reservations_by_reference(h, "CART-2", &res));
    CHECK(res.len == 1 && res.items[0].expires_at_us == (CLOCK_START_S + 120) * 1000000);
    inv_reservation_list_free(&res);
    OK(inv_reservations_by_reference(h, "NOBODY", &res));
    CHECK(res.len == 0);
    EXPECT(INV_ERR_NOT_FOUND, inv_list_reservations(h, NO_SUCH_ID, &res));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_reservations(h, NULL, &res));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_reservations(h, id, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_list_reservations(NULL, id, &res));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_reservations_by_reference(h, NULL, &res));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_reservations_by_reference(h, "X", NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_reservations_by_reference(NULL, "X", &res));

    /* Past CART-1's expiry, a read already sees it released. */
    OK(inv_clock_advance(h, 61));
    InvStockSummary s;
    OK(inv_get_inventory(h, id, &s));
    CHECK(s.totals.reserved == 15 && s.totals.available == 85);
    inv_stock_summary_free(&s);
    /* The sweep releases the rest once due. */
    OK(inv_clock_advance(h, 200));
    uint64_t released = 0;
    OK(inv_expire_reservations(h, &released));
    CHECK(released == 2);
    OK(inv_expire_reservations(h, NULL));
    OK(inv_get_inventory(h, id, &s));
    CHECK(s.totals.reserved == 5);
    inv_stock_summary_free(&s);
    InvMovementList moves;
    InvMovementQuery mq = {0};
    mq.limit = 100;
    OK(inv_list_movements(h, id, &mq, &moves));
    int expired = 0;
    for (size_t i = 0; i < moves.len; i++) expired += streq(moves.items[i].kind, "EXPIRE");
    CHECK(expired == 3);
    inv_movement_list_free(&moves);
    /* An expired reservation can no longer be committed. */
    OK(inv_stock_op_init(&op, INV_OP_COMMIT, id, 0));
    op.has_quantity = false;
    op.reference = "CART-1";
    CHECK(inv_commit_reservation(h, &op, NULL, &level) != INV_OK);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_expire_reservations(NULL, &released));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_clock_advance(NULL, 1));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_clock_advance(h, INT64_MAX));

    InvVerifyReport report;
    OK(inv_verify(h, &report));
    CHECK(report.ok && report.problems_len == 0 && report.problems == NULL);
    inv_verify_report_free(&report);
    inv_close(h);
}

static void test_verify_and_misc(InvHandle *h) {
    InvVerifyReport report;
    OK(inv_verify(h, &report));
    CHECK(report.ok);
    CHECK(report.problems_len == 0);
    inv_verify_report_free(&report);
    inv_verify_report_free(&report);
    inv_verify_report_free(NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_verify(h, NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_verify(NULL, &report));
    OK(inv_health(h));
    OK(inv_checkpoint(h));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_health(NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_checkpoint(NULL));

    /* Every free function accepts NULL and zeroed structs. */
    InvLevel level = {0};
    InvLevelList levels = {0};
    InvBatchResult batch = {0};
    InvProduct product = {0};
    InvProductList products = {0};
    InvProductWithStock pws = {0};
    InvStockSummary summary = {0};
    InvMovementList moves = {0};
    InvChangePage page = {0};
    InvLocation location = {0};
    InvLocationList locations = {0};
    InvReservationList reservations = {0};
    inv_level_free(&level);
    inv_level_list_free(&levels);
    inv_level_list_free(NULL);
    inv_batch_result_free(&batch);
    inv_product_free(&product);
    inv_product_free(NULL);
    inv_product_list_free(&products);
    inv_product_list_free(NULL);
    inv_product_with_stock_free(&pws);
    inv_product_with_stock_free(NULL);
    inv_stock_summary_free(&summary);
    inv_stock_summary_free(NULL);
    inv_movement_list_free(&moves);
    inv_movement_list_free(NULL);
    inv_change_page_free(&page);
    inv_change_page_free(NULL);
    inv_location_free(&location);
    inv_location_free(NULL);
    inv_location_list_free(&locations);
    inv_location_list_free(NULL);
    inv_reservation_list_free(&reservations);
    inv_reservation_list_free(NULL);
    InvApiKey key = {0};
    inv_api_key_free(&key);
    inv_api_key_free(NULL);
    /* ... and leaves them empty. */
    CHECK(level.location == NULL && levels.items == NULL && levels.len == 0);
    CHECK(batch.items == NULL && batch.len == 0);
    CHECK(product.name == NULL && product.price == NULL && products.items == NULL);
    CHECK(pws.product.sku == NULL && pws.inventory.totals.location == NULL);
    CHECK(summary.totals.location == NULL && summary.locations.items == NULL);
    CHECK(moves.items == NULL && moves.len == 0 && page.movements.items == NULL);
    CHECK(location.name == NULL && locations.items == NULL && reservations.items == NULL);
    CHECK(key.name == NULL && key.locations == NULL && key.locations_len == 0);
    CHECK(report.problems == NULL && report.problems_len == 0);

    /* Freeing what the library filled releases it (valgrind checks) and empties it. */
    InvLocationList filled;
    OK(inv_list_locations(h, &filled));
    CHECK(filled.len > 0 && filled.items != NULL);
    inv_location_list_free(&filled);
    CHECK(filled.items == NULL && filled.len == 0);
}

/* The actor on movements: the handle's (InvOptions.actor), another handle's on the same
 * database (inv_with_actor), none. */
static void test_actors(void) {
    char path[1200];
    path_of(path, sizeof path, "actors.db");
    InvOptions options = {0};
    InvHandle *till, *alice, *plain, *bad = (InvHandle *)&bad;
    options.actor = NOT_UTF8;
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_open_with(path, &options, &bad));
    CHECK(bad == NULL && contains(inv_last_error_message(), "actor"));
    options.actor = "till-1";
    OK(inv_open_with(path, &options, &till));
    char id[INV_UUID_LEN];
    create(till, "Mug", "MUG-1", NULL, 10, -1, id);
    OK(inv_with_actor(till, "alice", &alice));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_with_actor(till, NULL, &bad));
    CHECK(bad == NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_with_actor(NULL, "x", &bad));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_with_actor(till, "x", NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_with_actor(till, NOT_UTF8, &bad));

    InvStockOp op;
    InvLevel level;
    OK(inv_stock_op_init(&op, INV_OP_REMOVE, id, 1));
    OK(inv_remove_stock(alice, &op, NULL, &level));
    inv_level_free(&level);
    inv_close(till); /* the other handle keeps the database open */
    OK(inv_stock_op_init(&op, INV_OP_TRANSFER, id, 2));
    op.to_location = "Back";
    InvStockOp ops[1] = {op};
    InvBatchResult result;
    OK(inv_batch(alice, ops, 1, NULL, &result));
    inv_batch_result_free(&result);
    /* The engine checks the actor like any input, when a write records it. */
    char *long_actor = repeat('a', 300);
    InvHandle *wordy;
    OK(inv_with_actor(alice, long_actor, &wordy));
    free(long_actor);
    OK(inv_stock_op_init(&op, INV_OP_ADD, id, 1));
    EXPECT(INV_ERR_VALIDATION_ERROR, inv_add_stock(wordy, &op, NULL, &level));
    CHECK(field_is("actor"));
    inv_close(wordy);
    inv_close(alice);

    OK(inv_open(path, &plain));
    OK(inv_add_stock(plain, &op, NULL, &level));
    inv_level_free(&level);
    InvChangePage page;
    OK(inv_changes(plain, 0, 0, &page));
    static const char *const want[][2] = {{"IN", "till-1"},         {"OUT", "alice"},
                                          {"TRANSFER_OUT", "alice"}, {"TRANSFER_IN", "alice"},
                                          {"IN", NULL}};
    CHECK(page.movements.len == 5);
    for (size_t i = 0; i < page.movements.len && i < 5; i++) {
        const InvMovement *m = &page.movements.items[i];
        CHECK(streq(m->kind, want[i][0]));
        CHECK(want[i][1] == NULL ? m->actor == NULL : streq(m->actor, want[i][1]));
    }
    inv_change_page_free(&page);
    CHECK(page.movements.items == NULL);
    inv_close(plain);
}

/* A till finds out what its key is; an unknown secret is refused without echoing it. (Keys
 * are made by the operator; the success path is tested from Rust, in inventory-c/tests.) */
static void test_authenticate(InvHandle *h) {
    InvApiKey key;
    EXPECT(INV_ERR_UNAUTHORIZED, inv_authenticate(h, "inv_not-a-real-secret", &key));
    CHECK(key.name == NULL && key.locations == NULL);
    CHECK(!contains(inv_last_error_message(), "not-a-real-secret"));
    CHECK(inv_last_error_field() == NULL);
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_authenticate(h, NULL, &key));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_authenticate(h, "x", NULL));
    EXPECT(INV_ERR_INVALID_ARGUMENT, inv_authenticate(NULL, "x", &key));
    inv_api_key_free(&key);
}

/* A commit without a reference takes the unreferenced reservation, all of it without a
 * quantity. */
static void test_unreferenced_commit(InvHandle *h) {
    char id[INV_UUID_LEN];
    create(h, "Tea", "TEA-1", NULL, 10, -1, id);
    InvStockOp op;
    InvLevel level;
    OK(inv_stock_op_init(&op, INV_OP_RESERVE, id, 4));
    OK(inv_reserve_stock(h, &op, NULL, &level));
    inv_level_free(&level);
    OK(inv_stock_op_init(&op, INV_OP_COMMIT, id, 1));
    OK(inv_commit_reservation(h, &op, NULL, &level));
    CHECK(level.on_hand == 9 && level.reserved == 3);
    inv_level_free(&level);
    op.has_quantity = false;
    OK(inv_commit_reservation(h, &op, NULL, &level));
    CHECK(level.on_hand == 6 && level.reserved == 0);
    inv_level_free(&level);
    EXPECT(INV_ERR_INSUFFICIENT_RESERVED, inv_commit_reservation(h, &op, NULL, &level));
}

/* The message the header quotes for inv_last_error_message is the engine's. */
static void test_error_message(InvHandle *h) {
    char id[INV_UUID_LEN];
    create(h, "Beans", "BEANS-1", "Front store", 3, -1, id);
    InvStockOp op;
    InvLevel level;
    OK(inv_stock_op_init(&op, INV_OP_REMOVE, id, 5));
    EXPECT(INV_ERR_INSUFFICIENT_STOCK, inv_remove_stock(h, &op, NULL, &level));
    CHECK(streq(inv_last_error_message(),
                "INSUFFICIENT_STOCK: only 3 available at Front store, 5 requested"));
}

/* Data written through one handle is there after reopening the file. */
static void test_reopen(const char *path, const char *laptop) {
    InvHandle *h;
    OK(inv_open(path, &h));
    InvProductWithStock p;
    OK(inv_get_product(h, laptop, &p));
    CHECK(streq(p.product.name, "Laptop Pro") && p.inventory.totals.on_hand == 45);
    inv_product_with_stock_free(&p);
    inv_close(h);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    test_names_and_last_error();
    test_version();
    test_open();

    char path[1200];
    path_of(path, sizeof path, "shop.db");
    InvHandle *h;
    OK(inv_open(path, &h));
    char laptop[INV_UUID_LEN];
    test_products(h, laptop);
    test_locations(h);
    test_stock(h, laptop);
    test_reads(h, laptop);

    InvProductQuery q = {0};
    q.q = "MOU";
    InvProductList list;
    OK(inv_list_products(h, &q, &list));
    CHECK(list.len == 1); /* the mouse test_products made */
    if (list.len == 1) {
        char mouse[INV_UUID_LEN];
        memcpy(mouse, list.items[0].id, INV_UUID_LEN);
        test_batch(h, laptop, mouse);
    }
    inv_product_list_free(&list);
    test_changes(h);
    test_verify_and_misc(h);
    test_authenticate(h);
    test_unreferenced_commit(h);
    test_error_message(h);
    inv_close(h);
    test_reopen(path, laptop);
    test_expiry();
    test_actors();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
