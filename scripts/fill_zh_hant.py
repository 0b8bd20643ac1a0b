#!/usr/bin/env python3
"""Fill the untranslated entries of the Traditional Chinese catalogue from the Simplified source.

The source strings are Simplified Chinese, so Traditional forms can be made by conversion
(OpenCC, simplified → traditional). Entries that already have a translation are kept, so
a reviewer's corrections survive the next run. Run after ``minsheng makemessages --no-wrap``
(one line per string), then ``minsheng compilemessages``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import opencc

PO = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "minsheng"
    / "locale"
    / "zh_Hant"
    / "LC_MESSAGES"
    / "django.po"
)
STRING = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def fill(lines: list[str], convert: opencc.OpenCC) -> tuple[list[str], int]:
    out: list[str] = []
    source = ""
    filled = 0
    for line in lines:
        match = STRING.match(line)
        if match is None:
            out.append(line)
            continue
        keyword, text = match.groups()
        if keyword.startswith("msgstr[") and keyword != "msgstr[0]":
            continue  # Chinese has one plural form (nplurals=1); msgmerge may add more.
        if keyword == "msgid":
            source = text
        elif keyword.startswith("msgstr") and text == "" and source:
            # Chinese has one plural form: msgstr[0] takes the singular source.
            line = f'{keyword} "{convert.convert(source)}"'
            filled += 1
        out.append(line)
    return out, filled


def main() -> int:
    if not PO.exists():
        print(f"fill_zh_hant: {PO} not found; run makemessages first", file=sys.stderr)
        return 1
    lines, filled = fill(PO.read_text(encoding="utf-8").splitlines(), opencc.OpenCC("s2t"))
    PO.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"fill_zh_hant: filled {filled} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
