"""The bookjobs runtime: settings, broker factory, middleware, job ledger, errors and the CLI."""
