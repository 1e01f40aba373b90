"""``python -m minigrad``: the ``minigrad`` command."""

from minigrad.cli import main

raise SystemExit(main())
