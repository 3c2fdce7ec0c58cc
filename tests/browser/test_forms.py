"""The product and location forms are built from the request bodies /openapi.json publishes
(NewProduct, ProductChanges, NewLocation): their inputs are the bodies' properties in
`x-field-order`, required where the body requires them, and a property the document adds is a
field of the form, sent with the rest and answered next to itself."""

import json

from conftest import new_product, open_dashboard, open_product
from playwright.sync_api import expect

# Each form: the view it is on, its element, its inputs' id prefix, and the body it sends.
FORMS = {
    "new product": ("#/new", "#new-product", "n", "post", "/api/products"),
    "new location": ("#/locations", "#new-location", "l", "post", "/api/locations"),
    "edit": (None, "#edit", "e", "put", "/api/products/{id}"),
}


def body_of(doc, method, path):
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def inputs_of(page, form):
    """(id, name, label, aria-required, hint) of each input of the form, in the page's order."""
    return page.eval_on_selector(
        form,
        """f => [...f.querySelectorAll('input')].map(e => [
               e.id, e.name, e.labels[0].textContent, e.getAttribute('aria-required') === 'true',
               e.dataset.hint ? document.getElementById(e.dataset.hint).textContent : ''])""",
    )


def open_form(page, server, name, product_id):
    view, form = FORMS[name][:2]
    if view is None:
        open_product(page, server, product_id)
    else:
        open_dashboard(page, server, view)
    page.locator(f"{form}[data-state=ready]").wait_for()


def serve_document(page, change):
    """Answers the page's /openapi.json with the server's document as `change(doc)` leaves it."""

    def handle(route):
        answer = route.fetch()
        doc = answer.json()
        change(doc)
        route.fulfill(response=answer, json=doc)

    page.route("**/openapi.json", handle)


def test_each_form_is_its_body_in_the_documents_order(page, server):
    doc = server.get("/openapi.json").json()
    p = new_product(server, name="Desk", price="120.00", reorder_point=3)
    for name, (_, form, prefix, method, path) in FORMS.items():
        body = body_of(doc, method, path)
        open_form(page, server, name, p["id"])
        inputs = inputs_of(page, form)
        order = body["x-field-order"]
        assert [i[1] for i in inputs] == order, name
        assert [i[0] for i in inputs] == [f"{prefix}-{n}" for n in order], name
        required = set(body.get("required", []))
        assert {i[1] for i in inputs if i[3]} == required, name
        for _, field, label, is_required, hint in inputs:
            own = body["properties"][field]
            assert label == own.get("title", field[0].upper() + field[1:].replace("_", " ")), (name, field)
            words = (["Required."] if is_required else []) + ([own["description"]] if "description" in own else [])
            assert hint == " ".join(words), (name, field)
    # The labels the forms had when they were written by hand.
    open_form(page, server, "new product", p["id"])
    assert [i[2] for i in inputs_of(page, "#new-product")] == [
        "Name", "SKU", "Price", "Description", "Location (blank: the default)", "Initial quantity",
        "Reorder point (blank: none)",
    ]
    assert {i[1] for i in inputs_of(page, "#new-product") if i[3]} == {"name", "sku", "price"}
    open_form(page, server, "edit", p["id"])
    values = page.eval_on_selector("#edit", "f => [...f.querySelectorAll('input')].map(e => [e.name, e.value])")
    assert values == [["name", "Desk"], ["description", ""], ["price", "120.00"], ["reorder_point", "3"]]


def test_a_property_the_document_adds_is_a_field_sent_and_answered(page, server):
    def add_colour(doc):
        body = doc["components"]["schemas"]["NewProduct"]
        body["properties"]["colour"] = {"type": "string", "description": "What it looks like."}
        order = body["x-field-order"]
        order.insert(order.index("sku") + 1, "colour")
        body["required"].append("colour")

    serve_document(page, add_colour)
    open_form(page, server, "new product", None)
    form = page.locator("#new-product")
    names = [i[1] for i in inputs_of(page, "#new-product")]
    assert names[names.index("sku") + 1] == "colour"
    colour = form.get_by_label("Colour", exact=True)
    expect(colour).to_have_attribute("id", "n-colour")
    expect(colour).to_have_attribute("aria-required", "true")
    expect(form.locator("#n-colour-hint")).to_have_text("Required. What it looks like.")

    form.get_by_label("Name").fill("Lamp")
    form.get_by_label("SKU").fill("LAMP-1")
    form.get_by_label("Price").fill("19.90")
    colour.fill("red")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/products")) as sent:
        form.get_by_role("button", name="Create product").click()
    body = json.loads(sent.value.post_data)
    # The price goes as typed, so its digits stay exact; the new field goes with the rest.
    assert body == {"name": "Lamp", "sku": "LAMP-1", "price": "19.90", "colour": "red"}
    # The server takes no such field, and says so next to it.
    expect(form.locator("#n-colour-err")).to_contain_text("colour")
    expect(colour).to_have_attribute("aria-invalid", "true")
    assert server.get("/api/products?q=LAMP").json()["data"] == []


def test_the_edit_form_fills_and_sends_what_the_document_gives_it(page, server):
    def edit_sku(doc):
        body = doc["components"]["schemas"]["ProductChanges"]
        body["properties"]["sku"] = {"type": "string"}
        body["x-field-order"].insert(0, "sku")

    p = new_product(server, name="Desk", sku="DESK-1", price="120.00", reorder_point=5)
    serve_document(page, edit_sku)
    open_form(page, server, "edit", p["id"])
    edit = page.locator("#edit")
    expect(edit.locator("#e-sku")).to_have_value("DESK-1")

    # Only what changed is sent: a cleared reorder point as null, which clears it.
    edit.locator("#e-reorder_point").fill("")
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        edit.get_by_role("button", name="Save changes").click()
    assert json.loads(sent.value.post_data) == {"reorder_point": None}
    expect(edit.locator(".form-ok")).to_contain_text("Saved (version 2)")
    assert server.get(f"/api/products/{p['id']}").json()["data"]["product"]["reorder_point"] is None

    edit.locator("#e-sku").fill("DESK-2")
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        edit.get_by_role("button", name="Save changes").click()
    assert json.loads(sent.value.post_data) == {"sku": "DESK-2"}
    expect(edit.locator("#e-sku-err")).to_contain_text("sku")
    assert server.get(f"/api/products/{p['id']}").json()["data"]["product"]["sku"] == "DESK-1"
