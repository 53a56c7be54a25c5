"""Run configuration: options and profiles become validated, immutable objects once."""

from suite.config.errors import ConfigError

__all__ = ["ConfigError"]
