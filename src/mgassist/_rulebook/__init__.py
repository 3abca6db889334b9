"""The rule set: YAML files in, a validated and compiled ``RuleSet`` out.

Every rule keeps its file:line. Imports only the core (and ``mgassist._files`` for the cache's
atomic writes).

- ``yaml_source``  safe, bounded YAML reading with each node's location
- ``source``       where the rule files are (bundled or given) and their digest
- ``schema``       the pydantic models each rule file is checked against
- ``loader``       validating and compiling the files into a ``RuleSet``
- ``cache``        the compiled rule set kept on disk, keyed by rules, code and pint
"""
