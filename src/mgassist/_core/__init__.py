"""The pure core: from patient facts and compiled rules to an Assessment.

Reads no files, no clock, no environment and prints nothing. Imports nothing from the other
layers (``_rulebook``, ``_authoring``, ``_shell``); ``tests/test_layers.py`` checks it.

- ``contract``     statuses, severities, the decision table's fixed ids
- ``errors``       the error hierarchy (input and rule errors, each with its location)
- ``units``        quantities and their conversions (pint is the source of truth, at load)
- ``conditions``   the rule condition language: parse, evaluate, compile to closures
- ``medications``  reading a medication list against the vocabulary
- ``ruleset``      the compiled rule set the walk reads (frozen objects)
- ``fields``       the patient fields: names, flags, labels, units
- ``patient``      parsing and validating a patient
- ``crcl``         Cockcroft-Gault and the creatinine clearance the rules use
- ``engine``       the facts of a patient, and ``evaluate_patient`` (facts -> walk -> Assessment)
- ``walk``         the one decision walk: steps, findings, severities, regimen, monitoring
- ``regimen``      the dose of a deciding step, within its renal ceiling
- ``assessment``   the Assessment and its parts (what every output is rendered from)
- ``trace``        an observer of the walk: the explanation behind ``--explain``
"""
