"""Vendors the JP Core StructureDefinitions (snapshots) that carepath's FHIR output names in
meta.profile, from the JAMI working group's published package, minimised to what a validator
reads (paths, cardinality, types, slicing, fixed and pattern values, bindings, FHIRPath
constraints): definitions, comments, mappings and narrative are dropped. Re-run to refresh:

    python3 tests/fhir/profiles/vendor.py <git dir of github:jami-fhir-jp-wg/eDischargeSummary>

Source and commit are written to tests/fhir/profiles/SOURCE.md."""

import json
import subprocess
import sys
from pathlib import Path

REPO = "jami-fhir-jp-wg/eDischargeSummary"
PACKAGE = "fhirpackage/packages/jp-core.draft1#1.1.0-betaa/package"
NAMES = ["patient", "organization", "practitioner", "practitionerrole", "condition", "allergyintolerance",
         "medicationrequest", "observation-common"]
KEEP = {"id", "path", "sliceName", "min", "max", "base", "type", "constraint", "slicing", "contentReference",
        "binding", "fixedUri", "fixedCode", "fixedString", "fixedCoding", "fixedCodeableConcept", "fixedBoolean",
        "patternCoding", "patternCodeableConcept", "patternIdentifier", "patternCode", "patternString", "patternUri",
        "maxLength", "mustSupport", "isModifier", "isSummary"}

git = sys.argv[1]
out = Path(__file__).parent / "jp-core"
out.mkdir(exist_ok=True)
commit = subprocess.run(["git", "-C", git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
rows = []
for n in NAMES:
    path = f"{PACKAGE}/StructureDefinition-jp-{n}.json"
    sd = json.loads(subprocess.run(["git", "-C", git, "show", f"HEAD:{path}"], check=True, capture_output=True).stdout)
    slim = {k: sd[k] for k in ("resourceType", "id", "url", "version", "name", "status", "fhirVersion", "kind",
                               "abstract", "type", "baseDefinition", "derivation") if k in sd}
    elements = []
    for e in sd["snapshot"]["element"]:
        e = {k: v for k, v in e.items() if k in KEEP}
        if "binding" in e:
            e["binding"] = {k: v for k, v in e["binding"].items() if k in ("strength", "valueSet")}
        if "constraint" in e:
            e["constraint"] = [{k: v for k, v in c.items() if k in ("key", "severity", "human", "expression", "source")}
                               for c in e["constraint"]]
        elements.append(e)
    slim["snapshot"] = {"element": elements}
    target = out / f"StructureDefinition-jp-{n}.json"
    target.write_text(json.dumps(slim, ensure_ascii=False, separators=(",", ":")) + "\n")
    rows.append(f"| `{sd['url']}` | {sd.get('version')} | `{path}` | {target.stat().st_size} |")
(Path(__file__).parent / "SOURCE.md").write_text(
    "# Vendored profiles\n\n"
    f"From `github:{REPO}` at commit `{commit}` (the JP Core package it publishes, "
    "`jp-core.draft#1.1.0-betaa`, StructureDefinitions with snapshots), minimised by `vendor.py` "
    "(definitions, comments, mappings and narrative dropped; paths, cardinality, types, slicing, "
    "fixed and pattern values, bindings and FHIRPath constraints kept). JP-CLINS' own profiles "
    "(`JP_*_eCS`, `JP_Composition_eReferral`, …) are published only as FSH sources "
    "(`github:jami-fhir-jp-wg/clinical-core`), not as snapshots, so they are not vendored: "
    "carepath's output does not claim them. No licence file is published with the package.\n\n"
    "| profile | version | path in the source | bytes here |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")
print("\n".join(rows))
