"""App config for the benchmark dataset generator (a tool on top of every other app; no models)."""

from django.apps import AppConfig


class DatasetConfig(AppConfig):
    name = "dataset"
    verbose_name = "Dataset generator"
