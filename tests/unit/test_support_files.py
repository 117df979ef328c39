"""Attachments of support requests: the type from the content, the size checked while
reading, names cleaned, one file per content, downloads never shown inline."""

import errno
import hashlib
import io
import zipfile
from urllib.parse import quote

import openpyxl
import pytest

from salesdesk import disk
from salesdesk.support import files
from tests.fixtures.kb import png

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + bytes(24)
OLE = files.OLE_MAGIC + bytes(504)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def package(*names):
    """A ZIP with these entries, as Office writes its documents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, "<?xml version='1.0'?><x/>")
    return buffer.getvalue()


def workbook():
    """A real .xlsx, as openpyxl (and the metrics export) writes it."""
    book = openpyxl.Workbook()
    book.active["A1"] = "报价"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def support_app(app, tmp_path, monkeypatch):
    """The app with an instance folder of this test's own."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return app


def stored_names(support_app):
    return sorted(path.name for path in files.folder().iterdir())


@pytest.mark.parametrize(
    ("data", "name", "found"),
    [
        (PDF, "报价单.pdf", ("application/pdf", "pdf")),
        (png(), "截图.png", ("image/png", "png")),
        (JPEG, "photo.jpeg", ("image/jpeg", "jpg")),
        (GIF, "a.gif", ("image/gif", "gif")),
        (WEBP, "a.webp", ("image/webp", "webp")),
        (package("[Content_Types].xml", "_rels/.rels", "word/document.xml"), "合同.docx", (DOCX, "docx")),
        (workbook(), "报价.xlsx", (XLSX, "xlsx")),
        (package("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml"), "方案.pptx", (PPTX, "pptx")),
        (OLE, "旧合同.DOC", ("application/msword", "doc")),
        (OLE, "old.xls", ("application/vnd.ms-excel", "xls")),
        (OLE, "old.ppt", ("application/vnd.ms-powerpoint", "ppt")),
    ],
)
def test_accepted_types_are_recognised_from_their_content(data, name, found):
    assert files.sniff(data, name) == found


def test_the_name_does_not_decide_the_type():
    assert files.sniff(PDF, "scan.png") == ("application/pdf", "pdf")
    assert files.sniff(package("[Content_Types].xml", "xl/workbook.xml"), "quote.docx") == (XLSX, "xlsx")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(100), "报价单.pdf"),  # a Windows program
        (b"\x7fELF\x02\x01\x01" + bytes(100), "report.pdf"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "截图.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png"),
        (b"#!/bin/sh\nrm -rf ~\n", "contract.pdf"),
        (b"plain notes\n", "notes.txt"),
        (package("readme.txt", "setup.exe"), "资料.zip"),
        (package("word/document.xml"), "no-content-types.docx"),
        (package("[Content_Types].xml", "_rels/.rels"), "no-main-part.docx"),
        (package("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "macros.docx"),
        (b"PK\x03\x04" + bytes(60), "broken.xlsx"),
        (OLE, "old.msi"),  # the OLE container holds installers too
        (OLE, "doc"),
        (b"<html>" + package("[Content_Types].xml", "word/document.xml"), "polyglot.docx"),
        (b" %PDF-1.4", "spaced.pdf"),
    ],
)
def test_anything_else_is_refused(data, name):
    assert files.sniff(data, name) is None


def test_a_program_renamed_pdf_is_not_accepted(support_app):
    with pytest.raises(files.NotAccepted, match="报价单.pdf") as refused:
        files.read_upload(io.BytesIO(b"MZ" + bytes(200)), "报价单.pdf")
    assert refused.value.status == 422
    assert stored_names(support_app) == []


def test_an_upload_is_read_with_its_digest(support_app):
    upload = files.read_upload(io.BytesIO(PDF), "报价单 v2.pdf")
    assert upload.data == PDF and upload.size == len(PDF)
    assert (upload.filename, upload.content_type) == ("报价单 v2.pdf", "application/pdf")
    assert upload.sha256 == hashlib.sha256(PDF).hexdigest()


class CountingStream(io.RawIOBase):
    """An endless upload that counts what was read from it."""

    def __init__(self, head):
        self.head, self.taken = head, 0

    def read(self, size=-1):
        assert size is not None and size >= 0, "read without a limit"
        chunk = (self.head + b"\x00" * size)[self.taken : self.taken + size]
        self.taken += len(chunk)
        return chunk


def test_ten_megabytes_and_one_byte_is_refused_before_anything_is_written(support_app):
    stream = CountingStream(b"%PDF-1.7\n")
    with pytest.raises(files.FileTooLarge, match="huge.pdf") as refused:
        files.read_upload(stream, "huge.pdf")
    assert refused.value.status == 413
    assert "10 MB" in refused.value.message
    assert stream.taken == files.MAX_FILE_BYTES + 1
    assert stored_names(support_app) == []


