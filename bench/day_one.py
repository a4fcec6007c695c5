#!/usr/bin/env python3
"""Day-one coverage (issue 18): how much of a real lockfile public cargo-vet audit sets vouch for
on the first day, in packages and in lines of code, and how much is left to review.

For each workload (../shared/workloads/{ripgrep,cargo-vet,crates-io}/Cargo.lock) the script makes
a project folder with a Cargo.audit that imports the six public sets of ../shared/vet-audits/
(local copies of Mozilla's, Google's, Bytecode Alliance's, Zcash's, ISRG's and Embark's
audits.toml; `safe-to-deploy` mapped to our `safe-to-deploy`, which the policy requires), pins
them with `import refresh` (local files: nothing is fetched), runs `check --lockfile` and
`list --lockfile` (which downloads and classifies every crate file from crates.io for the line
counts) and reports, per workload:

- registry packages and lines of code vouched for by the imports (per set, and chains across
  sets);
- what is left: packages and lines no set vouches for.

Not measured here, and why:
- `trusted` and `wildcard-audits` entries need each version's publisher from crates.io's web
  API, which this machine cannot reach; the packages they would name are reported separately
  as "named by publisher entries" (an upper bound, as the shared README says);
- `verify-sources` needs every package's git repository (GitHub is unreachable here); its
  timing on mirrors is in docs/performance.md.

Usage: bench/day_one.py [--shared DIR] [--binary PATH] [--markdown]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["mozilla", "google", "bytecodealliance", "zcash", "isrg", "embark"]
WORKLOADS = ["ripgrep", "cargo-vet", "crates-io"]


def audit_file() -> str:
    out = [
        "[policy]\ncriteria = [\"safe-to-deploy\"]\n",
        "[criteria.safe-to-run]\ndescription = \"cargo-vet's safe-to-run\"\n",
        "[criteria.safe-to-deploy]\ndescription = \"cargo-vet's safe-to-deploy\"\n"
        "implies = [\"safe-to-run\"]\n",
    ]
    for name in SETS:
        out.append(
            f"[[import]]\nname = \"{name}\"\nurl = \"sets/{name}.audits.toml\"\n"
            "format = \"cargo-vet\"\n"
            "criteria-map = { safe-to-deploy = \"safe-to-deploy\", safe-to-run = \"safe-to-run\" }\n"
            "covers = [\"*\"]\n"
        )
    return "\n".join(out)


def run(binary, args, cwd):
    proc = subprocess.run(
        [binary, "audit-trust", *args], cwd=cwd, capture_output=True, text=True
    )
    return proc.returncode, proc.stdout, proc.stderr


def publisher_named(shared, packages):
    """Registry packages whose crate has `trusted` or `wildcard-audits` entries in some set."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        return None
    named = set()
    for name in SETS:
        with open(os.path.join(shared, "vet-audits", f"{name}.audits.toml"), "rb") as f:
            data = tomllib.load(f)
        for table in ("trusted", "wildcard-audits"):
            named.update(data.get(table, {}).keys())
    return {key for key in packages if key[0] in named}


def measure(shared, binary, workload):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(shared, "workloads", workload, "Cargo.lock"), tmp)
        os.makedirs(os.path.join(tmp, "sets"))
        for name in SETS:
            shutil.copy(
                os.path.join(shared, "vet-audits", f"{name}.audits.toml"),
                os.path.join(tmp, "sets", f"{name}.audits.toml"),
            )
        with open(os.path.join(tmp, "Cargo.audit"), "w") as f:
            f.write(audit_file())
        code, _, err = run(binary, ["--lockfile", "Cargo.lock", "import", "refresh"], tmp)
        if code != 0:
            sys.exit(f"{workload}: import refresh failed:\n{err}")
        db = os.path.join(shared, "advisory-db")
        code, out, err = run(
            binary,
            ["--lockfile", "Cargo.lock", "--format", "json", "check", "--advisory-db", db,
             "--allow-stale"],
            tmp,
        )
        if code not in (0, 1):
            sys.exit(f"{workload}: check failed ({code}):\n{err}")
        report = json.loads(out)
        code, out, err = run(binary, ["--lockfile", "Cargo.lock", "--format", "json", "list"], tmp)
        if code != 0:
            sys.exit(f"{workload}: list failed ({code}):\n{err}")
        lines = {(p["name"], p["version"]): p.get("code_lines") or 0 for p in json.loads(out)}
    vouched, left = {}, {}
    for p in report["packages"]:
        if p["status"] in ("first-party", "other-platform"):
            continue
        key = (p["name"], p["version"])
        audited = [r for r in p["reasons"] if r["code"] == "audited"]
        if audited:
            vouched[key] = audited[0]["details"].get("imports", [])
        else:
            left[key] = True
    named = publisher_named(shared, set(left))
    return {
        "packages": len(vouched) + len(left),
        "vouched": len(vouched),
        "vouched_lines": sum(lines.get(k, 0) for k in vouched),
        "left": len(left),
        "left_lines": sum(lines.get(k, 0) for k in left),
        "named_by_publisher": None if named is None else len(named),
        "mix": report["summary"]["evidence"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    parser.add_argument(
        "--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust")
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = [(w, measure(args.shared, args.binary, w)) for w in WORKLOADS]
    if args.markdown:
        print("| workload | registry packages | vouched by imports | lines vouched | left | "
              "lines left | left, named by publisher entries | by set |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for w, r in rows:
        by_set = sorted(r["mix"]["by_set"].items(), key=lambda kv: -kv[1])
        sets = ", ".join(f"{k} {v}" for k, v in by_set[:4]) + (", …" if len(by_set) > 4 else "")
        share = 100.0 * r["vouched"] / max(r["packages"], 1)
        line_share = 100.0 * r["vouched_lines"] / max(r["vouched_lines"] + r["left_lines"], 1)
        if args.markdown:
            print(f"| {w} | {r['packages']} | {r['vouched']} ({share:.0f}%) | "
                  f"{r['vouched_lines']:,} ({line_share:.0f}%) | {r['left']} | "
                  f"{r['left_lines']:,} | {r['named_by_publisher']} | {sets} |")
        else:
            print(f"{w}: {r['vouched']} of {r['packages']} packages vouched for ({share:.0f}%), "
                  f"{r['vouched_lines']:,} lines ({line_share:.0f}%); left {r['left']} packages, "
                  f"{r['left_lines']:,} lines; {r['named_by_publisher']} of those named by "
                  f"publisher entries; by set: {sets}")


if __name__ == "__main__":
    main()
