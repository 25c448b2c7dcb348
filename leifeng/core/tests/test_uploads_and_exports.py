"""core.images and core.excel: what a careless or hostile upload and a hostile name do."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook
from PIL import Image

from leifeng.core.excel import text_safe, text_safe_row
from leifeng.core.images import clean_picture


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, "PNG", optimize=True)  # 1-bit: tiny file, huge canvas
    return buf.getvalue()


def _jpeg(width: int, height: int, **exif) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (width, height), (200, 30, 30))
    info = Image.Exif()
    info[0x010F] = "Phone maker"  # Make
    img.save(buf, "JPEG", exif=info)
    return buf.getvalue()


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    data = _png(13_000, 13_000)
    assert len(data) < 100_000  # small on the wire
    with pytest.raises(ValidationError) as exc:
        clean_picture(SimpleUploadedFile("x.png", data), field="photo")
    assert "13000 × 13000" in str(exc.value.message_dict["photo"][0])


def test_a_big_phone_photo_is_shrunk_upright_and_without_metadata():
    picture = clean_picture(SimpleUploadedFile("p.jpg", _jpeg(4000, 3000)))
    assert (picture.width, picture.height) == (1600, 1200)
    with Image.open(picture.file) as saved:
        assert saved.format == "JPEG"
        assert not saved.getexif()


def test_too_many_bytes_and_not_a_picture():
    with pytest.raises(ValidationError) as exc:
        clean_picture(SimpleUploadedFile("p.jpg", b"x" * 2048), field="image", max_bytes=1024)
    assert "image" in exc.value.message_dict
    with pytest.raises(ValidationError):
        clean_picture(SimpleUploadedFile("p.jpg", b"GIF89a not really"))


def test_exports_write_formulas_as_words(tmp_path):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(text_safe_row(ws, ['=HYPERLINK("http://x","点我")', "=cmd|' /C calc'!A0", 12, None]))
    path = tmp_path / "x.xlsx"
    wb.save(path)
    row = next(load_workbook(path).active.iter_rows(values_only=True))
    assert row[0].startswith("=HYPERLINK") and row[1].startswith("=cmd")
    cells = next(load_workbook(path).active.iter_rows())
    assert cells[0].data_type == "s" and cells[1].data_type == "s" and cells[2].data_type == "n"

    wb2 = Workbook()
    cell = text_safe(wb2.active["A1"], "=1+1")
    assert cell.data_type == "s"
