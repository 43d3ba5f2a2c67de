"""``python -m nervenet``: the ``nervenet`` command (:mod:`nervenet.cli`),
e.g. ``python -m nervenet train config.toml``; ``python -m nervenet demo``
runs the demo."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
