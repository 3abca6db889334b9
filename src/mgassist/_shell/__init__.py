"""The shell: command line, interview, batch files, rendering. The only layer that does I/O.

Imports every layer below it; nothing imports it except ``mgassist.__main__`` and the console
script (``entry.main``).

- ``entry``           the console entry point and its quick path for a one-shot assess
- ``cli``, ``cli_help``  the typer application and its help
- ``commands``        assess and explain: load, call the core, render, exit code
- ``rules_commands``  rules validate / test / show
- ``batch_records``, ``batch_command``  reading records from files, and the batch command
- ``batch_output``, ``batch_jobs``  assessing and writing them (jsonl, csv, parquet), in worker
  processes with --jobs
- ``batch_api``      the batch as a library: ``assess_records``, ``assess_arrow`` (public)
- ``interview``, ``questions``  the interactive questionnaire
- ``render``, ``render_brief``, ``render_full``, ``render_parts``, ``trace_text``  the text
  reports (the only modules that import rich, lazily)
- ``schemas``         the JSON Schemas: input, output, summary row
- ``exit_codes``      the exit-code contract
"""
