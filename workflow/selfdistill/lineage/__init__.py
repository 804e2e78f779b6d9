"""Provenance and sharing: records of what made each artifact, their audit, recovery after a fault, code hashes, DVC sharing."""
