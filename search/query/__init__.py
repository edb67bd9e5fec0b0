"""Searching an index, in modules by step: the query language (``syntax``), compiling it to a
Whoosh query (``compile``), the search in rounds (``search``: ``search()`` and ``get_article()``),
highlighting (``highlight``) and the result types (``results``); beside them, did you mean
(``suggest``), suggestions while typing (``complete``) and related articles (``related``)."""
