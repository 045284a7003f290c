"""`python -m compliance check [STACK ...]`: see compliance/cli.py."""

from compliance.cli import main

raise SystemExit(main())
