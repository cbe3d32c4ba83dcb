"""The comparison harness: suites of tasks, the runner, one metrics module, and the report."""
