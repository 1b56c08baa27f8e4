"""A generated corpus of hostile and broken input files (deterministic: seeded, no data files).

`bad_files()` yields (name, bytes, kind) for files that can travel over HTTP as uploads;
`add_filesystem_traps(folder)` adds what only a folder can hold (symlink loops, a FIFO, a folder
named like a file) for the CLI. Every kind reproduces something a probe found or a parser is known
to choke on: quadratic nesting, recursion limits, binary and mis-encoded bytes, broken PDFs, broken
Office files (truncated zips, zip bombs, wrong content), files over the size bound, names that try
to leave the uploads folder.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

from pypdf import PdfWriter

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf")
GOOD_TEXT = (b"Reliability checks, part one. The Yangpu district held its quarterly meeting on safety in "
             b"May 2024, and the chair asked every bureau to report progress in writing. ") * 3


def _pdf(pages: int = 0, encrypt: bool = False) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if encrypt:
        writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def nested_html() -> Iterator[tuple[str, bytes, str]]:
    for depth in (1_001, 2_000, 5_000, 20_000, 100_000):
        for tag in ("div", "span", "b", "section", "blockquote"):
            body = f"<{tag}>" * depth + "deep text" + f"</{tag}>" * depth
            yield f"nested-{tag}-{depth}.html", f"<html><body>{body}</body></html>".encode(), "nested html"
    unclosed = "<div>" * 50_000 + "never closed"
    yield "unclosed-50k.html", unclosed.encode(), "nested html"
    yield "mixed-close-30k.htm", ("<div><i>" * 15_000 + "x").encode(), "nested html"


def nested_json() -> Iterator[tuple[str, bytes, str]]:
    for depth in (1_001, 5_000, 100_000):
        yield f"arrays-{depth}.jsonl", ("[" * depth + "]" * depth + "\n").encode(), "nested json"
        yield f"objects-{depth}.jsonl", ('{"a":' * depth + "1" + "}" * depth + "\n").encode(), "nested json"
        text_inside = '{"text": "fine", "x": ' + "[" * depth + "]" * depth + "}\n"
        yield f"deep-field-{depth}.jsonl", text_inside.encode(), "nested json"
    yield "unbalanced-100k.jsonl", ("[" * 100_000 + "\n").encode(), "nested json"


def binary() -> Iterator[tuple[str, bytes, str]]:
    rng = random.Random(9)
    for seed in range(5):
        for suffix in TEXT_SUFFIXES:
            size = rng.choice((16, 1_000, 50_000))
            yield f"random-{seed}{suffix}", rng.randbytes(size), "binary"
    for suffix in TEXT_SUFFIXES:
        yield f"nul-{suffix[1:]}{suffix}", b"text\0with\0nul bytes " * 50, "binary"
        yield f"elf-{suffix[1:]}{suffix}", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8, "binary"


def bad_encoding() -> Iterator[tuple[str, bytes, str]]:
    for suffix in (".txt", ".md", ".html", ".jsonl"):
        yield f"controls{suffix}", bytes(range(1, 32)) * 200, "bad encoding"
        if suffix != ".html":  # an HTML page's charset is sniffed: these bytes read as Cyrillic (ptcp154)
            yield f"c1-controls{suffix}", bytes(range(0x80, 0xA0)) * 200, "bad encoding"
        yield f"utf16-no-bom{suffix}", "plain words here ".encode("utf-16-le") * 40, "bad encoding"
        yield f"bad-bom-utf16{suffix}", b"\xff\xfe" + b"\x00\xd8" * 30, "bad encoding"  # lone surrogates
        yield f"bad-bom-utf32{suffix}", b"\xff\xfe\x00\x00" + b"\xff\xff\xff\xff" * 30, "bad encoding"


def empty() -> Iterator[tuple[str, bytes, str]]:
    for suffix in TEXT_SUFFIXES:
        yield f"empty{suffix}", b"", "empty"
        yield f"spaces{suffix}", b"   \t  ", "empty"
        yield f"newlines{suffix}", b"\n\r\n\n" * 100, "empty"


def broken_pdfs() -> Iterator[tuple[str, bytes, str]]:
    good_blank = _pdf(pages=1)
    yield "header-only.pdf", b"%PDF-1.7\n", "broken pdf"
    yield "zero-pages.pdf", _pdf(pages=0), "broken pdf"
    yield "blank-page.pdf", good_blank, "broken pdf"
    yield "blank-100-pages.pdf", _pdf(pages=100), "broken pdf"
    yield "encrypted.pdf", _pdf(pages=1, encrypt=True), "broken pdf"
    for cut in (0.25, 0.5, 0.75, 0.95):
        yield f"truncated-{int(cut * 100)}.pdf", good_blank[: int(len(good_blank) * cut)], "broken pdf"
    yield "no-xref.pdf", good_blank.replace(b"xref", b"xxxx"), "broken pdf"
    yield "bad-startxref.pdf", good_blank.replace(b"startxref", b"startxref\n999999999"), "broken pdf"
    yield "garbage-after-header.pdf", b"%PDF-1.4\n" + random.Random(4).randbytes(5_000), "broken pdf"
    yield "pages-loop.pdf", (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[2 0 R]"
                             b"/Count 1>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"), "broken pdf"
    yield "html-named-pdf.pdf", b"<html><body>not a pdf</body></html>", "broken pdf"


def odd_records() -> Iterator[tuple[str, bytes, str]]:
    yield "all-invalid.jsonl", b"{not json}\n" * 500, "bad records"
    yield "arrays-not-objects.jsonl", b'["text", "here"]\n' * 100, "bad records"
    yield "no-text-field.jsonl", b'{"title": "only a title"}\n' * 100, "bad records"
    yield "text-not-string.jsonl", b'{"text": 12345}\n{"text": null}\n{"text": ["a"]}\n', "bad records"
    yield "numbers.jsonl", b"1\n2\n3\n", "bad records"
    yield "nulls.jsonl", b"null\nnull\n", "bad records"
    yield "ten-thousand-bad-lines.jsonl", b"{\n" * 10_000, "bad records"
    yield "empty-texts.jsonl", b'{"text": "   "}\n' * 50, "bad records"
    yield "script-only.html", b"<html><head><script>document.write('hi')</script></head><body></body></html>", "bad html"
    yield "style-only.html", b"<html><style>body{color:red}</style><body>   </body></html>", "bad html"
    yield "comment-only.html", b"<html><body><!-- nothing to see --></body></html>", "bad html"
    yield "unclosed-comment.html", b"<html><body><!-- never ends " + b"x" * 10_000, "bad html"
    yield "template-only.html", b"<html><body><template><p>hidden</p></template></body></html>", "bad html"


def oversized(max_file_bytes: int, max_body_bytes: int) -> Iterator[tuple[str, bytes, str]]:
    """Valid text over the loader's size bound, and bodies over the server's upload limit."""
    line = b"A perfectly ordinary sentence that repeats until the file is too big to read. \n"
    over_bound = line * (max_file_bytes // len(line) + 10)
    yield "over-size-bound.txt", over_bound, "huge"
    yield "over-size-bound.jsonl", b'{"text": "' + b"word " * (max_file_bytes // 5 + 10) + b'"}\n', "huge"
    yield "over-size-bound.html", b"<p>" + over_bound + b"</p>", "huge"
    yield "over-body-limit.txt", line * (max_body_bytes // len(line) + 10), "huge"


def _office(suffix: str, text: str = "") -> bytes:
    """A valid Office file of `suffix` holding `text` (none: an empty document)."""
    out = io.BytesIO()
    if suffix == ".docx":
        import docx  # noqa: PLC0415

        document = docx.Document()
        if text:
            document.add_paragraph(text)
        document.save(out)
    elif suffix == ".pptx":
        from pptx import Presentation  # noqa: PLC0415

        deck = Presentation()
        slide = deck.slides.add_slide(deck.slide_layouts[5 if text else 6])
        if text:
            slide.shapes.title.text = text
        deck.save(out)
    else:
        from openpyxl import Workbook  # noqa: PLC0415

        book = Workbook()
        if text:
            book.active["A1"] = text
        book.save(out)
    return out.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _bomb(suffix: str, unpacked_bytes: int) -> bytes:
    """A well-formed Office file whose main part inflates to `unpacked_bytes` (~1000:1 compressed)."""
    main = {".docx": "word/document.xml", ".pptx": "ppt/slides/slide1.xml", ".xlsx": "xl/worksheets/sheet1.xml"}[suffix]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_office(suffix, "bomb")), "r") as good, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in good.infolist():
            if info.filename != main:
                archive.writestr(info.filename, good.read(info.filename))
        with archive.open(main, "w", force_zip64=True) as big:
            chunk = b" " * 1_000_000
            for _ in range(unpacked_bytes // len(chunk) + 1):
                big.write(chunk)
    return out.getvalue()


def broken_office(max_file_bytes: int) -> Iterator[tuple[str, bytes, str]]:
    """Truncated zips, zip bombs, wrong content and empty documents, for each Office type."""
    rng = random.Random(11)
    suffixes = (".docx", ".pptx", ".xlsx")
    for i, suffix in enumerate(suffixes):
        kind = f"broken {suffix[1:]}"
        good = _office(suffix, GOOD_TEXT.decode())
        yield f"truncated-half{suffix}", good[: len(good) // 2], kind
        yield f"no-central-directory{suffix}", good[: good.rfind(b"PK\x01\x02")], kind
        yield f"bomb{suffix}", _bomb(suffix, max_file_bytes * 5), kind
        yield f"text-inside{suffix}", GOOD_TEXT, kind
        other = suffixes[(i + 1) % len(suffixes)]
        yield f"really-{other[1:]}{suffix}", _office(other, GOOD_TEXT.decode()), kind
        yield f"plain-zip{suffix}", _zip({"readme.txt": GOOD_TEXT}), kind
        yield f"many-entries{suffix}", _zip({f"e/{n}.xml": b"" for n in range(10_001)}), kind
        yield f"zip-header-then-noise{suffix}", b"PK\x03\x04" + rng.randbytes(20_000), kind
        yield f"empty-document{suffix}", _office(suffix), kind


def unsupported() -> Iterator[tuple[str, bytes, str]]:
    for name in ("program.exe", "archive.zip", "model.bin", "noextension", "script.sh", "page.php", "data.csv.gz"):
        yield name, GOOD_TEXT, "unsupported type"


def bad_files(max_file_bytes: int, max_body_bytes: int) -> list[tuple[str, bytes, str]]:
    """Every generated bad upload (names unique)."""
    files = [*nested_html(), *nested_json(), *binary(), *bad_encoding(), *empty(), *broken_pdfs(),
             *odd_records(), *oversized(max_file_bytes, max_body_bytes), *unsupported(), *broken_office(max_file_bytes)]
    names = [n for n, _, _ in files]
    assert len(names) == len(set(names)), "generated names must be unique"
    return files


def add_filesystem_traps(folder: Path) -> list[str]:
    """Symlink loops, dangling links, a FIFO and a folder named like a file; returns their names."""
    made = []
    loop = folder / "loop"
    loop.mkdir()
    (loop / "self").symlink_to(loop, target_is_directory=True)  # folder -> itself
    (loop / "parent").symlink_to(folder, target_is_directory=True)  # folder -> an ancestor
    made += ["loop/self", "loop/parent"]
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")  # file links in a cycle
    (folder / "dangling.md").symlink_to(folder / "missing-target.md")
    made += ["a.txt", "b.txt", "dangling.md"]
    os.mkfifo(folder / "pipe.txt")  # reading it would block forever
    made.append("pipe.txt")
    (folder / "folder.html").mkdir()
    (folder / "folder.html" / "inner.exe").write_bytes(b"MZ")
    made.append("folder.html/inner.exe")
    return made
