"""The core course/user API's domain: database, tables, migrations, security, roles, outbox."""
