#!/usr/bin/env node
// Validates the bridge's Shopify GraphQL documents against Shopify's published
// Admin API schema, as shipped in the npm package @shopify/dev-mcp.
//
// usage: node validate.mjs [--version 2026-07] [--self-test] [FILE|-]
//   FILE or - (stdin): the documents to check; --self-test: first check that
//   deliberately broken documents are refused. Without FILE and without
//   --self-test the documents are read from stdin.
//
// Input: the JSON array printed by `$WB_BUILD_DIR/bin/gqldocs`:
// [{"name": ..., "document": ..., "variables": {...}}, ...]
// Output: one line per case, `PASS name` or `FAIL name: why`; exit 1 on any FAIL.
//
// Per document: parse; validate with every standard rule (unknown fields,
// arguments, types, directives, variable positions, ...); refuse deprecated
// fields, arguments, input fields and enum values; coerce the example variables
// against the operation's variable definitions (missing required variables,
// wrong types, unknown input fields) and refuse variables the operation does
// not declare; and apply the rules the architecture adds on top of the schema:
// `@idempotent(key:)` exists and sits on every mutation field that requires it,
// every inventorySetQuantities quantity names `changeFromQuantity` explicitly,
// no input list holds more than 250 items, and the query a bulkOperationRunQuery
// carries (its `query:` argument, from the example variables) is itself a
// valid document within Shopify's bulk rules (bulkQueryProblems).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema, parse, validate, specifiedRules, getVariableValues,
  visit, visitWithTypeInfo, TypeInfo, Kind, valueFromAST, getNamedType,
  isInputObjectType, isListType, isNonNullType, isEnumType,
} from 'graphql';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE = '@shopify/dev-mcp';
const MAX_INPUT_ARRAY = 250;
// Mutation fields the architecture (Platform facts) says must carry @idempotent(key:).
// Fields whose schema description says the key is required are added at run time.
const IDEMPOTENT_REQUIRED = ['inventorySetQuantities', 'inventoryAdjustQuantities', 'refundCreate'];

class Refused extends Error {}

// ---------------------------------------------------------------- the schema

