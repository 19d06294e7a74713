"""Contracts, signing, delivery and acceptance, ratings, invoices, credit notes, payments, PDF
rendering and document verification (SPEC §5 "Contract" to "Documents")."""
