"""Qiao's domain errors; each edge (CLI, web API) translates them once."""

from __future__ import annotations


def error_body(status: int, code: str, message: str) -> dict[str, object]:
    """The JSON body of every error, from the CLI's --json and the web API alike.

    >>> error_body(404, "not_found", "no article with id 'x'")
    {'ok': False, 'status': 404, 'error': {'code': 'not_found', 'message': "no article with id 'x'"}}
    """
    return {"ok": False, "status": status, "error": {"code": code, "message": message}}


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
        """This error's JSON error body."""
        return error_body(self.status, self.code, self.message)


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


class ShardUnavailable(QiaoError):
    """A shard of the index did not answer (no copy of it alive): the search fails as a whole."""

    code = "shard_unavailable"
    status = 503


class NotServedByRay(QiaoError):
    """A feature that the Ray shard actors do not serve yet (qiao serve --ray): related articles,
    suggestions while typing (docs/scale-out.md)."""

    code = "not_served_by_ray"
    status = 501


class IndexMismatch(QiaoError):
    """The index was built by an analyzer this version of Qiao cannot query."""

    code = "index_mismatch"
    status = 503
