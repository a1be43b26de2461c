"""Fill empty entries of the zh_Hans catalog from locale/fragments/*.po, then report what is untranslated.

Helpers working side by side keep their translations in fragments so no two people rewrite django.po at
once; `make messages` runs makemessages, this script, then compilemessages.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main() -> int:
    known: dict[tuple[str, str], polib.POEntry] = {}
    for fragment in sorted((ROOT / "locale" / "fragments").glob("*.po")):
        for entry in polib.pofile(str(fragment)):
            if entry.msgstr or entry.msgstr_plural:
                known.setdefault((entry.msgctxt or "", entry.msgid), entry)
    catalog = polib.pofile(str(CATALOG))
    missing = []
    for entry in catalog:
        if entry.obsolete:
            continue
        source = known.get((entry.msgctxt or "", entry.msgid))
        if source is not None and not (entry.msgstr or any(entry.msgstr_plural.values())):
            if entry.msgid_plural:
                value = source.msgstr_plural.get(0) or source.msgstr
                entry.msgstr_plural = {i: value for i in range(max(len(entry.msgstr_plural), 1))}
            else:
                entry.msgstr = source.msgstr
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        if not (entry.msgstr or any(entry.msgstr_plural.values())):
            missing.append(entry.msgid)
    catalog.metadata["Language"] = "zh_Hans"
    catalog.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalog.save()
    for msgid in missing:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    print(f"{len(catalog) - len(missing)} translated, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
