"""The de-identification engine: applies a confidentiality profile to every element.

It visits the file meta, the data set and every sequence item at any depth. Private
elements are removed (or, with Retain Safe Private, kept when their block's creator and
element are on the safe list); unknown public elements are removed; listed elements get
their profile action (compound actions resolved so the object stays valid); unlisted
instance UIDs become keyed UIDs, unlisted dates are removed or shifted; patient ID and
name become keyed pseudonyms. Native pixel data loses anything hidden in its unused high
bits. With a pixel cleaner, burned-in text is handled after the header is cleaned.

Elements are decided by tag and VR first and only decoded when their value matters (kept
sequences, UIDs, dates, cleaned text), so removed values are never converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_VR,
    keyword_for_tag,
    repeater_has_tag,
    tag_for_keyword,
)
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID_dictionary

from deidentify.attestation import (
    PIXEL_DATA_KEYWORDS,
    attest,
    identity_removal_asserted,
)
from deidentify.descriptors import TextCleaner
from deidentify.dicom_io import (
    MEDIA_STORAGE_DIRECTORY_SOP_CLASS,
    peek,
    quiet_pydicom,
    raw_text_element,
    read_dicom,
    write_dicom,
)
from deidentify.dummies import dummy_value
from deidentify.errors import (
    DeidentificationError,
    MissingIdentifierError,
    UnreadableDicomError,
    UnsupportedObjectError,
)
from deidentify.keyed import KeyedMapper
from deidentify.pixel_bits import clear_unused_pixel_bits
from deidentify.profile import Action, Profile, load_basic_profile
from deidentify.temporal import shift_values

if TYPE_CHECKING:
    from deidentify.pixels import HeaderContext, PixelCleaner

# Compound actions resolved without IOD tables, choosing the option that never leaves a
# required (Type 1/2) attribute missing: Z/D, X/D and X/Z/D -> D; X/Z -> Z; X/Z/U* -> keep
# the sequence and replace the UIDs inside it.
_RESOLVED = {
    Action.EMPTY_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_EMPTY_OR_REPLACE: Action.REPLACE,
    Action.REMOVE_OR_EMPTY: Action.EMPTY,
    Action.REMOVE_OR_EMPTY_OR_REPLACE_UIDS: Action.KEEP,
}

# Non-class UIDs that identify an encoding or implementation, not an instance.
# UIDs that name a transfer syntax, an implementation, a coding scheme or a mapping resource,
# never an instance: replacing them would cut codes off their scheme.
_KEPT_UID_KEYWORDS = frozenset({
    "TransferSyntaxUID", "ImplementationClassUID", "CodingSchemeUID", "MappingResourceUID",
    "ContextGroupExtensionCreatorUID",
})
# Parts of a coded entry (code value, scheme, version): vocabulary, not free text, so cleaning
# structured content never treats a code such as 121071 as an identifier.
_CODED_ENTRY_TAGS = frozenset({
    0x00080100,  # CodeValue
    0x00080102,  # CodingSchemeDesignator
    0x00080103,  # CodingSchemeVersion
    0x00080105,  # MappingResource
    0x00080119,  # LongCodeValue
    0x00080120,  # URNCodeValue
})
_ENCAPSULATED_DOCUMENT = 0x00420011
_REQUIRED_OUTPUT_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
LINKED_KEYWORDS = ("PatientID", *_REQUIRED_OUTPUT_UIDS)  # what the raw-side linkage record maps
_TEMPORAL_VRS = frozenset({"DA", "DT", "TM"})
_CLEANABLE_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
# Values recorded as identifying text (for cleaning descriptors and for the pixel pass).
_IDENTIFYING_VRS = frozenset({"PN", "LO", "SH", "ST", "LT", "UT", "UC", "DA", "DT", "AE", "UR"})
_OVERLAY_GROUPS = range(0x6000, 0x6020, 2)
_IN_DICTIONARY, _REPEATING, _UNKNOWN = object(), object(), object()
_AGE = re.compile(r"^\d{3}[DWMY]$")


@dataclass(frozen=True)
class DeidentifiedObject:
    """The de-identified file, the keyed identifiers that name it, and what linkage needs."""

    data: bytes
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    patient_identity_removed: bool
    # Patient ID and the instance UIDs as received, and Patient ID as written (the keyed
    # pseudonym): what the raw-side linkage record maps, never logged.
    originals: HeldValues = field(default_factory=lambda: HeldValues())
    written: HeldValues = field(default_factory=lambda: HeldValues())


class _ObjectRun:
    """Per-object state: the patient's identity and date offset, identifying values seen."""

    __slots__ = ("_cleaner", "collect", "date_offset", "identifying", "identity", "pending_text")

    def __init__(self, identity: str | None, date_offset: int, collect: bool) -> None:
        self.identity = identity
        self.date_offset = date_offset
        self.collect = collect
        self.identifying: list[str] = []
        self.pending_text: list[tuple[Dataset, BaseTag, str]] = []
        self._cleaner: TextCleaner | None = None

    def cleaner(self) -> TextCleaner:
        if self._cleaner is None:
            self._cleaner = TextCleaner(self.identifying)
        return self._cleaner


