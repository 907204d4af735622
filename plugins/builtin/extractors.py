"""Built-in text extractors: .txt/.md, .html/.htm, .pdf and .docx."""

from __future__ import annotations

from botgpt.adapters.text_extractors import DocxExtractor, HtmlExtractor, PdfExtractor, PlainTextExtractor
from botgpt.plugins.hookspecs import RegisterExtractor, hookimpl


@hookimpl
def register_extractors(register: RegisterExtractor) -> None:
    for extractor in (PlainTextExtractor(), HtmlExtractor(), PdfExtractor(), DocxExtractor()):
        register(extractor)
