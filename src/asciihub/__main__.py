"""``python -m asciihub`` runs the command line."""

from asciihub.cli import main

main()