class Deidentifier:
    """Applies one profile (with options) under one key. Stateless between objects apart from caches."""

    def __init__(
        self,
        mapper: KeyedMapper,
        profile: Profile | None = None,
        options: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
        pixel_cleaner: PixelCleaner | None = None,
    ) -> None:
        self.mapper = mapper
        self.profile = (profile or load_basic_profile()).with_options(options)
        self.pixel_cleaner = pixel_cleaner
        self._pseudonymised_tags = frozenset(
            tag for tag, rule in self.profile.exact.items() if rule.keyword in self.profile.pseudonymised
        )
        self._known: dict[int, object] = {}  # tag -> in the dictionary / repeating group / unknown
        self._safe_creators = frozenset((creator, group) for creator, group, _ in self.profile.safe_private)
        # Free text to clean means identifying values must be recorded while walking.
        self._cleans_text = any(
            rule.action is Action.CLEAN for rule in (*self.profile.exact.values(), *self.profile.patterns)
        )

    def deidentify_bytes(self, data: bytes) -> DeidentifiedObject:
        """De-identify Part 10 bytes; raises a DeidentificationError subclass to quarantine."""
        with quiet_pydicom():
            dataset = read_dicom(data)
            if str(dataset.file_meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY_SOP_CLASS:
                raise UnsupportedObjectError("DICOMDIR media directory")
            if _ENCAPSULATED_DOCUMENT in dataset:
                # A PDF or CDA inside DICOM: its content is beyond the header rules, and replacing
                # it would hand reviewers an empty document marked de-identified.
                raise UnsupportedObjectError("encapsulated document: its content cannot be de-identified")
            originals = HeldValues.of(dataset, LINKED_KEYWORDS)
            try:
                identity_removed = self.deidentify_dataset(dataset)
            except DeidentificationError:
                raise
            except Exception as error:  # noqa: BLE001 - fail closed: a value pydicom cannot convert, a broken item...
                raise UnreadableDicomError(f"element processing failed ({type(error).__name__})") from None
            output = write_dicom(dataset)
        return DeidentifiedObject(
            data=output,
            study_instance_uid=str(peek(dataset, "StudyInstanceUID")),
            series_instance_uid=str(peek(dataset, "SeriesInstanceUID")),
            sop_instance_uid=str(peek(dataset, "SOPInstanceUID")),
            patient_identity_removed=identity_removed,
            originals=originals,
            written=HeldValues.of(dataset, ("PatientID",)),
        )

    def deidentify_dataset(self, dataset: FileDataset) -> bool:
        """Clean a parsed file in place; returns whether Patient Identity Removed is YES."""
        declared_burned_in = _text(dataset, "BurnedInAnnotation")
        identity = patient_identity(dataset)
        cleaner = self.pixel_cleaner
        has_pixels = any(keyword in dataset for keyword in PIXEL_DATA_KEYWORDS)
        # Identifying values are recorded for free-text cleaning and for a pixel pass that reads them.
        collect = self._cleans_text or (cleaner is not None and getattr(cleaner, "needs_identifying_text", True))
        run = _ObjectRun(identity, self.mapper.date_offset_days(identity or ""), collect)
        context_facts = _context_facts(dataset) if cleaner is not None and has_pixels else None

        self._clean(dataset, run)
        for item, tag, vr in run.pending_text:
            self._clean_text(item, tag, vr, run)
        for keyword in _REQUIRED_OUTPUT_UIDS:
            if not str(peek(dataset, keyword, "") or "").strip():
                raise MissingIdentifierError(keyword)
        file_meta = getattr(dataset, "file_meta", None)
        transfer_syntax = None
        if file_meta is not None:
            self._clean(file_meta, run)
            # The meta must name the new instance even if the sender's meta disagreed.
            file_meta.MediaStorageSOPInstanceUID = peek(dataset, "SOPInstanceUID")
            transfer_syntax = file_meta.get("TransferSyntaxUID")
        clear_unused_pixel_bits(dataset, transfer_syntax)
        _drop_embedded_overlay_descriptions(dataset)

        pixels_cleaned = False
        if context_facts is not None:
            outcome = cleaner.clean(dataset, _header_context(context_facts, run.identifying))  # type: ignore[union-attr]
            pixels_cleaned = outcome.cleaned
            identity_removed = outcome.cleaned
        else:
            identity_removed = identity_removal_asserted(dataset, declared_burned_in)
        attest(dataset, self.profile, identity_removed, pixels_cleaned=pixels_cleaned)
        return identity_removed

    def _clean(self, dataset: Dataset, run: _ObjectRun, cleaning: bool = False) -> None:
        """Apply the profile to one data set. ``cleaning``: inside a sequence being cleaned
        (action C), where free text and names that no row lists are cleaned too."""
        profile = self.profile
        item_identity: str | None | bool = False  # computed on first use, per item
        kept_creators: list[BaseTag] = []
        kept_blocks: set[int] = set()
        creators: dict[int, str] = {}
        known = self._known
        for tag in list(dataset._dict):
            if (tag >> 16) & 1:
                if self._private(dataset, tag, run, creators):
                    if tag.element >= 0x1000:
                        kept_blocks.add((tag.group << 8) | (tag.element >> 8))
                    else:
                        kept_creators.append(tag)
                continue
            number = int(tag)  # plain-int lookups: a BaseTag compares in Python, an int in C
            kind = known.get(number)
            if kind is None:
                kind = known[number] = _IN_DICTIONARY if dictionary_has_tag(tag) else (
                    _REPEATING if repeater_has_tag(tag) else _UNKNOWN
                )
            if tag & 0xFFFF == 0 or kind is _UNKNOWN:
                # Group lengths go stale once values change; unknown public elements cannot
                # be judged, so they are not passed through.
                del dataset[tag]
                continue
            rule = profile.rule_for(number)
            if rule is None:
                if kind is _REPEATING:  # an unlisted repeating-group element
                    del dataset[tag]
                    continue
                vr = _vr(dataset, tag, resolve=False)
                if vr == "SQ":
                    self._clean_items(dataset, tag, run, cleaning)
                elif vr == "UI":
                    if profile.unlisted_instance_uids is not Action.KEEP:
                        self._replace_unlisted_uids(dataset, tag)
                elif vr in _TEMPORAL_VRS:
                    self._apply(dataset, tag, vr, profile.unlisted_temporal, run, None)
                elif cleaning and (vr in _CLEANABLE_TEXT_VRS or vr == "PN") and number not in _CODED_ENTRY_TAGS:
                    self._clean_value(dataset, tag, vr, run, cleaning)
                continue
            action = _RESOLVED.get(rule.action, rule.action)
            if action is Action.KEEP:
                kept_vr = _vr(dataset, tag, resolve=False)
                if kept_vr == "AS":  # a retained age must still be an age, not free text
                    _keep_valid_age(_element(dataset, tag))
                if kept_vr != "SQ":
                    continue
            vr = _vr(dataset, tag, resolve=action is not Action.REMOVE)
            if number in self._pseudonymised_tags and action is not Action.REMOVE:
                if item_identity is False:
                    item_identity = patient_identity(dataset)
                if item_identity is not None:
                    if run.collect:
                        _record(dataset, tag, vr, run)
                    # Z and D both allow a VR-valid replacement; a keyed pseudonym keeps linkage.
                    _assign(dataset, tag, vr, [self.mapper.patient_pseudonym(item_identity)])  # type: ignore[arg-type]
                    continue
            self._apply(dataset, tag, vr, action, run, cleaning)
        for tag in kept_creators:  # a safe creator stays only while one of its elements does
            if (tag.group << 8) | tag.element not in kept_blocks:
                del dataset[tag]

    def _apply(
        self, dataset: Dataset, tag: BaseTag, vr: str, action: Action, run: _ObjectRun, cleaning: bool = False
    ) -> None:
        action = _RESOLVED.get(action, action)
        # A value about to be cleaned in place is no search term for itself, except a date:
        # the original date is identifying wherever else it appears (text, pixels).
        if run.collect and action is not Action.KEEP and (vr in _IDENTIFYING_VRS or vr == "SQ") and (
            action is not Action.CLEAN or vr in _TEMPORAL_VRS
        ):
            _record(dataset, tag, vr, run)
        if action is Action.REMOVE:
            del dataset[tag]
        elif action is Action.KEEP:
            if vr == "SQ":
                self._clean_items(dataset, tag, run, cleaning)
        elif action is Action.EMPTY:
            if vr == "SQ":
                dataset[tag] = DataElement(tag, vr, Sequence())
            else:
                _assign(dataset, tag, vr, [])
        elif action is Action.REPLACE_UID or (action is Action.REPLACE and vr == "UI"):
            self._replace_uids(dataset, tag)
        elif action is Action.REPLACE:
            # A sequence has no neutral dummy item; emptying it removes the content safely.
            if vr == "SQ":
                dataset[tag] = DataElement(tag, vr, Sequence())
            else:
                _assign(dataset, tag, vr, [dummy_value(vr)])
        elif action is Action.CLEAN:
            self._clean_value(dataset, tag, vr, run, cleaning)
        else:  # pragma: no cover - every Action is handled above
            raise AssertionError(action)

    def _clean_value(self, dataset: Dataset, tag: BaseTag, vr: str, run: _ObjectRun, cleaning: bool = False) -> None:
        """Action C: shift dates, clean free text, clean a sequence's items, keep numbers and bitmaps."""
        if vr == "SQ":
            self._clean_items(dataset, tag, run, cleaning=True)
        elif vr in _TEMPORAL_VRS:
            values = _raw_values(dataset, tag, vr)
            if values is None:
                values = _values(_element(dataset, tag))
            _assign(dataset, tag, vr, shift_values(vr, values, run.date_offset))
        elif vr in _CLEANABLE_TEXT_VRS:
            # Cleaned once every identifying value of the object has been seen.
            run.pending_text.append((dataset, tag, vr))
        elif vr in ("PN", "UI", "AE", "UR"):
            # No safe "similar meaning" exists for a name, an address or an instance UID.
            value = self.mapper.uid(str(dataset[tag].value)) if vr == "UI" else dummy_value(vr)
            _assign(dataset, tag, vr, [value])

    def _clean_text(self, dataset: Dataset, tag: BaseTag, vr: str, run: _ObjectRun) -> None:
        cleaner = run.cleaner()
        values = _raw_values(dataset, tag, vr)
        undecoded = values is not None
        if values is None:
            values = _values(_element(dataset, tag))
        cleaned = [cleaner.clean(value, vr) for value in values]
        if not (undecoded and cleaned == values):  # unchanged text keeps its original bytes
            _assign(dataset, tag, vr, cleaned)

    def _private(self, dataset: Dataset, tag: BaseTag, run: _ObjectRun, creators: dict[int, str]) -> bool:
        """Keep a safe private element (True) or remove it, remembering private names when collecting."""
        if self.profile.private_attributes is Action.CLEAN and self._is_safe_private(dataset, tag, creators):
            return True
        if run.collect and tag.element >= 0x1000:
            raw = dataset.get_item(tag)
            vr = raw.VR if raw is not None else None
            if vr == "PN":  # names only: other private text mostly repeats public values, and costs time
                _record(dataset, tag, vr, run)
        del dataset[tag]
        return False

    def _is_safe_private(self, dataset: Dataset, tag: BaseTag, creators: dict[int, str]) -> bool:
        """Safe when the block's creator (found by value, wherever its slot is) lists the element.

        A creator is kept provisionally when it owns safe elements of this group; ``_clean``
        drops it again if none of its elements stayed.
        """
        element_number = tag.element
        if element_number < 0x10:
            return False
        if element_number <= 0xFF:
            creator = creators[tag] = _creator_text(dataset, tag)
            return (creator, tag.group) in self._safe_creators
        if element_number < 0x1000:
            return False
        creator_tag = (tag.group << 16) | (element_number >> 8)
        creator = creators.get(creator_tag)
        if creator is None:  # the creator was removed earlier in this walk, or is missing
            creator = creators[creator_tag] = _creator_text(dataset, BaseTag(creator_tag))
        return (creator, tag.group, element_number & 0xFF) in self.profile.safe_private

    def _clean_items(self, dataset: Dataset, tag: BaseTag, run: _ObjectRun, cleaning: bool = False) -> None:
        original = dataset._dict.get(tag)
        items = _element(dataset, tag).value
        # Items parsed from undecoded bytes: if cleaning replaces, removes or decodes none of their
        # elements, the original bytes are written back instead of re-encoding every item.
        before = [dict(item._dict) for item in items] if isinstance(original, RawDataElement) else None
        pending = len(run.pending_text)
        for item in items:
            self._clean(item, run, cleaning)
        # Text queued for cleaning is changed later, in these very items: they must be written.
        if before is not None and len(run.pending_text) == pending and all(map(_untouched, before, items)):
            dataset._dict[tag] = original

    def _replace_unlisted_uids(self, dataset: Dataset, tag: BaseTag) -> None:
        """An instance UID no row lists is replaced; class, transfer syntax and registered UIDs stay."""
        keyword = keyword_for_tag(tag)
        if keyword.endswith("ClassUID") or keyword in _KEPT_UID_KEYWORDS:
            return
        uids = _raw_values(dataset, tag, "UI")
        if uids is None:
            uids = _values(_element(dataset, tag))
        # Registered DICOM UIDs (coding schemes, mapping resources, SOP classes) name no instance.
        if all(uid in UID_dictionary for uid in uids if uid):
            return
        self._replace_uids(dataset, tag, uids)

    def _replace_uids(self, dataset: Dataset, tag: BaseTag, uids: list[str] | None = None) -> None:
        if uids is None:
            uids = _raw_values(dataset, tag, "UI")
            if uids is None:
                uids = _values(_element(dataset, tag))
        if not uids:
            return
        if len(uids) == 1:
            _assign(dataset, tag, "UI", [self.mapper.uid(uids[0])])
        else:
            _assign(dataset, tag, "UI", [self.mapper.uid(uid) for uid in uids if uid.strip(" \x00")])


@dataclass(frozen=True)
class HeldValues:
    """Elements held as they stood (a raw element never changes), decoded only when asked:
    linkage needs them, the de-identification itself does not pay for them."""

    elements: tuple[tuple[str, RawDataElement | str | None], ...] = ()
    character_set: object = None

    @classmethod
    def of(cls, dataset: Dataset, keywords: tuple[str, ...]) -> HeldValues:
        elements = []
        for keyword in keywords:
            element = dataset._dict.get(tag_for_keyword(keyword))  # type: ignore[arg-type]
            if element is not None and not isinstance(element, RawDataElement):
                element = str(element.value or "")  # decoded already: its value as it is now
            elements.append((keyword, element))
        return cls(tuple(elements), dataset.original_character_set or dataset._character_set)

    def decoded(self) -> dict[str, str]:
        """Each value as ``str(dataset.get(keyword, "") or "")`` gave it when held."""
        with quiet_pydicom():
            return {keyword: _decoded(element, self.character_set) for keyword, element in self.elements}


def _decoded(element: RawDataElement | str | None, character_set: object) -> str:
    if element is None or isinstance(element, str):
        return element or ""
    # What Dataset.__getitem__ does with a raw element, without storing the result anywhere.
    return str(convert_raw_data_element(element, encoding=character_set).value or "")  # type: ignore[arg-type]


def patient_identity(dataset: Dataset) -> str | None:
    """The normalised identity pseudonyms and date offsets are keyed on: Patient ID, else Name.

    A name is normalised so spelling variants of one name key alike: only the first
    (alphabetic) component group, trailing component separators and padding dropped, upper case.
    """
    patient_id = _text(dataset, "PatientID")
    if patient_id:
        return "id:" + patient_id
    patient_name = (_text(dataset, "PatientName") or "").split("=")[0].strip().rstrip("^ ").upper()
    if patient_name:
        return "name:" + patient_name
    return None


def _text(dataset: Dataset, keyword: str) -> str | None:
    try:
        value = peek(dataset, keyword)
    except Exception:  # noqa: BLE001 - an undecodable value is no identity and no declaration
        return None
    if value is None:
        return None
    text = str(value).strip(" \x00")
    return text or None


def _vr(dataset: Dataset, tag: BaseTag, resolve: bool = True) -> str:
    """The element's VR without decoding its value (explicit VR, else the dictionary's).

    ``resolve=False`` leaves an ambiguous dictionary VR ("US or SS") as it is, for callers
    that only ask whether it is SQ, UI or a date/time VR.
    """
    element = dataset._dict.get(tag)
    vr = element.VR if element is not None else None
    if not vr or vr == "UN":
        vr = _dictionary_vr(tag)
    if resolve and " or " in vr:  # ambiguous (US or SS, OB or OW): the decoded element knows
        vr = dataset[tag].VR
        if " or " in vr:
            vr = vr.split(" or ")[0]
    return vr


@cache
def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _untouched(before: dict, item: Dataset) -> bool:
    """Every element of the item is still the very undecoded element it was before cleaning."""
    after = item._dict
    return len(after) == len(before) and all(
        type(element) is RawDataElement and after.get(tag) is element for tag, element in before.items()
    )


def _element(dataset: Dataset, tag: BaseTag) -> DataElement:
    try:
        return dataset[tag]
    except Exception as error:  # noqa: BLE001 - pydicom raises many types; quarantined
        raise UnreadableDicomError(f"element {tag} cannot be parsed ({type(error).__name__})") from None


def _values(element: DataElement) -> list[str]:
    value = element.value
    if value is None:
        return []
    if isinstance(value, (list, MultiValue)):
        return [str(item) for item in value]
    return [str(value)] if str(value) else []


def _record(dataset: Dataset, tag: BaseTag, vr: str, run: _ObjectRun) -> None:
    """Remember an identifying value (every text value, for a sequence) before it goes."""
    if vr != "SQ":
        values = _raw_values(dataset, tag, vr)
        if values is not None:
            run.identifying.extend(value for value in values if len(value.strip(" \x00^=")) > 1)
            return
    try:
        element = dataset[tag]
        if vr == "SQ":
            for item in element.value:
                for nested in item.iterall():
                    if nested.VR in _IDENTIFYING_VRS and not (nested.tag.is_private and nested.tag.element < 0x1000):
                        _record_values(nested, run)
        else:
            _record_values(element, run)
    except Exception:  # noqa: BLE001 - undecodable: removed or replaced anyway, nothing to record
        return


def _record_values(element: DataElement, run: _ObjectRun) -> None:
    run.identifying.extend(value for value in _values(element) if len(value.strip(" \x00^=")) > 1)


def _creator_text(dataset: Dataset, creator_tag: BaseTag) -> str:
    raw = dataset.get_item(creator_tag)
    if raw is None:
        return ""
    value = raw.value
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    return str(value or "").strip(" \x00")


# How pydicom decodes a value, by VR: (always the default character set, strip each value,
# split on backslash). Text VRs whose bytes are not ASCII are left to pydicom (character sets).
_DEFAULT_CHARSET_VRS = frozenset({"UI", "DA", "DT", "TM"})
_MULTI_TEXT_VRS = frozenset({"SH", "LO", "UC"})
_SINGLE_TEXT_VRS = frozenset({"ST", "LT", "UT"})
# VRs written from text values as raw bytes, and the padding pydicom's writer uses for each.
_RAW_TEXT_VRS = frozenset({"UI", "DA", "DT", "TM", "PN", "SH", "LO", "UC", "ST", "LT", "UT", "CS", "AE", "UR", "AS"})


def _raw_values(dataset: Dataset, tag: BaseTag, vr: str) -> list[str] | None:
    """The element's values as ``_values`` of the decoded element would give them, read from the
    undecoded bytes; None when the element is decoded already or pydicom's decoding could differ."""
    raw = dataset._dict.get(tag)
    if not isinstance(raw, RawDataElement) or raw.value is None or raw.is_buffered:
        return None
    data = raw.value
    if vr in _DEFAULT_CHARSET_VRS:
        items = data.decode("latin-1").rstrip(" \x00").split("\\")
        if vr == "UI":
            items = [item.strip() for item in items]
    elif not data.isascii() or b"\x1b" in data:  # ISO 2022 escapes switch character sets
        return None
    elif vr in _MULTI_TEXT_VRS:
        items = [item.rstrip("\x00 ") for item in data.decode("ascii").split("\\")]
    elif vr in _SINGLE_TEXT_VRS:
        items = [data.decode("ascii").rstrip("\x00 ")]
    elif vr == "PN":
        items = data.rstrip(b"\x00 ").decode("ascii").split("\\")
    else:
        return None
    if len(items) == 1:
        return items if items[0] else []
    return items


def _assign(dataset: Dataset, tag: BaseTag, vr: str, values: list) -> None:
    """Give an element new values. ASCII text replacing an undecoded element is stored encoded
    (as pydicom's writer would encode it), so it is never decoded or re-encoded again."""
    previous = dataset._dict.get(tag)
    if (
        isinstance(previous, RawDataElement)
        and vr in _RAW_TEXT_VRS
        and all(isinstance(value, str) and value.isascii() for value in values)
    ):
        dataset._dict[tag] = raw_text_element(tag, vr, values, previous.is_implicit_VR, previous.is_little_endian)
        return
    value = None if not values else (values[0] if len(values) == 1 else values)
    dataset[tag] = DataElement(tag, vr, value)


def _keep_valid_age(element: DataElement) -> None:
    value = str(element.value or "").strip(" \x00")
    if value and _AGE.match(value) is None:
        element.value = ""


def _drop_embedded_overlay_descriptions(dataset: Dataset) -> None:
    """An overlay group without Overlay Data described bits in Pixel Data that are now cleared."""
    for group in _OVERLAY_GROUPS:
        if (group << 16) | 0x0010 in dataset and (group << 16) | 0x3000 not in dataset:
            for tag in [tag for tag in dataset.keys() if tag.group == group]:  # noqa: SIM118 - tags, not decoded elements
                del dataset[tag]


def _context_facts(dataset: Dataset) -> dict[str, object]:
    image_type = peek(dataset, "ImageType")
    values = image_type if isinstance(image_type, (list, MultiValue)) else ([image_type] if image_type else [])
    return {
        "modality": _text(dataset, "Modality"),
        "manufacturer": _text(dataset, "Manufacturer"),
        "model": _text(dataset, "ManufacturerModelName"),
        "image_type": tuple(str(value) for value in values),
        "burned_in_annotation": _text(dataset, "BurnedInAnnotation"),
        "sop_class_uid": _text(dataset, "SOPClassUID"),
    }


def _header_context(facts: dict[str, object], identifying: list[str]) -> HeaderContext:
    from deidentify.pixels import HeaderContext

    return HeaderContext(identifying_text=tuple(dict.fromkeys(identifying)), **facts)  # type: ignore[arg-type]
