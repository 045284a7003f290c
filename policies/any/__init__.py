"""Cross-service policies (residency), named `aws-any-...`."""
