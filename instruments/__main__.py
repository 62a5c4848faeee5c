"""Entry point for `python -m instruments`."""

from .cli import main

raise SystemExit(main())
