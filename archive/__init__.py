"""The archive: catalog, media store, ingest, jobs and access.

Import the parts you need (``archive.catalog.db``, ``archive.ingest.intake`` ...); this package root stays
light so that ``transcripts`` and ``indexer`` can import the error tree without loading the rest.
"""

from archive.core.errors import *  # noqa: F403
from archive.core.errors import __all__ as _errors_all

__version__ = "0.1.0"
__all__ = ["__version__", *_errors_all]
