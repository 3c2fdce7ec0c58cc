// What a line typed into the scan field means. A barcode scanner types a code and Enter; a
// clerk types a short command for the product on screen:
//   +5          add 5
//   -2 ORD-17   remove 2, under reference ORD-17
//   =40 shelf   count: on hand is 40 (reference "shelf")
// Anything else is a code to look up. The API judges every value; this only splits the line.

const COMMAND = /^([+\-=])\s*(\d+)(?:\s+(.*\S))?\s*$/;

const OPS = { "+": "add", "-": "remove", "=": "count" };

// A whole number goes as a JSON number while a double holds it exactly, else as the digits
// typed, for the API to refuse with its own message.
const whole = (digits) => (Number.isSafeInteger(Number(digits)) ? Number(digits) : digits);

// { op, body } for a command, { code } for a code, null for a blank line.
export function parseScan(line) {
  const text = line.trim();
  if (!text) return null;
  const m = text.match(COMMAND);
  if (!m) return { code: text };
  const [, sign, digits, reference] = m;
  const body = sign === "=" ? { counted: whole(digits) } : { quantity: whole(digits) };
  if (reference) body.reference = reference;
  return { op: OPS[sign], body };
}
