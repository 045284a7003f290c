"""Pulumi components of trial-imaging: one ComponentResource per module, plus the settings
and the region capability matrix they are built from."""
