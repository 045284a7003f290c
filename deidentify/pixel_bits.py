"""Clears the unused bits of native Pixel Data, where retired "embedded" overlays hide.

Decision: the unused bits are cleared in every native (uncompressed) image whose Bits
Stored is less than Bits Allocated, whatever Overlay Bit Position says. A sender can put
anything there (overlay text, a second image), no conforming reader uses those bits, and
the header that would describe them is removed or rewritten by the profile anyway.
Unsigned samples get zeros above High Bit; signed samples get the sign extension of High
Bit, so readers that ignore Bits Stored still see the same values. Encapsulated
(compressed) Pixel Data cannot carry embedded overlays and is left to the pixel pass.

Works on the whole buffer as one Python integer (bitwise operations run in C), so it needs
no NumPy in the Lambda package.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import UID

from deidentify.dicom_io import peek

_SUPPORTED_WORDS = (8, 16, 32)


def clear_unused_pixel_bits(dataset: Dataset, transfer_syntax: UID | None) -> bool:
    """Rewrite Pixel Data with canonical unused bits; True when anything changed."""
    if "PixelData" not in dataset or transfer_syntax is None or transfer_syntax.is_compressed:
        return False
    allocated = _int(peek(dataset, "BitsAllocated"))
    stored = _int(peek(dataset, "BitsStored"))
    high_bit = _int(peek(dataset, "HighBit"))
    if allocated not in _SUPPORTED_WORDS or stored is None or high_bit is None:
        return False
    if not 0 < stored < allocated or not stored - 1 <= high_bit < allocated:
        return False
    data = peek(dataset, "PixelData")
    if not isinstance(data, (bytes, bytearray)):
        return False
    word_bytes = allocated // 8
    usable = len(data) - len(data) % word_bytes
    if usable == 0:
        return False
    words = usable // word_bytes
    byteorder = "big" if transfer_syntax == "1.2.840.10008.1.2.2" else "little"

    low_bit = high_bit - stored + 1
    stored_mask = ((1 << stored) - 1) << low_bit
    repeat = _repeater(allocated, words)
    whole = int.from_bytes(data[:usable], byteorder)
    kept = whole & (stored_mask * repeat)
    signed = _int(peek(dataset, "PixelRepresentation")) == 1
    if signed and high_bit + 1 < allocated:
        extension = ((1 << allocated) - 1) ^ ((1 << (high_bit + 1)) - 1)
        sign_bits = (kept >> high_bit) & repeat
        kept |= sign_bits * extension  # per word: no carry, the extension fits in the word
    if kept == whole:
        return False
    cleared = kept.to_bytes(usable, byteorder) + bytes(data[usable:])
    dataset.PixelData = cleared
    return True


def _repeater(word_bits: int, words: int) -> int:
    """An integer with bit 0 of every word set: 0x...000100010001 for 16-bit words."""
    unit = (1).to_bytes(word_bits // 8, "big")
    return int.from_bytes(unit * words, "big")


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
