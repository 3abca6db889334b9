"""Tools for rule authors: vignettes, their coverage, lint, unreachable rules, a readable view.

Imports the core and the rule set layers, never the shell.

- ``vignettes``       reading the worked patients in ``rules/tests/*.yaml``
- ``vignette_tests``  running them against the walk, with its coverage observer
- ``lint``            warnings that do not stop the rules loading (``rules validate``)
- ``reach``           rules whose conditions can never be true
- ``view``            a rule shown as a clinician reads it (``rules show``)
"""
