// Checks src/openapi.json: valid OpenAPI 3.1 by the standard validator
// (@seriousme/openapi-schema-validator, the official JSON schemas, every
// $ref resolved); every schema in it compiles under Ajv's strict JSON
// Schema 2020-12 (no unknown keywords, formats or types); and every
// response describes its body: a schema for each media type, and a body
// for every status that has one (all but HEAD, 204 and redirects).
//
// Usage: node tests/openapi_lint.mjs [file]   (part of `make test`)
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";

const file = process.argv[2] || "src/openapi.json";
const doc = JSON.parse(readFileSync(file, "utf8"));
const failures = [];
let checks = 0;
const check = (ok, what) => { checks += 1; if (!ok) { failures.push(what); console.log(`FAIL ${what}`); } };

const result = await new Validator().validate(doc);
check(result.valid, `${file} is valid OpenAPI 3.1: ${JSON.stringify(result.errors ?? "")}`);

// The document itself is the Ajv schema; its OpenAPI keys are inert
// keywords, so every schema is compiled by its JSON pointer.
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
ajv.addVocabulary(Object.keys(doc));
ajv.addSchema(doc, "openapi.json");
const pointer = (...parts) => "#/" + parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const compiles = (ptr) => {
  try {
    ajv.getSchema(`openapi.json${ptr}`);
    check(true, ptr);
  } catch (e) {
    check(false, `${ptr} compiles: ${e.message}`);
  }
};
const resolve = (x) => (x && x.$ref ? resolve(x.$ref.slice(2).split("/").reduce((o, k) => o[k.replaceAll("~1", "/").replaceAll("~0", "~")], doc)) : x);

for (const name of Object.keys(doc.components.schemas)) compiles(pointer("components", "schemas", name));
const mediaSchemas = (content, ...at) => {
  for (const [media, m] of Object.entries(content || {})) {
    check(m.schema !== undefined, `${at.join(" ")} ${media} has a schema`);
    if (m.schema !== undefined) compiles(pointer(...at, "content", media, "schema"));
  }
};
for (const [name, r] of Object.entries(doc.components.responses)) mediaSchemas(r.content, "components", "responses", name);

let operations = 0;
let responses = 0;
for (const [path, methods] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(methods)) {
    operations += 1;
    for (const [i, p] of (op.parameters || []).entries()) compiles(pointer("paths", path, method, "parameters", i, "schema"));
    if (op.requestBody) mediaSchemas(op.requestBody.content, "paths", path, method, "requestBody");
    for (const [status, raw] of Object.entries(op.responses)) {
      responses += 1;
      const r = resolve(raw);
      const bodiless = method === "head" || status === "204" || /^3/.test(status);
      check(bodiless || Object.keys(r.content || {}).length > 0, `${method} ${path} ${status} describes its body`);
      if (!raw.$ref) mediaSchemas(r.content, "paths", path, method, "responses", status);
    }
  }
}
console.log(`openapi_lint: ${operations} operations, ${responses} responses`);
console.log(`openapi_lint: ${checks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
