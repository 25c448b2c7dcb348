"""Writing spreadsheets the one safe way every export uses.

A value a person typed (a name, an address, a note) is written as a text cell whatever it starts with, so
"=HYPERLINK(…)" or "=cmd|' /C calc'!A0" stays words in the coordinator's spreadsheet and never becomes a live
formula (CSV/formula injection). Numbers, dates and booleans keep their types.
"""

from openpyxl.cell import WriteOnlyCell


def text_safe_row(ws, values) -> list:
    """One row for `ws.append` of a write-only worksheet: strings as text cells, everything else as it is."""
    out = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out


def text_safe(cell, value):
    """Set one cell of an ordinary worksheet the same way; returns the cell."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
