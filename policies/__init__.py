"""The trial-imaging compliance policy pack: encryption, residency and audit-trail policies.

`registry.POLICIES` lists every policy; `__main__.py` builds the `PolicyPack` from it. Policies are
grouped by AWS service (`any` holds the cross-service residency checks).
"""
