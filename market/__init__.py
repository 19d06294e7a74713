"""Platform core of the Intermediary Service Supermarket: settings, database, clock, calendar,
audit trail, identity, i18n, the web shell, the CLI and the migrations."""
