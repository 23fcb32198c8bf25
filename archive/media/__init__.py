"""Stored media: the content-addressed store, probing, uploads in progress, and the public
renditions with redacted spans silenced.
"""
