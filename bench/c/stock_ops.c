/* Stock operations per second through the C API: alternating add 1 / remove 1 on one product,
 * each call filling (and freeing) a level struct, as a till would. The Rust twin is
 * bench/c/rust_ops.rs; bench/c/run.sh runs both side by side.
 * Usage: stock_ops DB_PATH full|normal OPS */
#define _POSIX_C_SOURCE 200809L
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DB_PATH full|normal OPS\n", argv[0]);
        return 2;
    }
    InvOptions options = {0};
    options.durability = strcmp(argv[2], "normal") == 0 ? INV_DURABILITY_NORMAL : INV_DURABILITY_FULL;
    long ops = atol(argv[3]);
    InvHandle *h;
    if (inv_open_with(argv[1], &options, &h) != INV_OK) {
        fprintf(stderr, "open: %s\n", inv_last_error_message());
        return 1;
    }
    InvNewProduct np = {0};
    np.name = "Bench";
    np.sku = "BENCH-C";
    np.price = "1.00";
    np.initial_quantity = 1000000;
    InvProductWithStock created;
    if (inv_create_product(h, &np, NULL, &created) != INV_OK) {
        fprintf(stderr, "create: %s\n", inv_last_error_message());
        return 1;
    }
    char id[INV_UUID_LEN];
    memcpy(id, created.product.id, INV_UUID_LEN);
    inv_product_with_stock_free(&created);

    InvStockOp add, remove;
    inv_stock_op_init(&add, INV_OP_ADD, id, 1);
    inv_stock_op_init(&remove, INV_OP_REMOVE, id, 1);
    InvLevel level;
    double t0 = now_s();
    for (long i = 0; i < ops; i++) {
        InvStatus s = i % 2 ? inv_remove_stock(h, &remove, NULL, &level)
                            : inv_add_stock(h, &add, NULL, &level);
        if (s != INV_OK) {
            fprintf(stderr, "op %ld: %s\n", i, inv_last_error_message());
            return 1;
        }
        inv_level_free(&level);
    }
    double elapsed = now_s() - t0;
    inv_close(h);
    printf("c %s %.0f\n", argv[2], (double)ops / elapsed);
    return 0;
}