function packageDir() {
  // Resolved the way Node would from this folder, without relying on the
  // package's "exports" map (it exports only its code, not dist/data).
  for (let dir = HERE; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...PACKAGE.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Refused(`npm package ${PACKAGE} is not installed under ${HERE}/node_modules (run npm ci there)`);
}

// The package ships dist/data/admin_<version>.json.gz (an introspection result,
// {"data": {"__schema": ...}}). Accept an uncompressed or differently spelt
// file for the same version too, but say which file was used.
export function loadSchema(version) {
  const pkg = packageDir();
  const pkgVersion = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  const dataDir = join(pkg, 'dist', 'data');
  const files = existsSync(dataDir) ? readdirSync(dataDir) : [];
  const wanted = [`admin_${version}.json.gz`, `admin_${version}.json`];
  let file = wanted.find((f) => files.includes(f));
  if (!file) {
    const re = new RegExp(`^admin[-_.]?${version.replace(/-/g, '[-_.]?')}\\.json(\\.gz)?$`, 'i');
    file = files.find((f) => re.test(f));
  }
  if (!file) {
    const admin = files.filter((f) => /^admin/i.test(f));
    throw new Refused(`${PACKAGE}@${pkgVersion} has no Admin schema for ${version} in dist/data ` +
      `(admin files: ${admin.join(', ') || 'none'})`);
  }
  const path = join(dataDir, file);
  let raw = readFileSync(path);
  if (file.endsWith('.gz')) raw = gunzipSync(raw);
  const json = JSON.parse(raw.toString('utf8'));
  const introspection = json.data && json.data.__schema ? json.data : json;
  if (!introspection.__schema) throw new Refused(`${path} is not an introspection result (no __schema)`);
  const schema = buildClientSchema(introspection);
  return { schema, path, pkgVersion };
}

// Mutation fields that must carry @idempotent: the architecture's list, plus
// every mutation whose description says an idempotency key is required.
export function idempotentFields(schema) {
  const mutations = schema.getMutationType()?.getFields() ?? {};
  const required = new Set(IDEMPOTENT_REQUIRED);
  for (const [name, field] of Object.entries(mutations)) {
    if (/idempotency key is required/i.test(field.description ?? '')) required.add(name);
  }
  return required;
}

// Problems with the schema itself, as far as the bridge relies on it.
export function schemaProblems(schema) {
  const problems = [];
  const directive = schema.getDirective('idempotent');
  if (!directive) {
    problems.push('the schema has no @idempotent directive');
  } else {
    if (!directive.locations.includes('FIELD')) problems.push('@idempotent cannot be put on a field');
    const key = directive.args.find((a) => a.name === 'key');
    if (!key || String(key.type) !== 'String!') problems.push('@idempotent has no key: String! argument');
  }
  const mutations = schema.getMutationType()?.getFields() ?? {};
  for (const name of IDEMPOTENT_REQUIRED) {
    if (!mutations[name]) problems.push(`the schema has no mutation ${name}`);
  }
  return problems;
}

// ---------------------------------------------------------------- one document

function walkLists(value, path, problems) {
  if (Array.isArray(value)) {
    if (value.length > MAX_INPUT_ARRAY) {
      problems.push(`variable ${path} holds ${value.length} items, Shopify takes at most ${MAX_INPUT_ARRAY}`);
    }
    value.forEach((v, i) => walkLists(v, `${path}[${i}]`, problems));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walkLists(v, `${path}.${k}`, problems);
  }
}

// The literal or variable value of an argument, resolved against the raw variables.
function argValue(node, variables) {
  if (!node) return undefined;
  if (node.kind === Kind.VARIABLE) return variables?.[node.name.value];
  if (node.kind === Kind.OBJECT) {
    return Object.fromEntries(node.fields.map((f) => [f.name.value, argValue(f.value, variables)]));
  }
  if (node.kind === Kind.LIST) return node.values.map((v) => argValue(v, variables));
  if (node.kind === Kind.NULL) return null;
  return valueFromAST(node, null) ?? node.value;
}

export function checkDocument(schema, requiredIdempotent, doc) {
  const problems = [];
  if (typeof doc.document !== 'string' || doc.document.trim() === '') return ['empty document'];

  let ast;
  try {
    ast = parse(doc.document);
  } catch (e) {
    return [`syntax: ${e.message}`];
  }

  for (const e of validate(schema, ast, specifiedRules)) problems.push(e.message);
  if (problems.length) return problems; // later checks assume a valid document

  const operations = ast.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return [`expected one operation, found ${operations.length}`];
  const op = operations[0];
  const variables = doc.variables ?? {};
  if (typeof variables !== 'object' || Array.isArray(variables)) return ['variables are not a JSON object'];

  // Variables: coerced exactly as a GraphQL server does before executing.
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables, { maxErrors: 50 });
  if (coerced.errors) for (const e of coerced.errors) problems.push(e.message);
  const declared = new Set((op.variableDefinitions ?? []).map((v) => v.variable.name.value));
  for (const name of Object.keys(variables)) {
    if (!declared.has(name)) problems.push(`variable "$${name}" is sent but the operation does not declare it`);
  }
  walkLists(variables, '$', problems);

  // Deprecations and the bridge's own rules, walking the document with types.
  const typeInfo = new TypeInfo(schema);
  const rootType = op.operation === 'mutation' ? schema.getMutationType() : null;
  visit(ast, visitWithTypeInfo(typeInfo, {
    Field(node) {
      const def = typeInfo.getFieldDef();
      const parent = typeInfo.getParentType();
      if (def?.deprecationReason) {
        problems.push(`field ${parent}.${def.name} is deprecated: ${def.deprecationReason}`);
      }
      for (const arg of node.arguments ?? []) {
        const argDef = def?.args.find((a) => a.name === arg.name.value);
        if (argDef?.deprecationReason) {
          problems.push(`argument ${parent}.${def.name}(${argDef.name}:) is deprecated: ${argDef.deprecationReason}`);
        }
      }
      if (rootType && parent === rootType && def) {
        const idem = (node.directives ?? []).find((d) => d.name.value === 'idempotent');
        if (idem && !requiredIdempotent.has(def.name) &&
            !/supports an optional idempotency key|idempotency key is required/i.test(def.description ?? '')) {
          problems.push(`mutation ${def.name} does not offer @idempotent (its description says nothing of it): ` +
            'Shopify would not deduplicate on the key, so do not count on it');
        }
        if (requiredIdempotent.has(def.name)) {
          if (!idem) {
            problems.push(`mutation ${def.name} requires @idempotent(key:) on the mutation field`);
          } else {
            const keyArg = idem.arguments.find((a) => a.name.value === 'key');
            const key = argValue(keyArg?.value, variables);
            if (typeof key !== 'string' || key.trim() === '') {
              problems.push(`@idempotent key on ${def.name} is empty in the example variables`);
            }
          }
        }
        if (def.name === 'bulkOperationRunQuery') {
          const q = argValue(node.arguments.find((a) => a.name.value === 'query')?.value, variables);
          for (const p of bulkQueryProblems(schema, requiredIdempotent, q)) problems.push(`bulk query: ${p}`);
        }
        if (def.name === 'inventorySetQuantities') {
          const input = argValue(node.arguments.find((a) => a.name.value === 'input')?.value, variables);
          (input?.quantities ?? []).forEach((q, i) => {
            if (q && typeof q === 'object' && !('changeFromQuantity' in q)) {
              problems.push(`inventorySetQuantities quantity ${i} omits changeFromQuantity (send null explicitly to skip the check)`);
            }
          });
        }
      }
    },
    ObjectField(node) {
      const input = typeInfo.getParentInputType();
      const named = input && getNamedType(input);
      const field = isInputObjectType(named) ? named.getFields()[node.name.value] : null;
      if (field?.deprecationReason) {
        problems.push(`input field ${named}.${field.name} is deprecated: ${field.deprecationReason}`);
      }
    },
    EnumValue(node) {
      const en = typeInfo.getEnumValue();
      if (en?.deprecationReason) problems.push(`enum value ${en.name} is deprecated: ${en.deprecationReason}`);
    },
  }));

  // Deprecated input fields and enum values reached through the variables.
  if (!coerced.errors) {
    for (const def of op.variableDefinitions ?? []) {
      const name = def.variable.name.value;
      const type = schemaTypeOf(schema, def.type);
      if (type && name in variables) deprecatedInValue(type, variables[name], `$${name}`, problems);
    }
  }
  return problems;
}

