"""Reading uploaded spreadsheets safely: checks before parsing, a streaming .xlsx reader, a bounded .xls reader.

A low-level package (no models, no app imports): the member import (imports/) and the org tree's bulk
creation (orgs/) both open uploads through spreadsheets.workbook.open_workbook.
"""
