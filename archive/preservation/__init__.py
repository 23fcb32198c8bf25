"""Preservation: signed BagIt backups and their checked restore, fixity checks, and the
static mirror.
"""