// The query of a bulk operation: a valid, deprecation-free query document
// (checkDocument), then Shopify's bulk rules (bulk operations guide, 2026-07):
// one top-level field, a connection, not `node`/`nodes`; at most five
// connections, nested at most two levels deep.
export function bulkQueryProblems(schema, requiredIdempotent, text) {
  if (typeof text !== 'string' || text.trim() === '') return ['the query is missing from the example variables'];
  const problems = checkDocument(schema, requiredIdempotent, { document: text, variables: {} });
  if (problems.length) return problems;
  const op = parse(text).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op.operation !== 'query') return ['a bulk operation runs a query, not a ' + op.operation];
  const roots = op.selectionSet.selections;
  if (roots.length !== 1 || roots[0].kind !== Kind.FIELD) return ['exactly one top-level field is allowed'];
  if (['node', 'nodes'].includes(roots[0].name.value)) return ['a top-level node or nodes field is not allowed'];
  const isConnection = (f) => (f.selectionSet?.selections ?? []).some(
    (s) => s.kind === Kind.FIELD && ['edges', 'nodes'].includes(s.name.value));
  if (!isConnection(roots[0])) return ['the top-level field must be a connection'];
  let count = 0;
  let deepest = 0;
  const walk = (sel, depth) => {
    for (const s of sel?.selections ?? []) {
      let d = depth;
      if (s.kind === Kind.FIELD && isConnection(s)) {
        count++;
        d = depth + 1;
        deepest = Math.max(deepest, d);
      }
      walk(s.selectionSet, d);
    }
  };
  walk(op.selectionSet, 0);
  const out = [];
  if (count > 5) out.push(`${count} connections, at most 5 are allowed`);
  if (deepest > 2) out.push(`connections nested ${deepest} deep, at most 2 are allowed`);
  return out;
}

function schemaTypeOf(schema, typeNode) {
  if (typeNode.kind === Kind.NON_NULL_TYPE || typeNode.kind === Kind.LIST_TYPE) {
    const inner = schemaTypeOf(schema, typeNode.type);
    return inner && { kind: typeNode.kind, ofType: inner };
  }
  return schema.getType(typeNode.name.value);
}

function deprecatedInValue(type, value, path, problems) {
  if (value === null || value === undefined) return;
  if (type.kind === Kind.NON_NULL_TYPE) return deprecatedInValue(type.ofType, value, path, problems);
  if (type.kind === Kind.LIST_TYPE) {
    const items = Array.isArray(value) ? value : [value];
    return items.forEach((v, i) => deprecatedInValue(type.ofType, v, `${path}[${i}]`, problems));
  }
  if (isNonNullType(type) || isListType(type)) return;
  if (isInputObjectType(type) && typeof value === 'object') {
    const fields = type.getFields();
    for (const [k, v] of Object.entries(value)) {
      const f = fields[k];
      if (!f) continue;
      if (f.deprecationReason) problems.push(`input field ${type}.${k} (${path}.${k}) is deprecated: ${f.deprecationReason}`);
      deprecatedInValue(graphqlTypeToShape(f.type), v, `${path}.${k}`, problems);
    }
  } else if (isEnumType(type) && typeof value === 'string') {
    const ev = type.getValue(value);
    if (ev?.deprecationReason) problems.push(`enum value ${type}.${value} (${path}) is deprecated: ${ev.deprecationReason}`);
  }
}

