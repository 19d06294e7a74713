"""The public catalog of retained intermediary services (事项清单), the government purchase-of-services
catalog, provider profiles, qualifications and practitioners, uploads, and the provider directory."""
