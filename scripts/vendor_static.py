#!/usr/bin/env python3
"""Copy the browser libraries installed by ``npm ci`` to where Django serves static files.

The libraries come from the npm registry through package.json/package-lock.json (no CDN:
kiosks and government intranets run offline, and no hand-copied files in the repository).
Run ``npm ci`` first; the Make targets do both.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "minsheng" / "static" / "vendor"

# Source under node_modules/ → name under static/vendor/ (templates ask for these names).
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
}


def main() -> int:
    modules = ROOT / "node_modules"
    missing = [source for source in FILES if not (modules / source).is_file()]
    if missing:
        print(f"vendor_static: missing {', '.join(missing)}; run `npm ci` first", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for source, name in FILES.items():
        shutil.copyfile(modules / source, TARGET / name)
        print(f"vendor_static: {source} → {TARGET.relative_to(ROOT) / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