def test_exactly_ten_megabytes_is_accepted(support_app):
    data = PDF + bytes(files.MAX_FILE_BYTES - len(PDF))
    upload = files.read_upload(io.BytesIO(data), "big.pdf")
    assert upload.size == files.MAX_FILE_BYTES
    assert files.store(upload).stat().st_size == files.MAX_FILE_BYTES


def test_an_empty_file_is_refused(support_app):
    with pytest.raises(files.EmptyFile, match="空.pdf") as refused:
        files.read_upload(io.BytesIO(b""), "空.pdf")
    assert refused.value.status == 422
    with pytest.raises(files.EmptyFile):
        files.read_upload(None, "")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\fakepath\\报价单.pdf", "报价单.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/tmp/a/合同.pdf", "合同.pdf"),
        ("报\x00价\n单\r.pdf", "报价单.pdf"),
        ("invoice\u202efdp.pdf", "invoicefdp.pdf"),  # a right-to-left override
        ("  报价单.pdf  ", "报价单.pdf"),
        ("报价单.PDF", "报价单.PDF"),
        ("scan.png", "scan.png.pdf"),  # a PDF sent under an image's name
        ("报价单", "报价单.pdf"),
        ("", "attachment.pdf"),
        ("..", "attachment.pdf"),
        ("/", "attachment.pdf"),
        ("\x01\x02", "attachment.pdf"),
        ("e\u0301.pdf", "\u00e9.pdf"),  # macOS sends names decomposed
    ],
)
def test_filenames_are_cleaned(support_app, sent, kept):
    assert files.read_upload(io.BytesIO(PDF), sent).filename == kept


def test_a_jpeg_keeps_either_of_its_extensions():
    assert files.clean_filename("photo.jpeg", "jpg") == "photo.jpeg"
    assert files.clean_filename("photo.JPG", "jpg") == "photo.JPG"
    assert files.clean_filename("photo.png", "jpg") == "photo.png.jpg"


def test_a_very_long_name_is_cut_keeping_its_extension():
    kept = files.clean_filename("报" * 500 + ".xlsx", "xlsx")
    assert len(kept) == files.MAX_FILENAME
    assert kept == "报" * (files.MAX_FILENAME - 5) + ".xlsx"
    assert files.clean_filename("a" * 300, "pdf") == "a" * (files.MAX_FILENAME - 4) + ".pdf"


def test_the_same_content_is_stored_once(support_app):
    first = files.read_upload(io.BytesIO(PDF), "报价单.pdf")
    second = files.read_upload(io.BytesIO(PDF), "another name.pdf")
    path = files.store(first)
    assert files.store(second) == path == files.path_of(first.sha256)
    assert path.read_bytes() == PDF
    assert stored_names(support_app) == [first.sha256]


def test_remove_is_idempotent(support_app):
    upload = files.read_upload(io.BytesIO(png()), "截图.png")
    files.store(upload)
    files.remove(upload.sha256)
    files.remove(upload.sha256)
    assert stored_names(support_app) == []


def test_only_a_digest_names_a_file(support_app):
    for name in ("../secret", "", None, "A" * 64, "0" * 63):
        with pytest.raises(ValueError):
            files.path_of(name)


def test_a_full_disk_leaves_nothing_and_says_so(support_app, monkeypatch):
    def full(stream, path, limit):
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(disk, "write_stream", full)
    upload = files.read_upload(io.BytesIO(PDF), "报价单.pdf")
    with pytest.raises(disk.DiskFull, match="报价单.pdf") as refused:
        files.store(upload)
    assert refused.value.status == 503
    assert stored_names(support_app) == []


def test_a_download_is_an_attachment_with_the_found_type_and_nosniff(support_app):
    upload = files.read_upload(io.BytesIO(PDF), "报价单 v2.pdf")
    path = files.store(upload)
    with support_app.test_request_context():
        response = files.send(path, upload.filename, upload.content_type)
        response.direct_passthrough = False
        assert response.get_data() == PDF
        response.close()
    headers = response.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename=v2.pdf;" in disposition  # what an old client without filename* gets
    assert f"filename*=UTF-8''{quote('报价单 v2.pdf')}" in disposition


def test_a_non_ascii_name_falls_back_to_a_readable_ascii_one():
    assert files._disposition_names("报价单.pdf") == {
        "filename": "attachment.pdf",
        "filename*": "UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf",
    }
    assert files._disposition_names("Café.pdf")["filename"] == "Cafe.pdf"
    assert files._disposition_names("quote.pdf") == {"filename": "quote.pdf"}


def test_an_image_is_downloaded_too_never_shown_inline(support_app):
    upload = files.read_upload(io.BytesIO(png()), "截图.png")
    with support_app.test_request_context():
        response = files.send(files.store(upload), upload.filename, upload.content_type)
        response.close()
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
