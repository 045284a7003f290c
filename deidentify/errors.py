"""Exceptions of the de-identification package.

Every message here is PHI-free by construction: it carries a short reason code and, at
most, a tag number or a keyword from the DICOM dictionary, never a header value.
"""


class DeidentificationError(Exception):
    """An object could not be de-identified with confidence; the caller quarantines it."""

    reason: str = "deidentification-failed"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class NotDicomError(DeidentificationError):
    """The bytes are not a DICOM Part 10 file."""

    reason = "not-dicom"


class UnreadableDicomError(DeidentificationError):
    """The file claims to be DICOM but an element or its file meta cannot be parsed."""

    reason = "unreadable-dicom"


class UnsupportedObjectError(DeidentificationError):
    """A valid DICOM object that this version does not de-identify (e.g. a DICOMDIR)."""

    reason = "unsupported-object"


class MissingIdentifierError(DeidentificationError):
    """A UID needed to name the output (study, series or SOP instance) is absent."""

    reason = "missing-instance-uid"


class BurnedInTextError(DeidentificationError):
    """Burned-in text is suspected in the pixels and could not be cleaned with confidence."""

    reason = "burned-in-text"


class ProfileError(ValueError):
    """The rules data file is malformed; raised when the profile loads, never per object."""


class KeyConfigurationError(RuntimeError):
    """No usable de-identification key: absent, too short or unreadable."""
