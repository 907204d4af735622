"""Text extraction for .txt, .md, .html, .pdf and .docx, in bounded memory."""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import IO
from xml.etree import ElementTree

from botgpt.domain.errors import UnreadableDocument

BLOCK_BYTES = 1 << 16
BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\x7fELF", b"\xff\xd8\xff", b"MZ")


def looks_like_text(head: bytes) -> bool:
    """No NUL bytes, no well-known binary signature, and valid UTF-8 so far."""
    if b"\x00" in head or head.startswith(BINARY_MAGIC):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def decoded_blocks(path: str) -> Iterator[str]:
    """The file as UTF-8 text (a BOM is dropped), block by block."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(BLOCK_BYTES):
                if text := decoder.decode(block):
                    yield text
            if tail := decoder.decode(b"", final=True):
                yield tail
    except UnicodeDecodeError as error:
        raise UnreadableDocument(f"the file is not valid UTF-8 text (byte {error.start} of a block)") from error


class PlainTextExtractor:
    """Plain text and Markdown, read as UTF-8. Offsets point into the file's own characters."""

    extensions = (".txt", ".md")

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def check(self, path: str) -> None:
        for _ in decoded_blocks(path):
            pass

    def extract(self, path: str) -> Iterator[str]:
        yield from decoded_blocks(path)


class _TextCollector(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"})
    HIDDEN = frozenset({"script", "style", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def drain(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


class HtmlExtractor(PlainTextExtractor):
    """HTML as its visible text: scripts and styles dropped, blocks on their own lines.
    Sniffing and checking are plain text's: HTML is UTF-8 text too."""

    extensions = (".html", ".htm")

    def extract(self, path: str) -> Iterator[str]:
        collector = _TextCollector()
        for block in decoded_blocks(path):
            collector.feed(block)
            if text := collector.drain():
                yield text
        collector.close()
        if text := collector.drain():
            yield text


class PdfExtractor:
    """PDF text, page by page, with pypdf."""

    extensions = (".pdf",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"%PDF-")

    def _reader(self, path: str) -> object:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(path)
            if reader.is_encrypted:
                raise UnreadableDocument("the PDF is encrypted")
            if len(reader.pages) == 0:
                raise UnreadableDocument("the PDF has no pages")
        except (PyPdfError, ValueError, KeyError, OSError) as error:
            raise UnreadableDocument("the PDF cannot be read") from error
        return reader

    def check(self, path: str) -> None:
        self._reader(path)

    def extract(self, path: str) -> Iterator[str]:
        from pypdf.errors import PyPdfError

        reader = self._reader(path)
        for page in reader.pages:  # type: ignore[attr-defined]
            try:
                text = page.extract_text() or ""
            except (PyPdfError, ValueError, KeyError) as error:
                raise UnreadableDocument("a PDF page cannot be read") from error
            yield text + "\n\n"


WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_DOCX_UNCOMPRESSED = 200 << 20
MAX_COMPRESSION_RATIO = 100


class DocxExtractor:
    """Word .docx paragraphs, parsed as a stream from the zip. Zip bombs are refused by
    their declared sizes before anything is decompressed."""

    extensions = (".docx",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04")

    def check(self, path: str) -> None:
        try:
            with zipfile.ZipFile(path) as archive:
                _check_archive(archive)
        except zipfile.BadZipFile as error:
            raise UnreadableDocument("the .docx is not a valid zip archive") from error

    def extract(self, path: str) -> Iterator[str]:
        try:
            with zipfile.ZipFile(path) as archive:
                _check_archive(archive)
                with archive.open("word/document.xml") as xml:
                    yield from _paragraphs(xml)
        except (zipfile.BadZipFile, ElementTree.ParseError) as error:
            raise UnreadableDocument("the .docx cannot be read") from error


def _check_archive(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if "word/document.xml" not in {member.filename for member in members}:
        raise UnreadableDocument("the file is a zip archive but not a Word document")
    if sum(member.file_size for member in members) > MAX_DOCX_UNCOMPRESSED:
        raise UnreadableDocument("the .docx expands to too much data (a zip bomb?)")
    for member in members:
        if member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1) and member.file_size > 1 << 20:
            raise UnreadableDocument("the .docx is compressed suspiciously well (a zip bomb?)")


def _paragraphs(xml: IO[bytes]) -> Iterator[str]:
    parts: list[str] = []
    for _event, element in ElementTree.iterparse(xml, events=("end",)):
        if element.tag == f"{WORD_NS}t":
            parts.append(element.text or "")
        elif element.tag == f"{WORD_NS}tab":
            parts.append("\t")
        elif element.tag == f"{WORD_NS}p":
            parts.append("\n")
            yield "".join(parts)
            parts = []
            element.clear()
    if parts:
        yield "".join(parts)
