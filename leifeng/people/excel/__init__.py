"""Volunteers in and out of Excel: the import template, the all-or-nothing import and the export.

The spreadsheet speaks Chinese whatever the page language (a county office shares one template),
so headers and choice cells use the fixed Chinese words of `columns`; English headers and the English
labels or codes of choices are accepted on import too. Every row goes through
`people.services.volunteer_clean`, the same rules as the registration form and the API.

Import is two phases (`importer`). First read (`reader`) + validate (`validate`) every row, writing
nothing (large files are parsed by a forked reader process beside validation). Then, only if no cell
is wrong, one transaction (`write`) allocates the volunteer numbers in one block and inserts
volunteers, skills and one audit row each in bulk (COPY on PostgreSQL, bulk_create elsewhere); if the
database still refuses (a registration raced us), the transaction rolls back and the clash is reported
by row (`report`). bench/bench_import.py measures it. Export (`export`) streams `volunteer_list`
through openpyxl's write-only mode, so memory stays flat. The pages are in `views`.
"""

from leifeng.people.excel.columns import COLUMNS, DATA_SHEET, XLSX_CONTENT_TYPE, Column
from leifeng.people.excel.export import ExportResult, volunteer_export
from leifeng.people.excel.importer import volunteer_import
from leifeng.people.excel.report import CellError, ImportResult, error_report_workbook
from leifeng.people.excel.template import template_workbook
from leifeng.people.excel.validate import _ready, _registered, import_station_choices, template_station_names
from leifeng.people.excel.write import _VolunteerRows
from leifeng.people.services import format_number

__all__ = [
    "COLUMNS",
    "DATA_SHEET",
    "XLSX_CONTENT_TYPE",
    "CellError",
    "Column",
    "ExportResult",
    "ImportResult",
    "_VolunteerRows",
    "_ready",
    "_registered",
    "error_report_workbook",
    "format_number",
    "import_station_choices",
    "template_station_names",
    "template_workbook",
    "volunteer_export",
    "volunteer_import",
]
