#!/usr/bin/env python3
"""The cargo-vet workload's SBOM against the CycloneDX 1.5 JSON schema (issue 11, cross-checks).

Needs: pip install jsonschema cyclonedx-python-lib
(this script installs nothing itself). The schema is the one cyclonedx-python-lib ships for
offline use, `cyclonedx/schema/_res/bom-1.5.SNAPSHOT.schema.json` with the `spdx` and `jsf-0.82`
schemas it references: the CycloneDX specification's `schema/bom-1.5.schema.json`, with
the library's documented edits (see its `_res/README.md`): references renamed to the local files,
`properties.$schema.enum` removed, `version` no longer required, and `"pattern": "^(.*)$"`
removed. The two edits that loosen the schema for a document like ours are checked here on top:
`$schema`, when present, must be the 1.5 schema's URL, and `version` must be present. The
removed pattern only rejects strings holding a line break, so the count of such strings is
printed: with none, that edit changes nothing.

Steps: `sbom --lockfile WORKLOAD/Cargo.lock --now ...` for the cargo-vet workload (crates from
--cache, CARGO_HOME empty; the advisory database of --shared when there is one), then validation
with the draft-07 validator of `jsonschema`, every error printed with its path; then the document
is read back with cyclonedx-python-lib (`Bom.from_json`) and its components, purls, hashes,
dependency entries and properties are counted against the JSON's. Exit 0 when valid and read
back whole, 1 when not.

Usage: bench/sbom_schema.py [--shared DIR] [--binary PATH] [--cache DIR] [--keep FILE]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_URL = "http://cyclonedx.org/schema/bom-1.5.schema.json"

try:
    import cyclonedx
    import jsonschema
    from cyclonedx.model.bom import Bom
    from referencing import Registry, Resource
except ImportError as e:
    sys.exit(f"{e}: pip install jsonschema cyclonedx-python-lib")


def schemas():
    """The 1.5 schema and a registry resolving its references to the library's local files."""
    folder = os.path.join(os.path.dirname(cyclonedx.__file__), "schema", "_res")
    loaded = {}
    for name in ("bom-1.5", "spdx", "jsf-0.82"):
        with open(os.path.join(folder, f"{name}.SNAPSHOT.schema.json"), encoding="utf-8") as f:
            loaded[f"{name}.SNAPSHOT.schema.json"] = json.load(f)
    registry = Registry()
    base = "http://cyclonedx.org/schema/"
    for file_name, schema in loaded.items():
        resource = Resource.from_contents(schema)
        # Both the file's own $id and the name the bom schema's $ref uses resolve to it.
        registry = registry.with_resources([(base + file_name, resource),
                                            (schema["$id"], resource)])
    return loaded["bom-1.5.SNAPSHOT.schema.json"], registry, folder


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def read_back(bom):
    """What cyclonedx-python-lib reads of the document differs from the JSON: a list of errors."""
    try:
        model = Bom.from_json(bom)
    except Exception as e:  # noqa: BLE001 -- any failure to read back is the finding
        return [f"cyclonedx-python-lib cannot read it back: {type(e).__name__}: {e}"]
    components = bom.get("components", [])
    counts = {
        "components": (len(components), len(model.components)),
        "purls": (sorted(c.get("purl", "") for c in components),
                  sorted(str(c.purl) if c.purl else "" for c in model.components)),
        "hashes": (sum(len(c.get("hashes", [])) for c in components),
                   sum(len(c.hashes) for c in model.components)),
        "dependency entries": (len(bom.get("dependencies", [])), len(model.dependencies)),
        "properties": (sum(len(c.get("properties", [])) for c in components),
                       sum(len(c.properties) for c in model.components)),
    }
    return [f"read back: {what} differ" for what, (ours, theirs) in counts.items()
            if ours != theirs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug",
        "cargo-audit-trust"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                    "audit-trust-bench-cache"))
    ap.add_argument("--keep", help="also write the SBOM to this file")
    args = ap.parse_args()

    lockfile = os.path.join(args.shared, "workloads", "cargo-vet", "Cargo.lock")
    if not os.path.isfile(lockfile):
        print(f"skipped: no {lockfile}")
        return 0
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: cargo build -p cargo-audit-trust")
    schema, registry, folder = schemas()

    work = tempfile.mkdtemp(prefix="audit-trust-sbom-schema-")
    try:
        out_file = os.path.join(work, "sbom.cdx.json")
        cmd = [args.binary, "sbom", "--lockfile", lockfile, "--cache-dir", args.cache,
               "--now", "2026-12-03T00:00:00Z", "--output", out_file, "-q"]
        db = os.path.join(args.shared, "advisory-db")
        if os.path.isdir(db):
            cmd += ["--advisory-db", db]
        empty_home = os.path.join(work, "home")
        os.makedirs(empty_home)
        run = subprocess.run(cmd, capture_output=True, text=True,
                             env=dict(os.environ, CARGO_HOME=empty_home))
        if run.returncode not in (0, 1):
            sys.exit(f"sbom failed ({run.returncode}):\n{run.stderr[-2000:]}")
        with open(out_file, encoding="utf-8") as f:
            bom = json.load(f)
        if args.keep:
            shutil.copyfile(out_file, args.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    validator = jsonschema.Draft7Validator(schema, registry=registry,
                                           format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(bom), key=lambda e: list(e.absolute_path))
    extra = []
    if "$schema" in bom and bom["$schema"] != SCHEMA_URL:
        extra.append(f"$schema is {bom['$schema']!r}, not {SCHEMA_URL!r}")
    if "version" not in bom:
        extra.append("no top-level `version`")
    extra += read_back(bom)
    line_breaks = sum(("\n" in s or "\r" in s) for s in strings(bom))
    components = bom.get("components", [])
    properties = sum(len(c.get("properties", [])) for c in components)
    print(f"schema: {folder}/bom-1.5.SNAPSHOT.schema.json")
    print(f"sbom: specVersion {bom.get('specVersion')}, {len(components)} components, "
          f"{len(bom.get('dependencies', []))} dependency entries, {properties} component "
          f"properties; strings with a line break: {line_breaks}")
    for e in errors:
        path = "/".join(str(p) for p in e.absolute_path)
        print(f"  invalid at /{path}: {e.message[:300]}")
    for e in extra:
        print(f"  invalid: {e}")
    valid = not errors and not extra
    print(f"{'valid' if valid else 'INVALID'}: {len(errors)} schema errors, {len(extra)} "
          "errors of the checks restored on top and of the read-back")
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
