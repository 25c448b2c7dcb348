"""What an import found wrong, located as Excel shows it, and the error report workbook."""

from dataclasses import dataclass, field

import openpyxl

from leifeng.core.excel import text_safe_row


@dataclass(frozen=True)
class CellError:
    """One problem, located as Excel shows it: row 5001, column C (证件号码)."""

    row: int
    column: str  # letter, "" when the file has no such column
    header: str
    message: str

    @property
    def where(self) -> str:
        return f"{self.column}{self.row}" if self.column else str(self.row)


@dataclass
class ImportResult:
    rows: int = 0  # data rows read
    created: int = 0
    approved: int = 0
    errors: list[CellError] = field(default_factory=list)
    numbers: tuple[str, str] | None = None  # first and last volunteer number given
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read_validate, write

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def pending(self) -> int:
        return self.created - self.approved


def error_report_workbook(errors: list[CellError]) -> openpyxl.Workbook:
    """The error list as a workbook to hand back to whoever filled the file in."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("错误")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 14
    ws.column_dimensions["D"].width = 80
    ws.append(text_safe_row(ws, ["行", "列", "列名", "原因"]))
    for e in errors:
        ws.append(text_safe_row(ws, [e.row, e.column, e.header, e.message]))
    return wb
