// The stock operations and the fields each takes, read from what the server publishes: the
// OpenAPI document, whose stock bodies are generated from the engine's table of operations
// (`inventory::shape`). The forms are built from this, so a field added to, renamed in or
// removed from the engine reaches the page with no edit here.

import { request } from "./api.js";

const STOCK_PATH = /^\/api\/products\/\{id\}\/stock\/([a-z_]+)$/;

function resolve(doc, schema) {
  if (!schema.$ref) return schema;
  let node = doc;
  for (const part of schema.$ref.replace(/^#\//, "").split("/")) node = node[part];
  return resolve(doc, node);
}

// "expires_in_seconds" -> "Expires in seconds"
const label = (name) => name[0].toUpperCase() + name.slice(1).replaceAll("_", " ");

function field(name, schema, required) {
  let kind = "text";
  if (schema.type === "boolean") kind = "bool";
  else if (schema.type === "integer") kind = "int";
  else if (name.endsWith("location")) kind = "location";
  return { name, label: label(name), hint: schema.description || "", required, kind };
}

// [{ op, summary, fields: [{ name, label, hint, required, kind }] }], in the document's order.
export function operationsOf(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const match = path.match(STOCK_PATH);
    if (!match || !item.post?.requestBody) continue;
    const body = resolve(doc, item.post.requestBody.content["application/json"].schema);
    const required = new Set(body.required || []);
    const names = body["x-field-order"] || Object.keys(body.properties);
    ops.push({
      op: match[1],
      summary: (body.description || item.post.summary || match[1]).replace(/\.$/, ""),
      fields: names.map((name) => field(name, resolve(doc, body.properties[name]), required.has(name))),
    });
  }
  return ops;
}

let loading = null;

// Read once per page load; a failure is not kept, so the next product page asks again.
export function stockOperations() {
  loading ??= request("GET", "/openapi.json", { whole: true })
    .then(({ data }) => operationsOf(data))
    .catch((e) => {
      loading = null;
      throw e;
    });
  return loading;
}