function graphqlTypeToShape(type) {
  if (isNonNullType(type)) return { kind: Kind.NON_NULL_TYPE, ofType: graphqlTypeToShape(type.ofType) };
  if (isListType(type)) return { kind: Kind.LIST_TYPE, ofType: graphqlTypeToShape(type.ofType) };
  return type;
}

// ---------------------------------------------------------------- self-test

// Each case must be refused, with a reason matching `expect`. The control case
// must pass, so a checker that refuses everything cannot look good.
const SET = (extra = '') => `mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id ${extra} }
    userErrors { field message code }
  }
}`;
const QTY = (more = {}) => ({
  inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/1',
  quantity: 5, changeFromQuantity: null, ...more,
});
const SET_VARS = (quantities = [QTY()], more = {}) => ({
  input: { name: 'available', reason: 'correction', quantities, ...more }, key: 'k-0123456789abcdef',
});
const without = (obj, key) => { const o = { ...obj }; delete o[key]; return o; };

const BULK = `mutation Bulk($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
}`;

export const SELF_TESTS = [
  { name: 'accepts_valid_bulk_query', document: BULK,
    variables: { query: '{ products { edges { node { id variants { edges { node { id sku } } } } } } }' }, expect: null },
  { name: 'rejects_bulk_query_top_level_nodes', document: BULK,
    variables: { query: '{ nodes(ids: ["gid://shopify/Product/1"]) { id } }' }, expect: /top-level node or nodes/ },
  { name: 'rejects_bulk_query_unknown_field', document: BULK,
    variables: { query: '{ productVariants { edges { node { id noSuchField } } } }' }, expect: /bulk query: Cannot query field "noSuchField"/ },
  { name: 'rejects_bulk_query_nested_three_deep', document: BULK,
    variables: { query: '{ orders { edges { node { id fulfillmentOrders { edges { node { id lineItems { edges { node { id } } } } } } } } } }' },
    expect: /nested 3 deep/ },
  { name: 'accepts_valid_control', document: SET(), variables: SET_VARS(), expect: null },
  { name: 'rejects_syntax_error', document: SET().replace('userErrors {', 'userErrors {{'), variables: SET_VARS(),
    expect: /syntax/i },
  { name: 'rejects_unknown_field', document: SET('noSuchField'), variables: SET_VARS(),
    expect: /Cannot query field "noSuchField"/ },
  { name: 'rejects_unknown_argument',
    document: SET().replace('inventorySetQuantities(input: $input)', 'inventorySetQuantities(input: $input, dryRun: true)'),
    variables: SET_VARS(), expect: /Unknown argument "dryRun"/ },
  { name: 'rejects_wrong_variable_type',
    document: SET().replace('$input: InventorySetQuantitiesInput!', '$input: InventoryAdjustQuantitiesInput!'),
    variables: SET_VARS(), expect: /used in position expecting type "InventorySetQuantitiesInput!"/ },
  { name: 'rejects_wrong_variable_value', document: SET(), variables: SET_VARS([QTY({ quantity: 'five' })]),
    expect: /Int cannot represent/ },
  { name: 'rejects_missing_required_variable', document: SET(), variables: without(SET_VARS(), 'key'),
    expect: /Variable "\$key" of required type "String!" was not provided/ },
  { name: 'rejects_missing_required_input_field', document: SET(),
    variables: SET_VARS([without(QTY(), 'locationId')]), expect: /Field "locationId" of required type "ID!" was not provided/ },
  { name: 'rejects_removed_input_field', document: SET(),
    variables: SET_VARS([without(QTY(), 'changeFromQuantity')], { ignoreCompareQuantity: true }),
    expect: /Field "ignoreCompareQuantity" is not defined/ },
  { name: 'rejects_undeclared_variable', document: SET(), variables: { ...SET_VARS(), stray: 1 },
    expect: /does not declare/ },
  { name: 'rejects_missing_idempotent', document: SET().replace(' @idempotent(key: $key)', '').replace(', $key: String!', ''),
    variables: without(SET_VARS(), 'key'), expect: /requires @idempotent/ },
  { name: 'rejects_missing_idempotent_adjust',
    document: `mutation Adjust($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) { userErrors { field message } }
}`,
    variables: { input: { name: 'available', reason: 'correction', changes: [
      { inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/1', delta: -1, changeFromQuantity: 4 }] } },
    expect: /inventoryAdjustQuantities requires @idempotent/ },
  { name: 'rejects_missing_idempotent_refund',
    document: `mutation Refund($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } userErrors { field message } }
}`,
    variables: { input: { orderId: 'gid://shopify/Order/1' } }, expect: /refundCreate requires @idempotent/ },
  { name: 'rejects_empty_idempotency_key', document: SET(), variables: { ...SET_VARS(), key: '  ' },
    expect: /key on inventorySetQuantities is empty/ },
  { name: 'rejects_misplaced_idempotent',
    document: SET().replace(' @idempotent(key: $key)', '').replace('userErrors {', 'userErrors @idempotent(key: $key) {'),
    variables: SET_VARS(), expect: /requires @idempotent/ },
  { name: 'rejects_missing_change_from_quantity', document: SET(), variables: SET_VARS([without(QTY(), 'changeFromQuantity')]),
    expect: /omits changeFromQuantity/ },
  { name: 'rejects_over_250_items', document: SET(),
    variables: SET_VARS(Array.from({ length: 251 }, (_, i) => QTY({ inventoryItemId: `gid://shopify/InventoryItem/${i + 1}` }))),
    expect: /at most 250/ },
  { name: 'rejects_idempotent_where_not_offered',
    document: `mutation Ship($f: FulfillmentInput!, $key: String!) {
  fulfillmentCreate(fulfillment: $f) @idempotent(key: $key) { fulfillment { id } userErrors { field message } }
}`,
    variables: { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/1' }] },
      key: 'k-0123456789abcdef' },
    expect: /fulfillmentCreate does not offer @idempotent/ },
  { name: 'rejects_deprecated_field',
    document: `mutation Ship($f: FulfillmentV2Input!) {
  fulfillmentCreateV2(fulfillment: $f) { fulfillment { id } userErrors { field message } }
}`,
    variables: { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/1' }] } },
    expect: /fulfillmentCreateV2 is deprecated/ },
];

// ---------------------------------------------------------------- main

function readInput(arg) {
  const text = !arg || arg === '-' ? readFileSync(0, 'utf8') : readFileSync(arg, 'utf8');
  const docs = JSON.parse(text);
  if (!Array.isArray(docs)) throw new Refused('input is not a JSON array of documents');
  return docs;
}

const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim();

function main(argv) {
  let version = '2026-07';
  let selfTest = false;
  let input = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--version') version = argv[++i];
    else if (argv[i] === '--self-test') selfTest = true;
    else input = argv[i];
  }
  let failed = 0;
  const pass = (name, note) => console.log(`PASS ${name}${note ? `: ${note}` : ''}`);
  const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${oneLine(why)}`); };

  let loaded;
  try {
    loaded = loadSchema(version);
  } catch (e) {
    fail('shopify_schema_loaded', e instanceof Refused ? e.message : `cannot load the schema: ${e.message}`);
    return 1;
  }
  const { schema, path, pkgVersion } = loaded;
  const required = idempotentFields(schema);
  const schemaIssues = schemaProblems(schema);
  if (schemaIssues.length) fail('shopify_schema_loaded', schemaIssues.join('; '));
  else pass('shopify_schema_loaded', `${PACKAGE}@${pkgVersion} ${path.slice(path.indexOf('dist/'))}, ` +
    `@idempotent required on ${required.size} mutations incl. ${IDEMPOTENT_REQUIRED.join(', ')}`);

  if (selfTest) {
    for (const t of SELF_TESTS) {
      const problems = checkDocument(schema, required, t);
      if (t.expect === null) {
        if (problems.length) fail(t.name, `a valid document was refused: ${problems.join('; ')}`);
        else pass(t.name);
      } else if (!problems.length) {
        fail(t.name, 'the broken document was accepted');
      } else if (!problems.some((p) => t.expect.test(p))) {
        fail(t.name, `refused, but not for the expected reason ${t.expect}: ${problems.join('; ')}`);
      } else {
        pass(t.name);
      }
    }
    if (input === null) return failed ? 1 : 0;
  }

  let docs;
  try {
    docs = readInput(input);
  } catch (e) {
    fail('gqldocs_input', e.message);
    return 1;
  }
  if (!docs.length) fail('gqldocs_input', 'no documents');
  const seen = new Set();
  for (const doc of docs) {
    const name = String(doc?.name ?? 'unnamed').replace(/\s+/g, '_');
    if (seen.has(name)) { fail(name, 'duplicate document name'); continue; }
    seen.add(name);
    let problems;
    try {
      problems = checkDocument(schema, required, doc ?? {});
    } catch (e) {
      problems = [`checker error: ${e.stack ?? e}`];
    }
    if (problems.length) fail(name, problems.join('; '));
    else pass(name);
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
