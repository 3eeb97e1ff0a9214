"""The case importer: readers (CSV, XLSX, Open311 JSON), the mapping file, one pipeline.

``mapping.load_mapping`` validates a mapping, ``readers.open_source`` opens a file, and
``pipeline.CaseImporter(...).run(source)`` imports it (docs/import.md).
"""
