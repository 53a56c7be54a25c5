"""KubeVirt storage conformance suite: a pytest plugin plus an embedded lab cluster."""

__version__ = "0.1.0"
