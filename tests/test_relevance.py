"""The relevance evaluation's plumbing (bench/relevance.py) on small literal collections."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ir_measures", reason="the eval extra: pip install -e '.[eval]'")
pytest.importorskip("bm25s", reason="the eval extra: pip install -e '.[eval]'")

from bench.relevance import (  # noqa: E402
    Collection, Doc, build_qiao, evaluate, lisa, plain, read_smart, run_bm25, run_qiao,
)

DOCS = (
    Doc("1", "Aeroelastic models of heated aircraft", "Similarity laws for aeroelastic models at high speed."),
    Doc("2", "Heat conduction in composite slabs", "Solutions of heat conduction problems in composite slabs."),
    Doc("3", "Boundary layer flow", "Laminar boundary layer flow over a flat plate."),
)
QUERY = {"1": "what problems of heat conduction in composite slabs have been solved"}
JUDGED = {"1": {"2": 1, "1": 0}}


def test_read_smart_joins_wrapped_lines_per_field(tmp_path: Path) -> None:
    path = tmp_path / "x.all"
    path.write_text(".I 1\r\n.T\r\nWing in a\r\nslipstream .\r\n.W\r\nline one\r\nline two\r\n.I 2\r\n.W\r\nonly text\r\n")
    assert read_smart(path) == [
        ("1", {"T": "Wing in a slipstream .", "W": "line one line two"}),
        ("2", {"W": "only text"}),
    ]


def test_lisa_parts_title_from_abstract_at_a_line_of_spaces_too(tmp_path: Path) -> None:
    # Two records as LISA0.001 and LISA1.501 write them: CRLF lines, and between title and
    # abstract an empty line in one file, a line of five spaces in the other.
    (tmp_path / "LISA0.001").write_bytes(
        b"Document    1\r\nTHE INDIAN COUNCIL OF LIBRARY AND INFORMATION SERVICES RESEARCH AND TRAINING:\r\n"
        b"A PROPOSAL FOR CONSIDERATION.\r\n\r\nCRITICALLY EXAMINES THE INDIAN LIBRARY SCENE.\r\n"
        b"********************************************\r\n")
    (tmp_path / "LISA1.501").write_bytes(
        b"Document 1501\r\nA CONVERSATION WITH DON ROBERTS. PART TWO.\r\n     \r\n"
        b"IN THE 2ND PART OF AN OCT 80 TELEPHONE INTERVIEW DON ROBERTS DISCUSSES THE\r\n"
        b"PAPERLESS REVOLUTION.\r\n********************************************\r\n")
    (tmp_path / "LISA.QUE").write_bytes(b"1\r\nI AM INTERESTED IN THE PAPERLESS REVOLUTION. #\r\n")
    (tmp_path / "LISA.REL").write_bytes(b"Query 1\r\n1 Relevant Refs:\r\n1501 -1\r\n")
    found = lisa(tmp_path)
    assert [(d.id, d.title, d.body) for d in found.docs] == [
        ("1", "THE INDIAN COUNCIL OF LIBRARY AND INFORMATION SERVICES RESEARCH AND TRAINING: A PROPOSAL FOR CONSIDERATION.",
         "CRITICALLY EXAMINES THE INDIAN LIBRARY SCENE."),
        ("1501", "A CONVERSATION WITH DON ROBERTS. PART TWO.",
         "IN THE 2ND PART OF AN OCT 80 TELEPHONE INTERVIEW DON ROBERTS DISCUSSES THE PAPERLESS REVOLUTION."),
    ]
    assert found.queries == {"1": "I AM INTERESTED IN THE PAPERLESS REVOLUTION."}
    assert found.qrels == {"1": {"1501": 1}}


def test_plain_leaves_no_query_syntax() -> None:
    assert plain('"Hong Kong" (OR) -title:x, 5G?') == "hong kong or title x 5g"


def test_evaluate_averages_over_every_judged_query() -> None:
    qrels = {"1": {"a": 1, "b": 0}, "2": {"c": 1}, "3": {"d": 1}}
    collection = Collection("t", (), {"1": "", "2": "", "3": ""}, qrels, ("AP@100", "P@1", "R@100"))
    scores = evaluate(collection, {"1": ["a", "b"], "2": ["b", "c"], "3": []})
    assert scores == {"AP@100": 0.5, "P@1": pytest.approx(1 / 3), "R@100": pytest.approx(2 / 3)}


def test_qiao_ranks_the_relevant_document_first(tmp_path: Path) -> None:
    collection = Collection("tiny", DOCS, QUERY, JUDGED, ("P@1", "AP@100"))
    run, refused = run_qiao(collection, build_qiao(collection, tmp_path))
    assert (run["1"][0], refused) == ("2", 0)
    assert evaluate(collection, run) == {"P@1": 1.0, "AP@100": 1.0}


def test_bm25_reference_ranks_the_relevant_document_first() -> None:
    collection = Collection("tiny", DOCS, QUERY, JUDGED, ("P@1",))
    assert evaluate(collection, run_bm25(collection)) == {"P@1": 1.0}
