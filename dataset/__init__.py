"""Synthetic province-scale datasets for benchmarks (manage.py generate_dataset)."""
