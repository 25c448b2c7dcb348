"""Reading the uploaded workbook: file checks, then rows (large files in a forked reader process)."""

import io
import itertools
import multiprocessing
import queue
import threading
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypinyin import lazy_pinyin

from leifeng.core.errors import ServiceError
from leifeng.people.codes import ErrorCode
from leifeng.people.excel.columns import (
    BATCH_SIZE,
    COLUMNS,
    DATA_SHEET,
    MAX_UNPACKED_BYTES_DEFAULT,
    NO,
    PARALLEL_READ_BYTES,
    YES,
    _header_key,
    _header_table,
)


def _file_error(message: str, code: ErrorCode) -> ServiceError:
    return ServiceError(message, code=code, field="file")


NOT_XLSX = gettext_lazy("This is not an Excel .xlsx file. Download the template and fill it in.")


def _check_file(file) -> int:
    """Size and content checks before any parsing (the name proves nothing). Returns the size."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise _file_error(
            _("The file is %(size).1f MB; files up to %(limit).1f MB can be imported. Split it into several files.")
            % {"size": size / 2**20, "limit": limit / 2**20},
            ErrorCode.TOO_LARGE,
        )
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            _("This is an old .xls workbook. Open it in Excel or WPS and save it as .xlsx."), ErrorCode.NOT_XLSX
        )
    if not head.startswith(b"PK\x03\x04"):
        raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX)
    try:
        with zipfile.ZipFile(file) as zf:
            # Zip bombs: a small upload must not unpack into gigabytes.
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX) from None
    file.seek(0)
    unpacked_limit = getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES_DEFAULT)
    if unpacked > unpacked_limit:
        raise _file_error(
            _(
                "The workbook unpacks to %(size)d MB of data; at most %(limit)d MB can be imported at once. "
                "Split it into several files."
            )
            % {"size": unpacked // 2**20, "limit": unpacked_limit // 2**20},
            ErrorCode.TOO_LARGE,
        )
    return size


def _open_sheet(source):
    """openpyxl's read-only view of the data sheet (the one called 志愿者, else the first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WPS extensions openpyxl does not know
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
    ws.reset_dimensions()  # some writers record a wrong size; read what is there
    return wb, ws


def _pinyin_keys(name: str) -> tuple[str, str]:
    """pinyin.keys in one pypinyin pass: an initial is the first letter of its syllable."""
    syllables = lazy_pinyin(name, errors="ignore")
    return "".join(syllables).lower()[:200], "".join(s[0] for s in syllables if s).lower()[:50]


def _read_worker(data: bytes, out) -> None:
    """In the forked reader: parse every row and hand them over in chunks, each with the pinyin keys of
    names not seen before (the reader has time to spare; the writer then only looks them up).
    None ends the stream, a str reports a failure."""
    try:
        wb, ws = _open_sheet(io.BytesIO(data))
        rows = ws.iter_rows(values_only=True)
        head = list(itertools.islice(rows, 10))
        try:
            name_at = _find_header(iter(head), _header_table())[1].get("name")
        except ServiceError:
            name_at = None  # the parent reports the missing header
        seen: set[str] = set()

        def send(chunk: list[tuple]) -> None:
            new = {}
            if name_at is not None:
                for cells in chunk:
                    name = _text(cells[name_at]) if name_at < len(cells) else ""
                    if name and name not in seen:
                        seen.add(name)
                        new[name] = _pinyin_keys(name)
            out.put((chunk, new))

        chunk = []
        for cells in itertools.chain(head, rows):
            chunk.append(cells)
            if len(chunk) == BATCH_SIZE:
                send(chunk)
                chunk = []
        wb.close()
        if chunk:
            send(chunk)
        out.put(None)
    except Exception as exc:  # reported to the parent, which turns it into "not an .xlsx"
        out.put(f"{type(exc).__name__}: {exc}")


def _forked_rows(data: bytes, pinyin: dict[str, tuple[str, str]]) -> Iterator[tuple]:
    """Rows parsed by a forked process while this one validates them: on two cores the XML parsing
    (a third of an import's time) then runs beside validation instead of before it. The reader's
    pinyin keys land in `pinyin`."""
    ctx = multiprocessing.get_context("fork")
    channel = ctx.Queue(maxsize=8)  # back-pressure: at most 8 chunks wait in memory
    reader = ctx.Process(target=_read_worker, args=(data, channel), daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = channel.get(timeout=2)
            except queue.Empty:
                if not reader.is_alive():
                    raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX) from None
                continue
            if item is None:
                return
            if isinstance(item, str):
                raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX)
            chunk, keys = item
            pinyin.update(keys)
            yield from chunk
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        channel.close()


def _can_fork() -> bool:
    """Forking is only safe with no other threads (they may hold locks the child would inherit)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _sheet_rows(file, pinyin: dict[str, tuple[str, str]]) -> Iterator[tuple]:
    """Every row of the data sheet as a tuple of cell values, after the file checks."""
    size = _check_file(file)
    if size >= getattr(settings, "IMPORT_PARALLEL_READ_BYTES", PARALLEL_READ_BYTES) and _can_fork():
        yield from _forked_rows(file.read(), pinyin)
        return
    try:
        wb, ws = _open_sheet(file)
    except Exception:  # a zip that is not a workbook fails in many ways inside openpyxl
        raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX) from None
    try:
        yield from ws.iter_rows(values_only=True)
    except Exception:  # a damaged sheet part found mid-way
        raise _file_error(str(NOT_XLSX), ErrorCode.NOT_XLSX) from None
    finally:
        wb.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _find_header(rows: Iterator[tuple], table: dict[str, str]) -> tuple[int, dict[str, int], list[str]]:
    """The first of the top 10 rows that names at least two known columns (a title row may come first)."""
    for number, row in enumerate(rows, start=1):
        found: dict[str, int] = {}
        repeated: list[str] = []
        for i, cell in enumerate(row):
            key = table.get(_header_key(_text(cell))) if cell is not None else None
            if key is None:
                continue
            if key in found:
                repeated.append(_text(cell))
            found[key] = i
        if len(found) >= 2:
            return number, found, repeated
        if number >= 10:
            break
    raise _file_error(
        _("No header row found. The first row must hold the column names of the template, e.g. %(names)s.")
        % {"names": "、".join(c.header for c in COLUMNS if c.required)},
        ErrorCode.MISSING_HEADER,
    )
