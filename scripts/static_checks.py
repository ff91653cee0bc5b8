#!/usr/bin/env python3
"""Structural checks of the add-on that need no Odoo.

- the manifest parses (ast.literal_eval);
- every file listed in data/demo exists and none is listed twice;
- no XML/CSV file under security, views, data, demo, wizards, reports is left unlisted;
- every XML file parses and uses Odoo 18 syntax (no <tree>, no attrs=/states=);
- every new model (a class with _name that does not _inherit that same name, and
  is not a TransientModel/AbstractModel) has a line in security/ir.model.access.csv.

Usage: static_checks.py [ADDON_DIR]   (default: the repository root)
Exit status 1 when a check fails.
"""

import ast
import csv
import sys
from pathlib import Path
from xml.etree import ElementTree

DATA_DIRS = ("security", "views", "data", "demo", "wizards", "reports")
SKIP_DIRS = {".build", ".git", "node_modules", "__pycache__", ".venv", "venv"}
ACCESS_CSV = "security/ir.model.access.csv"
NON_STORED_BASES = {"TransientModel", "AbstractModel"}


def iter_files(root, suffixes):
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in suffixes:
            yield path


def check_manifest(root, errors):
    try:
        manifest = ast.literal_eval((root / "__manifest__.py").read_text())
    except (OSError, ValueError, SyntaxError) as exc:
        errors.append(f"__manifest__.py: does not parse: {exc}")
        return None
    if not isinstance(manifest, dict):
        errors.append("__manifest__.py: is not a dict")
        return None
    listed = []
    for key in ("data", "demo"):
        for name in manifest.get(key, []):
            listed.append(name)
            if not (root / name).is_file():
                errors.append(f"__manifest__.py: {key} file {name!r} does not exist")
    for name in sorted({n for n in listed if listed.count(n) > 1}):
        errors.append(f"__manifest__.py: {name!r} is listed more than once")
    listed = set(listed)
    for folder in DATA_DIRS:
        for path in iter_files(root / folder, {".xml", ".csv"}):
            rel = path.relative_to(root).as_posix()
            if rel not in listed:
                errors.append(f"{rel}: not listed in the manifest's data or demo")
    return manifest


def check_xml(root, errors):
    for path in iter_files(root, {".xml"}):
        rel = path.relative_to(root).as_posix()
        try:
            tree = ElementTree.parse(path)
        except ElementTree.ParseError as exc:
            errors.append(f"{rel}: XML does not parse: {exc}")
            continue
        for elem in tree.iter():
            if not isinstance(elem.tag, str):
                continue
            if elem.tag == "tree":
                errors.append(f"{rel}: <tree> element (Odoo 18 uses <list>)")
            for attr in ("attrs", "states"):
                if attr in elem.attrib:
                    errors.append(
                        f"{rel}: {attr}= attribute on <{elem.tag}> "
                        "(Odoo 18 uses invisible=/readonly=/required= expressions)"
                    )


def _const_names(node):
    """Names held by an _inherit value: a string or a list/tuple of strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.List, ast.Tuple)):
        return {
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return set()


def _base_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def new_models(root):
    """(model name, file) for every class defining a new stored model."""
    found = []
    for path in iter_files(root, {".py"}):
        rel = path.relative_to(root)
        if rel.parts[0] in ("tests", "scripts", "tools") or "tests" in rel.parts:
            continue
        try:
            tree = ast.parse(path.read_text(), filename=str(path))
        except SyntaxError:
            continue  # ruff reports it
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            if any(_base_name(b) in NON_STORED_BASES for b in cls.bases):
                continue
            attrs = {}
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            attrs[target.id] = stmt.value
            name = attrs.get("_name")
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                continue
            if name.value in _const_names(attrs.get("_inherit")):
                continue
            found.append((name.value, rel.as_posix()))
    return found


def check_access(root, errors):
    models = new_models(root)
    access = root / ACCESS_CSV
    ids = set()
    if access.is_file():
        with access.open(newline="") as f:
            for row in csv.DictReader(f):
                value = row.get("model_id:id") or row.get("model_id/id") or ""
                ids.add(value.strip().rsplit(".", 1)[-1])
    for model, rel in models:
        xmlid = "model_" + model.replace(".", "_")
        if xmlid not in ids:
            errors.append(f"{rel}: model {model!r} has no line in {ACCESS_CSV} ({xmlid})")
    return models


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    errors = []
    manifest = check_manifest(root, errors)
    check_xml(root, errors)
    models = check_access(root, errors)
    for error in errors:
        print(f"static_checks: {error}")
    files = len((manifest or {}).get("data", [])) + len((manifest or {}).get("demo", []))
    status = "FAILED" if errors else "OK"
    print(
        f"static_checks: {status}: {len(errors)} problem(s); "
        f"{files} manifest file(s), {len(models)} new model(s) checked"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
