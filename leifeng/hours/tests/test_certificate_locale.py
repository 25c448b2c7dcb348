"""The certificate strings of the hours catalog: every one translated, nothing fuzzy, the .mo up to date.

The catalog is shared with the ledger's pages; this checks only the entries whose source references name a
certificate file (certificate_*.py, templates/hours/certificate_*.html, certificates.py).
"""

import gettext
import json
import re
from pathlib import Path

import leifeng.hours

PO = Path(leifeng.hours.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def certificate_entries(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.split("\n\n")[1:]:
        fields: dict[str, str] = {}
        refs = " ".join(line for line in block.splitlines() if line.startswith("#:"))
        key = None
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr|msgstr\[0\]) (".*")$', line)
            if m:
                key = m.group(1).replace("[0]", "")
                fields[key] = json.loads(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        if "msgid" in fields and "certificate" in refs:
            fields["fuzzy"] = "#, fuzzy" in block
            out.append(fields)
    return out


def test_every_certificate_string_is_translated_and_compiled():
    rows = certificate_entries(PO.read_text(encoding="utf-8"))
    assert len(rows) > 80
    assert [r["msgid"] for r in rows if not r.get("msgstr") or r["fuzzy"]] == []
    with open(PO.with_suffix(".mo"), "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for r in rows:
        key = f"{r['msgctxt']}\x04{r['msgid']}" if "msgctxt" in r else r["msgid"]
        if mo.gettext(key) != r["msgstr"]:
            stale.append(r["msgid"])
    assert stale == []
