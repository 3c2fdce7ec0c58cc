// The header compiles as C++17 (extern "C" guards, no C-only constructs) and links: a small
// program uses it from C++ against the real library.
// Usage: header_check DB_PATH
#include "inventory.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

static_assert(std::is_standard_layout<InvLevel>::value, "InvLevel is a plain C struct");
static_assert(INV_OK == 0, "INV_OK is zero");

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    InvHandle *h = nullptr;
    if (inv_open(argv[1], &h) != INV_OK) return 1;

    InvNewProduct np{};
    np.name = "Cable";
    np.sku = "CBL-1";
    np.price = "4.99";
    np.initial_quantity = 7;
    InvProductWithStock created{};
    int failures = 0;
    if (inv_create_product(h, &np, nullptr, &created) != INV_OK) failures++;
    std::string id = created.product.id;
    inv_product_with_stock_free(&created);

    InvStockOp op{};
    inv_stock_op_init(&op, INV_OP_REMOVE, id.c_str(), 8);
    InvLevel level{};
    InvStatus s = inv_remove_stock(h, &op, nullptr, &level);
    if (s != INV_ERR_INSUFFICIENT_STOCK) failures++;
    if (std::strcmp(inv_status_name(s), "INSUFFICIENT_STOCK") != 0) failures++;
    op.quantity = 2;
    if (inv_remove_stock(h, &op, nullptr, &level) != INV_OK || level.on_hand != 5) failures++;
    inv_level_free(&level);
    inv_close(h);
    std::printf("c++: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
