"""The ground floor: settings, the error tree, the secret key, confined paths, the one escaping
path and client addresses. Imports nothing of the archive above it.
"""
