"""The all-or-nothing import: read and validate every row, then write only when no cell is wrong."""

import time

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from leifeng.core.errors import ErrorCode as CoreCode
from leifeng.core.errors import PermissionDenied, ServiceError
from leifeng.core.scope import Perm
from leifeng.people.codes import ErrorCode
from leifeng.people.excel import validate
from leifeng.people.excel.columns import COLUMN_BY_KEY, COLUMNS, MAX_ROWS_DEFAULT, _header_table
from leifeng.people.excel.reader import _file_error, _find_header, _sheet_rows
from leifeng.people.excel.report import CellError, ImportResult
from leifeng.people.excel.validate import _default_org, _Stations, _Validator
from leifeng.people.excel.write import _write
from leifeng.people.policy import volunteer_policy


def volunteer_import(
    *, actor, file, consent_confirmed: bool, default_org_id: int | None = None, approve: bool = False
) -> ImportResult:
    """Import an .xlsx of volunteers, all or nothing.

    `consent_confirmed`: the importer vouches that every volunteer (and a minor's guardian) agreed to be
    registered (条例 Art. 7, 20); without it nothing is read. File-level problems (size, not a workbook,
    missing column) raise ServiceError; cell problems come back as `ImportResult.errors` (row, column,
    reason) and then nothing at all has been written.
    """
    if not volunteer_policy.anywhere(actor, Perm.CHANGE):
        raise PermissionDenied()
    if not consent_confirmed:
        raise ServiceError(
            _("Confirm that every volunteer in the file agreed to be registered."),
            code=ErrorCode.CONSENT_REQUIRED,
            field="confirm",
        )
    started = time.perf_counter()
    stations = _Stations(actor)
    default_org = _default_org(default_org_id, stations)
    pinyin: dict[str, tuple[str, str]] = {}  # name → search keys, filled by the forked reader if any
    rows = _sheet_rows(file, pinyin)
    try:
        header_row, columns, repeated = _find_header(rows, _header_table())
        if repeated:
            raise _file_error(
                _("The column “%(name)s” appears more than once.") % {"name": repeated[0]}, ErrorCode.DUPLICATE_HEADER
            )
        missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
        if missing:
            raise _file_error(
                _("The file has no column “%(names)s”. Use the column names of the template.")
                % {"names": "”、“".join(missing)},
                ErrorCode.MISSING_HEADER,
            )
        validator = _Validator(columns=columns, stations=stations, default_org=default_org, today=timezone.localdate())
        max_rows = getattr(settings, "IMPORT_MAX_ROWS", MAX_ROWS_DEFAULT)
        count = 0
        for number, cells in enumerate(rows, start=header_row + 1):
            if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                continue
            count += 1
            if count > max_rows:
                raise _file_error(
                    _("The file has more than %(max)d rows; split it into several files.") % {"max": max_rows},
                    ErrorCode.TOO_MANY_ROWS,
                )
            validator.add(number, cells)
    finally:
        rows.close()
    if count == 0:
        raise _file_error(_("The file has no volunteers in it (only the header row)."), ErrorCode.EMPTY)
    validator.duplicates()
    result = ImportResult(rows=count)
    result.timings["read_validate"] = time.perf_counter() - started
    if validator.errors:
        order = {c.key: i for i, c in enumerate(COLUMNS)}
        header_of = {c.header: c.key for c in COLUMNS}
        result.errors = sorted(validator.errors, key=lambda e: (e.row, order[header_of[e.header]]))
        return result
    started = time.perf_counter()
    try:
        _write(actor, validator, result, approve=approve, file_name=getattr(file, "name", "") or "", pinyin=pinyin)
        result.timings["write"] = time.perf_counter() - started
    except IntegrityError:
        # A registration committed between our check and our insert; everything above rolled back.
        clash = validate._registered(  # through the module: tests stand a race in for it
            list(validator.id_first)
        )
        if not clash:
            raise ServiceError(
                _(
                    "The database refused the import (a conflicting change happened meanwhile). "
                    "Nothing was imported; try again."
                ),
                code=CoreCode.CONFLICT,
                field="file",
            ) from None
        result.created = result.approved = 0
        result.numbers = None
        result.errors = [
            CellError(
                r,
                get_column_letter(columns["id_number"] + 1),
                COLUMN_BY_KEY["id_number"].header,
                _("A volunteer with this ID number is already registered."),
            )
            for index in clash
            for r in validator.rows_with(index)
        ]
        result.errors.sort(key=lambda e: e.row)
    return result
