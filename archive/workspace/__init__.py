"""Staff work: accounts and log-in, visibility and embargoes, redaction, transcript editing,
disclosure (withheld speakers, source links), and their commands.
"""
