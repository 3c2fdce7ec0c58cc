"""Every stock method, its stub and the batch items against the engine's table of shapes
(`inventory.stock_fields`), and the page defaults against the engine's constants: a field added
to the table and not exposed here, or a default retyped and gone stale, fails one of these."""

import ast
import inspect
import pathlib
from datetime import datetime, timedelta, timezone

import pytest

import inventory

METHODS = {
    "add": "add_stock",
    "remove": "remove_stock",
    "reserve": "reserve_stock",
    "unreserve": "unreserve_stock",
    "commit": "commit_reservation",
    "transfer": "transfer_stock",
    "count": "count_stock",
    "renew": "renew_reservation",
}
# What a stock method takes besides its fields: the product, and the call's options.
CALL = {"self", "id", "idempotency_key", "actor"}

# A valid value for every field of the table, on the `laptop` fixture (50 at Warehouse A).
SAMPLES = {
    "quantity": 1,
    "counted": 50,
    "location": "Warehouse A",
    "from_location": "Warehouse A",
    "to_location": "Store 1",
    "reference": "R-1",
    "reservation": "R-1",
    "notes": "n",
    "external_id": "ERP-REC-1",
    "expires_in_seconds": 60,
    "expires_at": datetime.now(timezone.utc) + timedelta(hours=1),
    "expected_available": 50,
    "expected_quantity": 50,
    "release_remainder": True,
}

STUB = pathlib.Path(inventory.__file__).with_name("_inventory.pyi")


def stub_class(name):
    tree = ast.parse(STUB.read_text())
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def stub_method(name):
    node = next(
        n for n in stub_class("Inventory").body if isinstance(n, ast.FunctionDef) and n.name == name
    )
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + args.defaults
    params = dict(zip((a.arg for a in positional), defaults))
    params.update(zip((a.arg for a in args.kwonlyargs), args.kw_defaults))
    return {
        name: (inspect.Parameter.empty if d is None else ast.literal_eval(d))
        for name, d in params.items()
    }


def runtime_method(name):
    signature = inspect.signature(getattr(inventory.Inventory, name))
    return {n: p.default for n, p in signature.parameters.items()}


def test_every_op_has_its_method():
    assert set(inventory.STOCK_OPS) == set(METHODS)
    for op in inventory.STOCK_OPS:
        assert set(inventory.required_stock_fields(op)) <= set(inventory.stock_fields(op))
    with pytest.raises(inventory.ValidationError) as err:
        inventory.stock_fields("fly")
    assert err.value.field == "op"


@pytest.mark.parametrize("op", sorted(METHODS))
def test_stub_keywords_are_the_table(op):
    params = stub_method(METHODS[op])
    assert CALL <= set(params)
    fields = {n: d for n, d in params.items() if n not in CALL}
    assert set(fields) == set(inventory.stock_fields(op))
    required = set(inventory.required_stock_fields(op))
    for name, default in fields.items():
        if name in required:
            assert default is inspect.Parameter.empty, name
        else:
            assert default in (None, False), name


@pytest.mark.parametrize("op", sorted(METHODS))
def test_runtime_takes_the_table_as_keywords(op):
    """The method's own parameters are the call's options and its positional fields; every
    other field comes in as a keyword, read through the engine's table."""
    params = inspect.signature(getattr(inventory.Inventory, METHODS[op])).parameters
    kinds = {p.kind for p in params.values()}
    assert inspect.Parameter.VAR_KEYWORD in kinds
    named = {n for n, p in params.items() if p.kind != inspect.Parameter.VAR_KEYWORD}
    assert CALL <= named
    assert named - CALL <= set(inventory.stock_fields(op))
    # What the stub puts first is what the runtime takes positionally.
    positional = [n for n, p in params.items() if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]
    stub = [n for n in stub_method(METHODS[op]) if n != "self"]
    assert positional == stub[: len(positional)]


@pytest.mark.parametrize("op", sorted(METHODS))
def test_method_keywords_are_the_table(inv, laptop, op):
    """Each field the table gives an op is a keyword of its method; every other is refused,
    with the engine's one message."""
    method = getattr(inv, METHODS[op])
    required = [f for f in inventory.required_stock_fields(op) if f in ("quantity", "counted")]
    args = [SAMPLES[f] for f in required]
    base = {f: SAMPLES[f] for f in inventory.required_stock_fields(op) if f not in required}
    for field in SAMPLES:
        if field in required:
            continue
        try:
            method(laptop.id, *args, **{**base, field: SAMPLES[field]})
        except inventory.InventoryError as e:
            refused = isinstance(e, inventory.ValidationError) and e.field == field
            if refused:
                assert f"does not apply to {'an' if op[0] in 'aeiou' else 'a'} {op} operation" in str(e), str(e)
        else:
            refused = False
        assert refused == (field not in inventory.stock_fields(op)), (op, field)


def test_stub_batch_item_keys_are_the_table():
    item = stub_class("_BatchOp")
    keys = {n.target.id for n in item.body if isinstance(n, ast.AnnAssign)}
    every = {f for op in inventory.STOCK_OPS for f in inventory.stock_fields(op)}
    assert keys == {"op", "product_id"} | every
    assert every == set(SAMPLES)


@pytest.mark.parametrize("op", sorted(METHODS))
def test_batch_item_keys_are_the_table(inv, laptop, op):
    """Each field the table gives an op is a key of its batch items; every other is refused."""
    base = {"op": op, "product_id": laptop.id}
    base.update({f: SAMPLES[f] for f in inventory.required_stock_fields(op)})
    for field in SAMPLES:
        item = {**base, field: SAMPLES[field]}
        try:
            inv.batch([item])
        except inventory.InventoryError as e:
            refused = isinstance(e, inventory.ValidationError) and e.field == field
        else:
            refused = False
        assert refused == (field not in inventory.stock_fields(op)), (op, field)


@pytest.mark.parametrize(
    "method, param, constant",
    [
        ("list_products", "limit", "DEFAULT_PAGE"),
        ("list_transactions", "limit", "DEFAULT_PAGE"),
        ("changes", "limit", "DEFAULT_CHANGES_PAGE"),
        ("iter_changes", "limit", "DEFAULT_CHANGES_PAGE"),
    ],
)
def test_page_defaults_are_the_engines(method, param, constant):
    value = getattr(inventory, constant)
    assert runtime_method(method)[param] == value
    assert stub_method(method)[param] == value


def test_page_limits_are_the_engines(inv):
    for i in range(inventory.DEFAULT_PAGE + 1):
        inv.create_product(name=f"P{i}", sku=f"P{i}", price=1, initial_quantity=1)
    assert len(inv.list_products()) == inventory.DEFAULT_PAGE
    assert len(inv.list_products(inventory.MAX_PAGE)) == inventory.DEFAULT_PAGE + 1
    with pytest.raises(inventory.ValidationError) as err:
        inv.list_products(inventory.MAX_PAGE + 1)
    assert err.value.field == "limit"
    assert len(inv.changes().movements) == inventory.DEFAULT_PAGE + 1
    with pytest.raises(inventory.ValidationError):
        inv.changes(0, inventory.MAX_CHANGES_PAGE + 1)
    assert inventory.DEFAULT_PAGE <= inventory.MAX_PAGE
    assert inventory.DEFAULT_CHANGES_PAGE <= inventory.MAX_CHANGES_PAGE
    p = inv.list_products(1)[0]
    with pytest.raises(inventory.ValidationError):
        inv.batch([{"op": "add", "product_id": p.id, "quantity": 1}] * (inventory.MAX_BATCH + 1))
