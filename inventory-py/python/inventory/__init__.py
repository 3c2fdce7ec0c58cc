"""An embeddable inventory engine: products, stock per location and an audit ledger in one
SQLite file, used in-process from Python.

>>> import inventory
>>> from decimal import Decimal
>>> with inventory.Inventory("shop.db") as inv:  # doctest: +SKIP
...     p = inv.create_product(name="Laptop", sku="LAP001", price=Decimal("1500.00"),
...                            location="Warehouse A", initial_quantity=50)
...     inv.reserve_stock(p.id, 10, reference="ORDER-456").available
40

Every database call releases the GIL, and one ``Inventory`` may be shared by many threads.
Errors are ``InventoryError`` subclasses chosen by the engine's error code (``.code``).
``stock_fields(op)`` is the engine's table of what each stock operation takes: the keywords of
its method and the keys of its ``batch`` items. ``Till`` is a till that keeps selling offline
from an allotment held at a central inventory server (docs/TILLS.md).
"""

from ._inventory import (
    DEFAULT_CHANGES_PAGE,
    DEFAULT_LOCATION,
    DEFAULT_PAGE,
    IDEMPOTENCY_TTL_HOURS,
    MAX_BATCH,
    MAX_CHANGES_PAGE,
    MAX_PAGE,
    STOCK_OPS,
    TILL_DEFAULT_LEASE_SECONDS,
    Allotment,
    AllotmentChange,
    ApiKey,
    BusyError,
    ChangeFeed,
    ChangePage,
    Conflict,
    ConflictError,
    CreatedKey,
    DuplicateSkuError,
    ForbiddenError,
    InsufficientReservedError,
    InsufficientStockError,
    Inventory,
    InventoryError,
    Location,
    ManualClock,
    Movement,
    NotFoundError,
    Product,
    ProductWithStock,
    Reservation,
    Sale,
    StockLevel,
    StockSummary,
    StorageError,
    SyncReport,
    TakeOver,
    Till,
    TillRegistration,
    TillStatus,
    UnauthorizedError,
    ValidationError,
    VerifyReport,
    __version__,
    required_stock_fields,
    stock_fields,
)

__all__ = [
    "DEFAULT_CHANGES_PAGE",
    "DEFAULT_LOCATION",
    "DEFAULT_PAGE",
    "IDEMPOTENCY_TTL_HOURS",
    "MAX_BATCH",
    "MAX_CHANGES_PAGE",
    "MAX_PAGE",
    "STOCK_OPS",
    "TILL_DEFAULT_LEASE_SECONDS",
    "Allotment",
    "AllotmentChange",
    "ApiKey",
    "BusyError",
    "ChangeFeed",
    "ChangePage",
    "Conflict",
    "ConflictError",
    "CreatedKey",
    "DuplicateSkuError",
    "ForbiddenError",
    "InsufficientReservedError",
    "InsufficientStockError",
    "Inventory",
    "InventoryError",
    "Location",
    "ManualClock",
    "Movement",
    "NotFoundError",
    "Product",
    "ProductWithStock",
    "Reservation",
    "Sale",
    "StockLevel",
    "StockSummary",
    "StorageError",
    "SyncReport",
    "TakeOver",
    "Till",
    "TillRegistration",
    "TillStatus",
    "UnauthorizedError",
    "ValidationError",
    "VerifyReport",
    "required_stock_fields",
    "stock_fields",
]
