"""``python -m mgassist``: the same as the ``mgassist`` command."""

from ._entry import main

main()
