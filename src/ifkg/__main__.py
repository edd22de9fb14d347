"""``python -m ifkg``: the same as the ``ifkg`` command."""

from ifkg.cli import main

main()
