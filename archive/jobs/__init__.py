"""The job queue (huey) and its worker. The queue knows no job kind: the packages that own a kind
register its handler (entry point group ``archive.job_handlers``).
"""
