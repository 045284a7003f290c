"""The de-identification engine: applies a confidentiality profile to every element.

It visits the file meta, the data set and every sequence item at any depth. Private
elements and unknown public elements are removed; listed elements get their profile action
(compound actions resolved conservatively so the object stays valid); unlisted instance
UIDs are replaced with keyed UIDs; patient ID and name become keyed pseudonyms.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

from deidentify.attestation import attest, identity_removal_asserted
from deidentify.dicom_io import MEDIA_STORAGE_DIRECTORY_SOP_CLASS, quiet_pydicom, read_dicom, write_dicom
from deidentify.dummies import dummy_value
from deidentify.errors import (
    DeidentificationError,
    MissingIdentifierError,
    UnreadableDicomError,
    UnsupportedObjectError,
)
from deidentify.keyed import KeyedMapper
from deidentify.profile import Action, Profile, load_basic_profile

# Compound actions resolved without IOD tables, choosing the option that never leaves a
# required (Type 1/2) attribute missing: Z/D, X/D and X/Z/D -> D; X/Z -> Z; X/Z/U* -> keep
# the sequence and replace the UIDs inside it.
_RESOLVED = {
    Action.EMPTY_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_EMPTY_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_EMPTY: Action.EMPTY,
    Action.REMOVE_OR_EMPTY_OR_REPLACE_UIDS: Action.KEEP,
    # No clean-option data yet: cleaning falls back to the stricter dummy replacement.
    Action.CLEAN: Action.REPLACE,
}

# Non-class UIDs that identify an encoding or implementation, not an instance.
_KEPT_UID_KEYWORDS = frozenset({"TransferSyntaxUID", "ImplementationClassUID"})
_REQUIRED_OUTPUT_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


@dataclass(frozen=True)
class DeidentifiedObject:
    """The de-identified file and the keyed identifiers that name it."""

    data: bytes
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    patient_identity_removed: bool


class Deidentifier:
    """Applies one profile under one key. Stateless between objects apart from caches."""

    def __init__(self, mapper: KeyedMapper, profile: Profile | None = None) -> None:
        self.mapper = mapper
        self.profile = profile or load_basic_profile()

    def deidentify_bytes(self, data: bytes) -> DeidentifiedObject:
        """De-identify Part 10 bytes; raises a DeidentificationError subclass to quarantine."""
        with quiet_pydicom():
            dataset = read_dicom(data)
            if str(dataset.file_meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY_SOP_CLASS:
                raise UnsupportedObjectError("DICOMDIR media directory")
            try:
                identity_removed = self.deidentify_dataset(dataset)
            except DeidentificationError:
                raise
            except Exception as error:  # a value pydicom cannot convert, a broken item...
                raise UnreadableDicomError(f"element processing failed ({type(error).__name__})") from None
            output = write_dicom(dataset)
        return DeidentifiedObject(
            data=output,
            study_instance_uid=str(dataset.StudyInstanceUID),
            series_instance_uid=str(dataset.SeriesInstanceUID),
            sop_instance_uid=str(dataset.SOPInstanceUID),
            patient_identity_removed=identity_removed,
        )

    def deidentify_dataset(self, dataset: FileDataset) -> bool:
        """Clean a parsed file in place; returns whether Patient Identity Removed is YES."""
        declared_burned_in = dataset.get("BurnedInAnnotation")
        self._clean(dataset)
        for keyword in _REQUIRED_OUTPUT_UIDS:
            if not str(dataset.get(keyword, "") or "").strip():
                raise MissingIdentifierError(keyword)
        file_meta = getattr(dataset, "file_meta", None)
        if file_meta is not None:
            self._clean(file_meta)
            # The meta must name the new instance even if the sender's meta disagreed.
            file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        identity_removed = identity_removal_asserted(dataset, declared_burned_in)
        attest(dataset, self.profile, identity_removed)
        return identity_removed

    def _clean(self, dataset: Dataset) -> None:
        identity = _patient_identity(dataset)
        for tag in list(dataset.keys()):
            try:
                element = dataset[tag]
            except Exception as error:
                raise UnreadableDicomError(f"element {tag} cannot be parsed ({type(error).__name__})") from None
            if tag.is_private:
                if self.profile.private_attributes is Action.REMOVE:
                    del dataset[tag]
                    continue
                raise UnsupportedObjectError(f"private attribute action {self.profile.private_attributes.value}")
            if tag.element == 0 or not dictionary_has_tag(tag):
                # Group lengths go stale once values change; unknown public elements cannot
                # be judged, so they are not passed through.
                del dataset[tag]
                continue
            rule = self.profile.rule_for(tag)
            if rule is None:
                self._unlisted(dataset, element)
            else:
                self._apply(dataset, element, rule.action, identity)

    def _unlisted(self, dataset: Dataset, element: DataElement) -> None:
        if element.VR == "SQ":
            self._clean_items(element)
        elif element.VR == "UI" and not _is_kept_uid(element):
            self._apply(dataset, element, self.profile.unlisted_instance_uids, identity=None)

    def _apply(self, dataset: Dataset, element: DataElement, action: Action, identity: str | None) -> None:
        action = _RESOLVED.get(action, action)
        if action is Action.REMOVE:
            del dataset[element.tag]
        elif action is Action.KEEP:
            if element.VR == "SQ":
                self._clean_items(element)
        elif element.keyword in self.profile.pseudonymised and identity is not None:
            # Z and D both allow a VR-valid replacement; a keyed pseudonym keeps linkage.
            element.value = self.mapper.patient_pseudonym(identity)
        elif action is Action.EMPTY:
            element.value = Sequence() if element.VR == "SQ" else element.empty_value
        elif action is Action.REPLACE_UID or (action is Action.REPLACE and element.VR == "UI"):
            self._replace_uids(element)
        elif action is Action.REPLACE:
            # A sequence has no neutral dummy item; emptying it removes the content safely.
            element.value = Sequence() if element.VR == "SQ" else dummy_value(element.VR.split(" or ")[0])
        else:  # pragma: no cover - every Action is handled above
            raise AssertionError(action)

    def _clean_items(self, element: DataElement) -> None:
        for item in element.value:
            self._clean(item)

    def _replace_uids(self, element: DataElement) -> None:
        value = element.value
        if value is None or value == "":
            return
        if isinstance(value, (list, MultiValue)):
            element.value = [self.mapper.uid(str(uid)) for uid in value if str(uid).strip()]
        else:
            element.value = self.mapper.uid(str(value))


def _is_kept_uid(element: DataElement) -> bool:
    keyword = element.keyword or ""
    if keyword.endswith("ClassUID") or keyword in _KEPT_UID_KEYWORDS:
        return True
    values = element.value if isinstance(element.value, (list, MultiValue)) else [element.value]
    # Registered DICOM UIDs (coding schemes, mapping resources, SOP classes) name no instance.
    return all(str(value) in UID_dictionary for value in values if value)


def _patient_identity(dataset: Dataset) -> str | None:
    """The normalised identity a pseudonym is keyed on: Patient ID, else Patient Name."""
    patient_id = str(dataset.get("PatientID", "") or "").strip()
    if patient_id:
        return "id:" + patient_id
    patient_name = str(dataset.get("PatientName", "") or "").strip().rstrip("^").upper()
    if patient_name:
        return "name:" + patient_name
    return None
