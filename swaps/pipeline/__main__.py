"""Run the pipeline from a shell: ``python -m swaps.pipeline detect|cluster|swap``."""

from .cli import main

raise SystemExit(main())
