"""x402-index: turn observations of x402 endpoints into a published catalog."""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/x402-index/x402-index"
