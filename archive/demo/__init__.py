"""The demo archive built on a fresh machine from the bundled subtitles and the shared fixtures."""
