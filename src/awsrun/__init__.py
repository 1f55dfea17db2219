"""awsrun: run a command with cached temporary AWS credentials from your AWS CLI profiles."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
