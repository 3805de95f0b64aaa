"""`dac hunt`: the rules over exported log files on the embedded reference engine.

- ``readers``: files -> raw records with their lines (format detection, gzip, JSON, CSV, text).
- ``limits``: the caps on one record (size, nesting depth); ``lines``, ``jsonread``,
  ``jsondoc`` and ``jsonscan`` read within them, as the file is read.
- ``prefilter``: which records can matter to the selected rules.
- ``run``: records -> the engine's table -> each rule's alerts with their evidence.
- ``playbook``: the rendered playbook of each alert, its entities filled in.
- ``output``, ``summary``: JSONL, the analyst report, the terminal summary.
"""
