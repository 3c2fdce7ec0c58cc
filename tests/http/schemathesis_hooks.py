"""schemathesis hooks (SCHEMATHESIS_HOOKS) for tests/http/run.sh.

Three rules of the engine relate a field to something a JSON schema cannot name, so a request
the document allows can still be refused with a 400 that names the field:
- `expires_at` must lie in the future, within the longest expiry (it is relative to now);
- a transfer's `to_location` must differ from its source, which defaults to the product's
  own location (another resource's state);
- no balance may exceed MAX_QUANTITY, so an add that is within the per-request maximum can
  still be refused once the level it adds to holds enough (the level's state).
Only those refusals are dropped, after checking that the request really broke the rule; every
other 400 for a schema-valid request stays a failure.

Two are about webhooks: a subscription's `url` must lead to a public address (unless the server
runs with --webhook-allow-private), which depends on the network, not on the text, and must be
a URL by RFC 3986, which the document's pattern only approximates; and a rewind's `after` must
be a seq the ledger holds (its state).

One more relates a request to another resource with a 403: a till's conflict report must name
a sale of a till registered under the caller's key (field `reference`), which no schema can
state; that refusal alone is dropped too.
"""

import json
from datetime import datetime, timedelta, timezone

import schemathesis

# The engine's MAX_EXPIRY_SECONDS, read from the document's `expires_in_seconds` maximum.
_max_expiry = None


@schemathesis.hook
def after_load_schema(context, schema):
    global _max_expiry
    raw = schema.raw_schema["components"]["schemas"]["StockReserve"]["properties"]
    _max_expiry = timedelta(seconds=raw["expires_in_seconds"]["maximum"])


def _items(case):
    body = case.body if isinstance(case.body, dict) else {}
    if "operations" in body and isinstance(body["operations"], list):
        return [item for item in body["operations"] if isinstance(item, dict)]
    return [body]


def _expiry_outside_window(case, sent_at):
    for item in _items(case):
        text = item.get("expires_at")
        if not isinstance(text, str):
            continue
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        # The request is applied a little after it was built: allow a second either way.
        if at <= sent_at + timedelta(seconds=1) or at > sent_at + _max_expiry - timedelta(seconds=1):
            return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if getattr(failure, "code", None) != "ST202":
        return True
    if response.status_code == 403:
        try:
            error = json.loads(response.content)
        except ValueError:
            return True
        registered_elsewhere = (
            case.path == "/api/tills/conflicts"
            and error.get("field") == "reference"
            and "not a sale of a till registered" in error.get("message", "")
        )
        return not registered_elsewhere
    if response.status_code != 400:
        return True
    try:
        error = json.loads(response.content)
    except ValueError:
        return True
    field = (error.get("field") or "").rsplit(".", 1)[-1]
    message = error.get("message", "")
    now = datetime.now(timezone.utc)
    if field == "expires_at" and "in the future" in message and _expiry_outside_window(case, now):
        return False
    if field == "to_location" and "differ from the source" in message:
        return False
    if field == "quantity" and "would exceed" in message:
        return False
    if case.path == "/api/webhooks" and field == "url" and any(
        why in message for why in ("does not resolve", "a loopback, private", "is not a URL", "must name a host")
    ):
        return False
    if case.path == "/api/webhooks/{id}/rewind" and field == "after" and "a seq the ledger holds" in message:
        return False
    return True
