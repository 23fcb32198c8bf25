"""Ingest: a file or a URL becomes an item with stored media; the pipeline that transcribes and
indexes it; the ingest and transcription jobs.
"""
