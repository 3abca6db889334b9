"""The rule set: YAML files in, a validated and compiled ``RuleSet`` out.

Every rule keeps its file:line. Imports only the core (and ``mgassist._files`` for the cache's
atomic writes).

- ``yaml_source``  safe, bounded YAML reading with each node's location
- ``source``       where the rule files are (bundled or given) and their digest
- ``schema``       the pydantic models each rule file is checked against
- ``loader``       validating and merging the files, then each compiling stage in order,
                   into a ``RuleSet``
- ``report``       the errors found while compiling (file:line), and the citations made
- ``quantities``   the contract's quantities and the thresholds on them
- ``vocabulary``   the vocabularies: contract ids, labels and spellings
- ``formulas``     the Cockcroft-Gault and calcium adjustment parameters
- ``conditions``   ``when:`` conditions, predicates and text placeholders, and their size limit
- ``rules``        findings, decision steps, risk factors and monitoring
- ``regimen``      the regimen's doses, each step's regimen, and the magnesium salts
- ``cache``        the compiled rule set kept on disk, keyed by rules, code and pint
"""
