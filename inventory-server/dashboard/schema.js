// The fields of every form, read from what the server publishes: the OpenAPI document. Its
// stock bodies are generated from the engine's table of operations (`inventory::shape`), the
// product and location bodies from the structs the server reads them into, each with
// `x-field-order` (the struct's own order, which a JSON object's keys do not keep). A field
// added to, renamed in or removed from those reaches the page with no edit here.

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

// What control a value takes: a checkbox, a whole number, a decimal (a price, sent as typed so
// that its digits stay exact), a location (offered the known names) or text. A schema that is
// one of several (a price as a number or a string) takes the first alternative's.
function kindOf(doc, name, schema) {
  const s = resolve(doc, schema);
  for (const part of s.anyOf || s.oneOf || s.allOf || []) {
    const kind = kindOf(doc, name, part);
    if (kind !== "text") return kind;
  }
  if (s.type === "boolean") return "bool";
  if (s.type === "integer") return "int";
  if (s.format === "decimal") return "decimal";
  if (name.endsWith("location")) return "location";
  return "text";
}

// A property's own title and description label and explain it: those of the type it refers to
// describe the type's wire form, not the field.
function field(doc, name, property, required) {
  return {
    name,
    label: property.title || label(name),
    hint: property.description || "",
    required,
    kind: kindOf(doc, name, property),
    nullable: resolve(doc, property).nullable === true,
  };
}

// [{ name, label, hint, required, kind, nullable }] of a body schema, in its `x-field-order`.
function fieldsOf(doc, body) {
  const required = new Set(body.required || []);
  const names = body["x-field-order"] || Object.keys(body.properties);
  return names.map((name) => field(doc, name, body.properties[name], required.has(name)));
}

function bodyOf(doc, operation) {
  return resolve(doc, operation.requestBody.content["application/json"].schema);
}

// [{ op, summary, fields }], in the document's order.
export function operationsOf(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const match = path.match(STOCK_PATH);
    if (!match || !item.post?.requestBody) continue;
    const body = bodyOf(doc, item.post);
    ops.push({
      op: match[1],
      summary: (body.description || item.post.summary || match[1]).replace(/\.$/, ""),
      fields: fieldsOf(doc, body),
    });
  }
  return ops;
}

let loading = null;

// Read once per page load; a failure is not kept, so the next view asks again.
function apiDocument() {
  loading ??= request("GET", "/openapi.json", { whole: true })
    .then(({ data }) => data)
    .catch((e) => {
      loading = null;
      throw e;
    });
  return loading;
}

export const stockOperations = () => apiDocument().then(operationsOf);

// The fields of the body `method` on `path` (a path of the document: "/api/products/{id}").
export const bodyFields = (method, path) =>
  apiDocument().then((doc) => fieldsOf(doc, bodyOf(doc, doc.paths[path][method.toLowerCase()])));
