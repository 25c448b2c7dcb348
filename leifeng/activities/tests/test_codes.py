"""Error codes and audit actions are the enums of activities/codes.py, never loose strings."""

import ast
from pathlib import Path

from leifeng.activities.codes import AuditAction, ErrorCode

APP = Path(__file__).resolve().parents[1]
SKIP = {"tests", "migrations", "views", "views.py"}  # the pages are converted by their own owner (issue #11)
CHECKED = [p for p in APP.rglob("*.py") if not SKIP & set(p.relative_to(APP).parts)]


def test_values_are_unique_and_keep_their_published_spelling():
    assert len(set(ErrorCode)) == len(ErrorCode) and len(set(AuditAction)) == len(AuditAction)
    assert ErrorCode.NOT_DELETABLE == "not_deletable" and AuditAction.ACTIVITY_PUBLISH == "activity.publish"
    assert all(a.value.count(".") == 1 for a in AuditAction)


def test_no_string_literal_is_passed_as_a_code_or_an_action():
    loose = []
    for path in CHECKED:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg in ("code", "action") and isinstance(kw.value, ast.Constant | ast.JoinedStr):
                    loose.append(f"{path.relative_to(APP)}:{node.lineno} {kw.arg}=")
    assert loose == []
