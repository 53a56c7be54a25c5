"""The lab's data plane: real volumes served by qemu-storage-daemon through FUSE.

See docs/internals.md, "The data plane", for the API the lab's controllers use.
"""

from .errors import DataPlaneError, QmpError
from .nodeview import NodeDevice
from .plane import DataPlane

__all__ = ["DataPlane", "DataPlaneError", "NodeDevice", "QmpError"]
