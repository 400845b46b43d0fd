"""`python -m index.cli`: the same app as the `x402-index` script."""

from index.cli.app import app

app()
