"""``python -m mgassist``: the same as the ``mgassist`` command."""

from ._cli import main

main()
