#!/usr/bin/env python3
"""Fails when a file under src/ includes a header of a layer it may not depend on.

The layers (README, "The code"), lowest first; each may include only itself and what it lists:
data flows one way. Run by `make format-check` (CI's first step): python3 scripts/check_layers.py [SRC_DIR]
"""
import os
import re
import sys

ALLOWED = {
    "common": set(),
    "extract": {"common"},
    "transform": {"common", "extract"},
    "load": {"common", "transform"},
    "notify": {"common"},
    "config": {"common", "extract", "transform", "load", "notify"},
    "pipeline": {"common", "extract", "transform", "load", "notify", "config"},
    "serve": {"common", "extract", "transform", "load", "notify", "config", "pipeline"},
    "publish": {"common", "extract", "transform", "load", "notify", "config", "pipeline", "serve"},
    "schedule": {"common", "extract", "transform", "load", "notify", "config", "pipeline", "serve",
                 "publish"},
    "app": {"common", "extract", "transform", "load", "notify", "config", "pipeline", "serve",
            "publish", "schedule"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src")
    bad = []
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            layer = rel.split(os.sep)[0]
            if layer not in ALLOWED:
                bad.append(f"src/{rel}: '{layer}' is not a known layer (scripts/check_layers.py)")
                continue
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) != layer and m.group(1) not in ALLOWED[layer]:
                        bad.append(f"src/{rel}:{number}: {layer}/ may not include {m.group(1)}/: "
                                   f"{line.strip()}")
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print(f"check_layers: {len(bad)} include(s) against the layer order (README, 'The code')",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
