"""The portal's pages, one Streamlit script each, run by ``archive/portal/navigation.py``.

Not imported as modules: Streamlit executes each file as a page script. This ``__init__.py`` only
makes the folder a package, so a wheel ships the scripts.
"""
