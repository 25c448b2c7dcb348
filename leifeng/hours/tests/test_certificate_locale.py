"""The certificate strings of the hours catalog: every one translated, nothing fuzzy, the .mo up to date.

The catalog is shared with the ledger's pages; this checks only the entries whose source references name a
certificate file (certificates/*.py, templates/hours/certificate_*.html).
"""

import leifeng.hours
from leifeng.testing import assert_catalog_complete


def test_every_certificate_string_is_translated_and_compiled():
    assert_catalog_complete(leifeng.hours, min_entries=80, refs_containing="certificate")
