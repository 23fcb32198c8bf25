"""The light portal: plain HTML pages at ``/lite/…``, served by the archive itself from the live
catalog, for slow links and browsers without JavaScript.

Home, Search, Browse, an item (native player, transcript as ``?t=`` links, citation), Events,
an event, Series and a series, in both languages (``?lang=zh|en``). Every page asks
:mod:`archive.catalog.access` (and the hub's and the index's role-aware readers) as the viewer
of the request's session cookie, exactly as the Streamlit pages do; media links are the same
signed ``/files/media/…`` URLs. Pages load nothing but the archive's own style sheet and one
optional script (the player's following along), so they work under the portal's CSP.

:mod:`archive.portal.lite.first_paint` puts a server-rendered copy of a page's light content
into the Streamlit shell, so a slow first load shows something readable at once.
"""
