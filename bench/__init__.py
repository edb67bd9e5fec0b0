"""Benchmarks of Qiao: relevance against judged test collections (bench/relevance.py)."""
