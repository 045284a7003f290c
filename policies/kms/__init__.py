"""AWS KMS policies."""
