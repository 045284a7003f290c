"""Decoding Pixel Data to frames and writing redacted frames back consistently.

Every transfer syntax pydicom can decode with its pylibjpeg plugins is accepted. YBR data
(YBR_FULL, YBR_FULL_422, YBR_ICT, YBR_RCT) is decoded to RGB, so a rewritten object says RGB;
planar configuration 1 is read as such and written as 0. Redacted objects are written
uncompressed (Explicit VR Little Endian): re-encoding lossy data would degrade pixels outside
the boxes, and the original bits stay exact this way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import convert_color_space, get_decoder, pack_bits
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian

# Transfer syntaxes whose encoding may have lost information: a decoded copy keeps
# Lossy Image Compression "01" (PS3.3 C.7.6.1.1.5).
_LOSSY_CAPABLE = frozenset({
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.51",  # JPEG Extended
    "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000 (lossless or lossy)
    "1.2.840.10008.1.2.4.93",  # JPIP JPEG 2000 (lossless or lossy)
    "1.2.840.10008.1.2.4.203",  # HTJ2K (lossless or lossy)
    "1.2.840.10008.1.2.4.112",  # JPEG XL
})


class PixelDecodeError(Exception):
    """Pixel Data cannot be decoded (no plugin for the syntax, corrupt stream, bad module)."""


@dataclass
class Frames:
    """All frames of an image: ``array`` is (frames, rows, columns[, samples])."""

    array: np.ndarray
    photometric: str
    bits_stored: int
    transfer_syntax: UID

    @property
    def is_colour(self) -> bool:
        return self.array.ndim == 4


def decode_frames(dataset: Dataset) -> Frames:
    """Decode every frame (YBR converted to RGB). Raises PixelDecodeError."""
    try:
        syntax = UID(str(dataset.file_meta.TransferSyntaxUID))
        array, meta = get_decoder(syntax).as_array(dataset, as_rgb=True)
        frame_count = int(dataset.get("NumberOfFrames", 1) or 1)
    except Exception as error:  # pydicom raises many types for damaged or unsupported data
        raise PixelDecodeError(f"pixel data cannot be decoded ({type(error).__name__})") from None
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    if frame_count == 1:
        array = array[np.newaxis]
    if array.ndim != (4 if samples > 1 else 3):
        raise PixelDecodeError(f"unexpected decoded shape {array.shape}")
    photometric = str(meta.get("photometric_interpretation") or dataset.PhotometricInterpretation)
    bits_stored = int(meta.get("bits_stored") or dataset.BitsStored)
    if photometric.startswith("YBR"):
        # pydicom converts every YBR form it decodes; one left over is not written back as is,
        # because a full-resolution array under a subsampled or J2K-only label is inconsistent.
        if photometric not in ("YBR_FULL", "YBR_FULL_422") or array.dtype != np.uint8:
            raise PixelDecodeError(f"decoded samples left in {photometric}")
        array = convert_color_space(array, "YBR_FULL", "RGB")
        photometric = "RGB"
    return Frames(np.ascontiguousarray(array), photometric, bits_stored, syntax)


def write_frames(dataset: Dataset, frames: Frames) -> None:
    """Replace Pixel Data with ``frames`` uncompressed; the Image Pixel module is updated to match.

    The result is Explicit VR Little Endian, except that a big endian source stays Explicit
    VR Big Endian: pydicom does not re-encode the rest of a big endian data set as little
    endian, and the pixel bytes are written in the order the syntax says.
    """
    array = frames.array
    big_endian = not frames.transfer_syntax.is_little_endian
    if frames.transfer_syntax in _LOSSY_CAPABLE:
        dataset.LossyImageCompression = "01"
    bits_allocated = int(dataset.BitsAllocated)
    if bits_allocated == 1:
        data = pack_bits(array.ravel()) if array.size else b""
    else:
        itemsize = bits_allocated // 8
        if itemsize not in (1, 2, 4, 8) or array.dtype.itemsize > itemsize:
            raise ValueError(f"cannot store {array.dtype} samples in {bits_allocated} bits")
        kind = "i" if array.dtype.kind == "i" else "u"
        data = array.astype(np.dtype(f"{'>' if big_endian else '<'}{kind}{itemsize}")).tobytes()
    samples = 1 if array.ndim == 3 else array.shape[3]
    dataset.Rows, dataset.Columns = array.shape[1], array.shape[2]
    dataset.SamplesPerPixel = samples
    if samples > 1:
        dataset.PlanarConfiguration = 0
    elif "PlanarConfiguration" in dataset:
        del dataset.PlanarConfiguration
    dataset.PhotometricInterpretation = frames.photometric
    dataset.BitsStored = frames.bits_stored
    dataset.HighBit = frames.bits_stored - 1
    dataset.PixelData = data + b"\x00" * (len(data) % 2)
    element = dataset["PixelData"]
    element.VR = "OB" if bits_allocated <= 8 else "OW"
    element.is_undefined_length = False
    dataset.file_meta.TransferSyntaxUID = ExplicitVRBigEndian if big_endian else ExplicitVRLittleEndian
    # Drop pydicom's cached decoded array; it describes the previous encoding.
    dataset._pixel_array = None
    dataset._pixel_id = {}
