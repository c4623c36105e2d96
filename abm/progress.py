"""One progress bar for every long command (runs, sweeps, validation).

On a terminal it redraws ten times a second; written to a file or a CI log it adds a line
only every 15 seconds, so logs stay readable. In Jupyter it is a widget (``tqdm.auto``).
"""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(**kwargs: Any):
    """A ``tqdm`` bar on stderr (``kwargs`` go to tqdm: total, desc, disable, ...)."""
    from tqdm.auto import tqdm  # a widget in a notebook, text on a terminal

    interactive = sys.stderr.isatty()
    kwargs.setdefault("mininterval", 0.1 if interactive else 15.0)
    return tqdm(unit="run", file=sys.stderr, dynamic_ncols=True, **kwargs)
