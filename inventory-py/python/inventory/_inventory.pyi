"""Type stub of the compiled module; checked against it by `python -m mypy.stubtest`."""

import os
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from datetime import timedelta
from typing import Iterator, List, Literal, Optional, Tuple, TypedDict, Union, final, overload

from typing_extensions import disjoint_base

__all__ = [
    "Allotment",
    "AllotmentChange",
    "ApiKey",
    "BusyError",
    "ChangeFeed",
    "ChangePage",
    "Conflict",
    "ConflictError",
    "CreatedKey",
    "DEFAULT_CHANGES_PAGE",
    "DEFAULT_LOCATION",
    "DEFAULT_PAGE",
    "DuplicateSkuError",
    "ForbiddenError",
    "IDEMPOTENCY_TTL_HOURS",
    "InsufficientReservedError",
    "InsufficientStockError",
    "Inventory",
    "InventoryError",
    "Location",
    "MAX_BATCH",
    "MAX_CHANGES_PAGE",
    "MAX_PAGE",
    "ManualClock",
    "Movement",
    "NotFoundError",
    "Product",
    "ProductWithStock",
    "Reservation",
    "STOCK_OPS",
    "Sale",
    "StockLevel",
    "StockSummary",
    "StorageError",
    "SyncReport",
    "TILL_DEFAULT_LEASE_SECONDS",
    "TakeOver",
    "Till",
    "TillRegistration",
    "TillStatus",
    "UnauthorizedError",
    "ValidationError",
    "VerifyReport",
    "Webhook",
    "CreatedWebhook",
    "Delivery",
    "required_stock_fields",
    "stock_fields",
    "__version__",
]

__version__: str
DEFAULT_LOCATION: str
IDEMPOTENCY_TTL_HOURS: int
DEFAULT_PAGE: int
MAX_PAGE: int
DEFAULT_CHANGES_PAGE: int
MAX_CHANGES_PAGE: int
MAX_BATCH: int
TILL_DEFAULT_LEASE_SECONDS: int

_Op = Literal["add", "remove", "reserve", "unreserve", "commit", "transfer", "count", "renew"]
STOCK_OPS: Tuple[_Op, ...]

def stock_fields(op: str) -> Tuple[str, ...]: ...
def required_stock_fields(op: str) -> Tuple[str, ...]: ...

_Price = Union[Decimal, int, str]
_Scope = Literal["read", "write", "admin"]

# Every key an item may hold; which fields an op takes is `stock_fields(op)`.
class _BatchOp(TypedDict, total=False):
    op: _Op
    product_id: str
    quantity: Optional[int]
    counted: Optional[int]
    location: Optional[str]
    from_location: Optional[str]
    to_location: Optional[str]
    reference: Optional[str]
    reservation: Optional[str]
    notes: Optional[str]
    external_id: Optional[str]
    expires_in_seconds: Optional[int]
    expires_at: Optional[datetime]
    expected_available: Optional[int]
    expected_quantity: Optional[int]
    release_remainder: Optional[bool]

class InventoryError(Exception):
    code: Optional[str]
    message: Optional[str]
    field: Optional[str]
    index: Optional[int]

class NotFoundError(InventoryError): ...
class ValidationError(InventoryError, ValueError): ...
class InsufficientStockError(InventoryError): ...
class InsufficientReservedError(InsufficientStockError): ...
class DuplicateSkuError(InventoryError): ...
class ConflictError(InventoryError): ...
class StorageError(InventoryError): ...
class BusyError(StorageError): ...
class UnauthorizedError(InventoryError): ...
class ForbiddenError(InventoryError): ...

@final
class Product:
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def location(self) -> str: ...
    @property
    def reorder_point(self) -> Optional[int]: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...

