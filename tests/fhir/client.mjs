// Clients nobody here wrote, against a running server: fhir-kit-client (npm, pinned by
// tests/fhir/run) discovers the server from /metadata, reads, vreads, searches and follows
// `next` links; then a Bulk Data client written from the IG (v2.0.0), step by step, runs a
// system-, patient- and group-level export end to end. The seed (ids, tokens) comes from
// check.py in $FX_STATE. Prints "N passed, N failed" and exits non-zero on any failure.
import fs from 'node:fs';
import { Client } from 'fhir-kit-client';

const state = JSON.parse(fs.readFileSync(process.env.FX_STATE, 'utf8'));
const base = `${state.base}/v1/fhir`;
let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) { passed += 1; } else { failed += 1; console.error(`FAIL: ${what}`); }
}

const client = new Client({ baseUrl: base, customHeaders: { Authorization: `Bearer ${state.physician}` } });

// Discovery.
const cs = await client.capabilityStatement();
check(cs.resourceType === 'CapabilityStatement', 'metadata is a CapabilityStatement');
const rest = cs.rest[0];
const types = rest.resource.map((r) => r.type);
for (const t of ['Patient', 'Condition', 'AllergyIntolerance', 'MedicationStatement', 'CarePlan', 'CareTeam', 'Consent',
  'Composition', 'DocumentReference', 'Group']) {
  check(types.includes(t), `metadata states ${t}`);
}
check(!cs.format.some((f) => f.includes('xml')), 'metadata says JSON only');

// Read and vread, as the statement says.
const patient = await client.read({ resourceType: 'Patient', id: state.patient });
check(patient.id === state.patient, 'read Patient');
for (const r of rest.resource) {
  if (!r.searchParam || r.type === 'Patient' || r.type === 'Group') continue;
  // Search every type for the patient, a page of two at a time, following `next`.
  let page = await client.search({ resourceType: r.type, searchParams: { patient: state.patient, _count: 2 } });
  check(page.type === 'searchset', `${r.type} search is a searchset`);
  const total = page.total;
  let seen = 0;
  let pages = 0;
  while (page) {
    seen += (page.entry || []).filter((e) => e.search.mode === 'match').length;
    pages += 1;
    for (const e of page.entry || []) {
      const read = await client.read({ resourceType: e.resource.resourceType, id: e.resource.id });
      check(read.id === e.resource.id, `read ${e.fullUrl}`);
      const interactions = r.interaction.map((i) => i.code);
      if (interactions.includes('vread') && read.meta && read.meta.versionId) {
        const v = await client.vread({ resourceType: read.resourceType, id: read.id, version: read.meta.versionId });
        check(v.id === read.id, `vread ${e.fullUrl}`);
      }
    }
    page = (page.link || []).some((l) => l.relation === 'next') ? await client.nextPage({ bundle: page }) : null;
  }
  check(seen === total, `${r.type}: ${seen} followed of ${total}`);
  if (total > 2) check(pages > 1, `${r.type}: next links followed`);
}
const found = await client.search({ resourceType: 'Patient', searchParams: { identifier: `https://carepath.example/fhir/sid/ltc-insured-number|${state.ltc}` } });
check(found.total === 1 && found.entry[0].resource.id === state.patient, 'Patient?identifier= finds the patient');
const everything = await client.operation({ name: 'everything', resourceType: 'Patient', id: state.patient, method: 'get' });
check(everything.type === 'searchset' && everything.total > 0, 'Patient/$everything');
let refused = null;
try { await client.read({ resourceType: 'Condition', id: 'no-such-condition' }); } catch (e) { refused = e.response; }
const outcome = refused && (typeof refused.data === 'string' ? JSON.parse(refused.data) : refused.data);
check(refused && refused.status === 404 && outcome.resourceType === 'OperationOutcome', '404 is an OperationOutcome');

// Bulk Data, from the IG: kick-off (GET, Prefer: respond-async), poll the absolute
// Content-Location honouring Retry-After, download every output with the token, delete.
const auth = { Authorization: `Bearer ${state.physician}` };
async function bulk(kickoff, level) {
  const kick = await fetch(kickoff, { headers: { ...auth, Accept: 'application/fhir+json', Prefer: 'respond-async' } });
  check(kick.status === 202, `${level}: kick-off answers 202 (${kick.status})`);
  const status = kick.headers.get('content-location');
  check(/^https?:\/\//.test(status || ''), `${level}: Content-Location is absolute (${status})`);
  let manifest = null;
  for (let i = 0; i < 600 && !manifest; i += 1) {
    const res = await fetch(status, { headers: { ...auth, Accept: 'application/json' } });
    if (res.status === 200) {
      manifest = await res.json();
    } else {
      check(res.status === 202, `${level}: polling answers 202 or 200 (${res.status})`);
      const wait = Number(res.headers.get('retry-after') || '1');
      await new Promise((r) => setTimeout(r, Math.min(wait, 1) * 100));
    }
  }
  check(manifest && manifest.transactionTime && manifest.requiresAccessToken === true, `${level}: manifest`);
  check(manifest.request === kickoff, `${level}: manifest names the request`);
  check(Array.isArray(manifest.error), `${level}: manifest has an error array`);
  let lines = 0;
  for (const out of [...manifest.output, ...manifest.error]) {
    const res = await fetch(out.url, { headers: { ...auth, Accept: 'application/fhir+ndjson' } });
    check(res.status === 200, `${level}: ${out.type} downloads`);
    for (const line of (await res.text()).split('\n').filter((l) => l.trim())) {
      check(JSON.parse(line).resourceType === out.type, `${level}: ${out.type} lines are ${out.type}`);
      lines += 1;
    }
  }
  check(manifest.output.some((o) => o.type === 'Patient') && lines > 0, `${level}: the export holds the patient`);
  const del = await fetch(status, { method: 'DELETE', headers: auth });
  check(del.status === 202, `${level}: delete answers 202`);
}
await bulk(`${base}/$export`, 'system');
await bulk(`${base}/Patient/$export?_type=Patient,Condition`, 'patient');
const groups = await client.search({ resourceType: 'Group' });
check(groups.total === 2, 'Group lists the caller\'s groups');
await bulk(`${base}/Group/${groups.entry[0].resource.id}/$export`, 'group');

console.log(`fhir clients: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
