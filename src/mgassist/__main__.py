"""``python -m mgassist``: the same as the ``mgassist`` command."""

from ._shell.entry import main

main()
