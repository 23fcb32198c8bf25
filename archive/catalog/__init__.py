"""The SQLite catalog: items, media, revisions, jobs, accounts tables, migrations; the access
rules that decide what each role sees; the audit log; citations.
"""
