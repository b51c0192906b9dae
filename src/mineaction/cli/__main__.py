"""``python -m mineaction.cli``."""

from mineaction.cli.app import main

main()
