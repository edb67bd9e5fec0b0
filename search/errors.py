"""Qiao's domain errors; each edge (CLI, web API) translates them once."""

from __future__ import annotations


class QiaoError(Exception):
    """A failure a user can act on; ``code`` and ``status`` travel to the JSON error body."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The message for the user."""
        return str(self)

    def to_dict(self) -> dict[str, object]:
        """The JSON error body shared by the CLI and the web API."""
        return {"ok": False, "status": self.status, "error": {"code": self.code, "message": self.message}}


class QueryError(QiaoError, ValueError):
    """A search request with a bad parameter."""

    code = "bad_parameter"
    status = 400


class ArticleNotFound(QiaoError):
    """No article with the given id."""

    code = "not_found"
    status = 404


class IndexNotFound(QiaoError):
    """No index at the given place."""

    code = "index_not_found"
    status = 503


class IndexBusy(QiaoError):
    """Another writer holds the index for longer than we were willing to wait."""

    code = "index_busy"
    status = 503


class BuildRefused(QiaoError):
    """A build that would do harm: write its index among its input, or lose articles it has no source for."""

    code = "build_refused"
    status = 409


class IndexMismatch(QiaoError):
    """The index was built by an analyzer this version of Qiao cannot query."""

    code = "index_mismatch"
    status = 503
