"""Preservation: signed BagIt backups and their checked restore, fixity checks, and the
static mirror.

Backups: ``backup`` (the command's work) writes through ``bag`` (a bag's layout and copying),
signed by ``bag_signing``; ``restore`` reads a bag only after ``bag_checks``. The mirror:
``mirror`` (the command's work) runs ``mirror_gather`` (what the public may see), ``mirror_pages``
(HTML) and ``mirror_search`` (the search index), writing through ``mirror_files``. ``fixity``
re-checks the stored media.
"""
