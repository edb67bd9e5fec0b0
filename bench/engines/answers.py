"""What every searcher shares: the page size and the refusal it may raise."""

TOP = 10  # hits asked for, with their highlights or snippets


class AnswerError(Exception):
    """A query the engine refused to answer (Qiao's 2 s limit): counted, not fatal."""
