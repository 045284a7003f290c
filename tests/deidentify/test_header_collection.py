"""Identifying header values are collected for a pixel pass only when its cleaner reads them."""

from __future__ import annotations

from pydicom.dataset import Dataset

from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper
from deidentify.pixels import HeaderContext, PixelOutcome
from deidentify.pixels.cleaner import HeaderOnlyCleaner
from tests.deidentify.deid_samples import TEST_KEY
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image


class _Recording:
    def __init__(self, reads_text: bool | None) -> None:
        if reads_text is not None:
            self.needs_identifying_text = reads_text
        self.contexts: list[HeaderContext] = []

    def clean(self, dataset: Dataset, context: HeaderContext) -> PixelOutcome:
        self.contexts.append(context)
        return PixelOutcome(False, 0, "recorded")


def _identifying_text(cleaner: _Recording, options: frozenset[str] = frozenset()) -> tuple[str, ...]:
    Deidentifier(KeyedMapper(TEST_KEY), options=options, pixel_cleaner=cleaner).deidentify_bytes(build_image())
    (context,) = cleaner.contexts
    return context.identifying_text


def test_a_cleaner_gets_the_identifying_text_unless_it_says_it_does_not_read_it() -> None:
    assert SYNTHETIC_PHI["PatientName"] in _identifying_text(_Recording(reads_text=None))
    assert SYNTHETIC_PHI["PatientName"] in _identifying_text(_Recording(reads_text=True))
    assert _identifying_text(_Recording(reads_text=False)) == ()


def test_text_is_still_collected_for_cleaning_descriptors_whatever_the_pixel_cleaner() -> None:
    assert SYNTHETIC_PHI["PatientName"] in _identifying_text(_Recording(reads_text=False), frozenset({"clean-descriptors"}))


def test_the_header_only_cleaner_does_not_read_identifying_text() -> None:
    assert HeaderOnlyCleaner.needs_identifying_text is False
