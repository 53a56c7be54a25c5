"""The one error type for user mistakes in options and profiles (a one-line message)."""


class ConfigError(Exception):
    """Bad user input; the plugin prints the message as one line and exits non-zero."""
