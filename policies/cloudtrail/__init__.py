"""AWS CloudTrail policies."""
