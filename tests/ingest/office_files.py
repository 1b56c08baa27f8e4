"""Real Office files built with the libraries the loaders read them with (python-docx, python-pptx, openpyxl)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import docx
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches

CREATED = datetime(2024, 3, 3, 9, 30)


def write_docx(path: Path, title: str = "Ferry services report") -> Path:
    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.created = CREATED
    d.add_paragraph("Intro paragraph about the harbour.")
    d.add_heading("Timetable", level=1)
    d.add_paragraph("The Pujiang ferry to Dongchang Road runs every 12 minutes from 7:00.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Fare"
    table.cell(1, 0).text, table.cell(1, 1).text = "Dongchang Road", "2 yuan"
    d.add_heading("Tickets", level=1)
    d.add_paragraph("Tickets are sold at the pier kiosk until 22:00.")
    d.save(str(path))
    return path


def write_pptx(path: Path) -> Path:
    deck = Presentation()
    deck.core_properties.created = CREATED
    for title, body, notes in [
        ("Library opening", "Qingpu opened the Lantern Library in March 2024.", ""),
        ("Collection", "The library holds 48,000 books about water towns.", "Mention the rare maps."),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Opening hours"
    rows = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    rows.cell(0, 0).text, rows.cell(0, 1).text = "Day", "Hours"
    rows.cell(1, 0).text, rows.cell(1, 1).text = "Every day", "9:00 to 21:00"
    deck.save(str(path))
    return path


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    book.properties.title = "District budget 2024"
    book.properties.created = CREATED
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["Item", "Amount (million yuan)"])
    sheet.append(["Parks", 120.0])
    sheet.append(["Schools", 340])
    other = book.create_sheet("Notes")
    other.append(["The school budget rises by 12 percent over 2023."])
    other.append([None])
    other.append(["Approved on", datetime(2024, 1, 15)])
    book.save(str(path))
    return path
