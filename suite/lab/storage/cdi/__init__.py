"""The lab's CDI: DataVolumes (claims from StorageProfiles, imports, clones)."""
