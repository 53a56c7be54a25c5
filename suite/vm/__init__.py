"""VMs for the checks: manifests, lifecycle (boot, login, stop, start) and claims."""
