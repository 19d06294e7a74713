"""The public catalog of retained intermediary services (事项清单), the government purchase-of-services
catalog, provider profiles, qualifications and practitioners, uploads, and the provider directory."""

from listings import labels as _labels  # noqa: F401  (registers the vocabularies)