# Not final: StockSummary extends it (a summary is the level of the totals).
@disjoint_base
class StockLevel:
    @property
    def id(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def on_hand(self) -> int: ...
    @property
    def reserved(self) -> int: ...
    @property
    def available(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...

@final
class StockSummary(StockLevel):
    @property
    def locations(self) -> List[StockLevel]: ...

@final
class ProductWithStock:
    @property
    def product(self) -> Product: ...
    @property
    def inventory(self) -> StockSummary: ...

@final
class Movement:
    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def inventory_id(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def on_hand_after(self) -> int: ...
    @property
    def reserved_after(self) -> int: ...
    @property
    def reference(self) -> Optional[str]: ...
    @property
    def notes(self) -> Optional[str]: ...
    @property
    def external_id(self) -> Optional[str]: ...
    @property
    def transfer_id(self) -> Optional[str]: ...
    @property
    def actor(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime: ...

@final
class Location:
    @property
    def name(self) -> str: ...
    @property
    def on_hand(self) -> int: ...
    @property
    def reserved(self) -> int: ...
    @property
    def available(self) -> int: ...
    @property
    def products(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...

@final
class Reservation:
    @property
    def id(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def expires_at(self) -> Optional[datetime]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def owner(self) -> Optional[str]: ...

@final
class VerifyReport:
    @property
    def ok(self) -> bool: ...
    @property
    def problems(self) -> List[str]: ...

@final
class ChangePage:
    @property
    def movements(self) -> List[Movement]: ...
    @property
    def next_after(self) -> int: ...

@final
class ApiKey:
    @property
    def name(self) -> str: ...
    @property
    def scope(self) -> _Scope: ...
    @property
    def locations(self) -> Optional[List[str]]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> Optional[datetime]: ...

@final
class CreatedKey:
    @property
    def key(self) -> ApiKey: ...
    @property
    def secret(self) -> str: ...

@final
class Webhook:
    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def events(self) -> List[str]: ...
    @property
    def locations(self) -> Optional[List[str]]: ...
    @property
    def product_ids(self) -> Optional[List[str]]: ...
    @property
    def state(self) -> Literal["active", "paused"]: ...
    @property
    def paused_reason(self) -> Optional[str]: ...
    @property
    def after(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def failing_since(self) -> Optional[datetime]: ...
    @property
    def next_attempt_at(self) -> Optional[datetime]: ...
    @property
    def lease_owner(self) -> Optional[str]: ...
    @property
    def lease_until(self) -> Optional[datetime]: ...
    @property
    def created_at(self) -> datetime: ...

@final
class CreatedWebhook:
    @property
    def webhook(self) -> Webhook: ...
    @property
    def secret(self) -> str: ...

@final
class Delivery:
    @property
    def id(self) -> int: ...
    @property
    def webhook_id(self) -> str: ...
    @property
    def first_seq(self) -> int: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def status(self) -> Optional[int]: ...
    @property
    def latency_ms(self) -> int: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def at(self) -> datetime: ...

@final
class TillRegistration:
    @property
    def id(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def registered_at(self) -> datetime: ...
    @property
    def last_sync_at(self) -> datetime: ...

@final
class TillStatus:
    @property
    def till(self) -> TillRegistration: ...
    @property
    def allotments(self) -> List[Reservation]: ...
    @property
    def lag_seconds(self) -> int: ...

@final
class TakeOver:
    @property
    def till(self) -> TillRegistration: ...
    @property
    def released(self) -> int: ...
    @property
    def transferred(self) -> int: ...

@final
class ChangeFeed:
    def __iter__(self) -> Iterator[Movement]: ...
    def __next__(self) -> Movement: ...
    @property
    def after(self) -> int: ...

@final
class ManualClock:
    def __new__(cls, start: Optional[datetime] = None) -> ManualClock: ...
    def now(self) -> datetime: ...
    def advance(self, by: Union[timedelta, float]) -> None: ...
    def set(self, to: datetime) -> None: ...

@final
class Inventory:
    def __new__(
        cls,
        path: Union[str, os.PathLike[str]],
        *,
        durability: Literal["full", "normal"] = "full",
        clock: Optional[ManualClock] = None,
        actor: Optional[str] = None,
        busy_timeout: Optional[float] = None,
    ) -> Inventory: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def actor(self) -> Optional[str]: ...
    def __enter__(self) -> Inventory: ...
    def __exit__(
        self,
        *_exc: Union[type[BaseException], BaseException, TracebackType, None],
    ) -> bool: ...
    def create_product(
        self,
        *,
        name: str,
        sku: str,
        price: _Price,
        description: str = "",
        location: Optional[str] = None,
        initial_quantity: int = 0,
        reorder_point: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> Product: ...
    def get_product(self, id: str) -> ProductWithStock: ...
    def list_products(
        self,
        limit: int = 10,
        offset: int = 0,
        *,
        low_stock: bool = False,
        q: Optional[str] = None,
    ) -> List[Product]: ...
    def update_product(
        self,
        id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        price: Optional[_Price] = None,
        reorder_point: Optional[int] = ...,
        expected_version: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> Product: ...
    def delete_product(
        self,
        id: str,
        *,
        expected_version: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> None: ...
    def create_location(self, name: str, *, idempotency_key: Optional[str] = None) -> Location: ...
    def list_locations(self) -> List[Location]: ...
    def add_stock(
        self,
        id: str,
        quantity: int,
        *,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        external_id: Optional[str] = None,
        location: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def remove_stock(
        self,
        id: str,
        quantity: int,
        *,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        location: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def reserve_stock(
        self,
        id: str,
        quantity: int,
        *,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        location: Optional[str] = None,
        expires_in_seconds: Optional[int] = None,
        expires_at: Optional[datetime] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def unreserve_stock(
        self,
        id: str,
        quantity: Optional[int] = None,
        *,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        location: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def commit_reservation(
        self,
        id: str,
        reference: Optional[str] = None,
        *,
        quantity: Optional[int] = None,
        location: Optional[str] = None,
        reservation: Optional[str] = None,
        release_remainder: bool = False,
        notes: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def renew_reservation(
        self,
        id: str,
        reference: Optional[str] = None,
        *,
        location: Optional[str] = None,
        expires_in_seconds: Optional[int] = None,
        expires_at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def transfer_stock(
        self,
        id: str,
        quantity: int,
        *,
        to_location: str,
        from_location: Optional[str] = None,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> Tuple[StockLevel, StockLevel]: ...
    def count_stock(
        self,
        id: str,
        counted: int,
        *,
        location: Optional[str] = None,
        reference: Optional[str] = None,
        notes: Optional[str] = None,
        expected_available: Optional[int] = None,
        expected_quantity: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> StockLevel: ...
    def batch(
        self,
        operations: List[_BatchOp],
        *,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> List[List[StockLevel]]: ...
    def expire_reservations(self) -> int: ...
    def create_webhook(
        self,
        url: str,
        events: Optional[List[str]] = None,
        locations: Optional[List[str]] = None,
        product_ids: Optional[List[str]] = None,
    ) -> CreatedWebhook: ...
    def webhooks(self) -> List[Webhook]: ...
    def webhook(self, id: str) -> Webhook: ...
    def pause_webhook(self, id: str) -> Webhook: ...
    def resume_webhook(self, id: str) -> Webhook: ...
    def rewind_webhook(self, id: str, after: int) -> Webhook: ...
    def delete_webhook(self, id: str) -> Webhook: ...
    def webhook_deliveries(
        self, id: str, event: Optional[int] = None, limit: Optional[int] = None
    ) -> List[Delivery]: ...
    def create_key(
        self, name: str, scope: _Scope, locations: Optional[List[str]] = None
    ) -> CreatedKey: ...
    def list_keys(self) -> List[ApiKey]: ...
    def revoke_key(self, name: str) -> ApiKey: ...
    def authenticate(self, secret: str) -> ApiKey: ...
    @overload
    def get_inventory(self, id: str, location: None = None) -> StockSummary: ...
    @overload
    def get_inventory(self, id: str, location: str) -> StockLevel: ...
    def list_transactions(
        self,
        id: str,
        limit: int = 10,
        offset: int = 0,
        *,
        location: Optional[str] = None,
        after: Optional[int] = None,
        before: Optional[int] = None,
    ) -> List[Movement]: ...
    def list_reservations(self, id: str) -> List[Reservation]: ...
    def reservations_by_reference(self, reference: str) -> List[Reservation]: ...
    def tills(self) -> List[TillStatus]: ...
    def take_over_till(self, till_id: str, *, release: bool) -> TakeOver: ...
    def changes(self, after: int = 0, limit: int = 100) -> ChangePage: ...
    def iter_changes(
        self,
        after: int = 0,
        *,
        limit: int = 100,
        follow: bool = False,
        timeout: Optional[float] = None,
    ) -> ChangeFeed: ...
    def verify(self) -> VerifyReport: ...
    def health(self) -> None: ...
    def checkpoint(self) -> None: ...
    def now(self) -> datetime: ...

@final
class Sale:
    @property
    def reference(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def sold_at(self) -> datetime: ...
    @property
    def seq(self) -> int: ...
    @property
    def notes(self) -> Optional[str]: ...
    @property
    def actor(self) -> Optional[str]: ...
    @property
    def conflict(self) -> bool: ...

@final
class Allotment:
    @property
    def product_id(self) -> str: ...
    @property
    def target(self) -> int: ...
    @property
    def held(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def lease_expires_at(self) -> Optional[datetime]: ...

_Resolution = Literal["apply", "discard"]

@final
class Conflict:
    @property
    def sale(self) -> Sale: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def found_at(self) -> datetime: ...
    @property
    def resolution(self) -> Optional[_Resolution]: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def resolution_error(self) -> Optional[str]: ...

@final
class AllotmentChange:
    @property
    def product_id(self) -> str: ...
    @property
    def before(self) -> int: ...
    @property
    def after(self) -> int: ...
    @property
    def held(self) -> int: ...

@final
class SyncReport:
    @property
    def complete(self) -> bool: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def error_message(self) -> Optional[str]: ...
    @property
    def pushed(self) -> int: ...
    @property
    def already_applied(self) -> int: ...
    @property
    def refitted(self) -> int: ...
    @property
    def resolved(self) -> int: ...
    @property
    def rewound(self) -> bool: ...
    @property
    def repushed(self) -> int: ...
    @property
    def conflicts(self) -> List[Conflict]: ...
    @property
    def allotments(self) -> List[AllotmentChange]: ...
    @property
    def catalogue_created(self) -> int: ...
    @property
    def catalogue_updated(self) -> int: ...
    @property
    def catalogue_archived(self) -> int: ...

@final
class Till:
    def __new__(
        cls,
        path: Union[str, os.PathLike[str]],
        central_url: str,
        key: str,
        till_id: str,
        location: str,
        *,
        lease: Optional[float] = None,
        timeout: Optional[float] = None,
        sync_interval: Optional[float] = None,
        retention: Optional[float] = None,
    ) -> Till: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def till_id(self) -> str: ...
    @property
    def location(self) -> str: ...
    def __enter__(self) -> Till: ...
    def __exit__(
        self,
        *_exc: Union[type[BaseException], BaseException, TracebackType, None],
    ) -> bool: ...
    def sell(
        self,
        product_id: str,
        quantity: int,
        *,
        sale_id: Optional[str] = None,
        notes: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> Sale: ...
    def sync(self) -> SyncReport: ...
    def last_report(self) -> Optional[SyncReport]: ...
    def pending(self) -> List[Sale]: ...
    def allotments(self) -> List[Allotment]: ...
    def set_target(self, product_id: str, target: int) -> None: ...
    def conflicts(self) -> List[Conflict]: ...
    def resolve(self, reference: str, resolution: _Resolution, reason: str) -> bool: ...
    @property
    def inventory(self) -> Inventory: ...
