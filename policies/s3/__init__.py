"""Amazon S3 policies."""
