"""Builds small DICOM files with synthetic (invented) identities for the tests."""

from __future__ import annotations

from io import BytesIO

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"

SYNTHETIC_PHI = {
    "PatientName": "Synthetic^Alice^Q",
    "PatientID": "SYN-PAT-000417",
    "PatientBirthDate": "19510923",
    "InstitutionName": "Imaginary General Hospital",
    "StationName": "FICTIONAL-CT-07",
    "ReferringPhysicianName": "Madeup^Doctor",
    "OperatorsName": "Nobody^Operator",
    "AccessionNumber": "ACCSYN98765",
    "StudyDate": "20240229",
    "StudyID": "STUDYSYN55",
}


def ct_dataset(
    study_uid: str,
    series_uid: str,
    sop_uid: str,
    patient_id: str,
    patient_name: str,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> FileDataset:
    """A bare CT file data set (meta, identifiers, patient) for a test to add its elements to."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = transfer_syntax
    dataset = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    dataset.SOPClassUID = CT_IMAGE_STORAGE
    dataset.SOPInstanceUID = sop_uid
    dataset.StudyInstanceUID = study_uid
    dataset.SeriesInstanceUID = series_uid
    dataset.PatientID = patient_id
    dataset.PatientName = patient_name
    return dataset


def build_image(
    study_uid: str = "1.2.826.0.1.3680043.99.1",
    series_uid: str = "1.2.826.0.1.3680043.99.1.1",
    sop_uid: str = "1.2.826.0.1.3680043.99.1.1.1",
    frame_of_reference_uid: str = "1.2.826.0.1.3680043.99.7",
    burned_in_annotation: str | None = None,
    patient_id: str = SYNTHETIC_PHI["PatientID"],
    preamble: bytes = b"\x00" * 128,
) -> bytes:
    """A tiny CT image with synthetic PHI in the header, nested sequences and private data."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = "SYNPACS_AE"

    dataset = FileDataset("", Dataset(), file_meta=meta, preamble=preamble)
    dataset.SOPClassUID = CT_IMAGE_STORAGE
    dataset.SOPInstanceUID = sop_uid
    dataset.StudyInstanceUID = study_uid
    dataset.SeriesInstanceUID = series_uid
    dataset.FrameOfReferenceUID = frame_of_reference_uid
    dataset.Modality = "CT"
    for keyword, value in SYNTHETIC_PHI.items():
        setattr(dataset, keyword, value)
    dataset.PatientID = patient_id
    dataset.PatientSex = "F"
    if burned_in_annotation is not None:
        dataset.BurnedInAnnotation = burned_in_annotation

    # Three levels of nesting with identifying values at the bottom.
    deepest = Dataset()
    deepest.PersonName = "Deepnested^Synthetic"
    deepest.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.99.555"
    middle = Dataset()
    middle.ContentSequence = Sequence([deepest])
    middle.PerformedProcedureStepID = "PPSSYN12"
    top = Dataset()
    top.RequestAttributesSequence = Sequence([middle])
    top.ReferencedStudySequence = Sequence()
    dataset.ProcedureCodeSequence = Sequence([top])

    # Private block at top level and a private sequence nested in a public one.
    dataset.private_block(0x0009, "SYNTHETIC VENDOR", create=True).add_new(0x01, "LO", "PrivateSynSecret")
    holder = Dataset()
    holder.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    holder.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.99.556"
    private_item = Dataset()
    private_item.PatientName = "Privatenested^Synthetic"
    holder.private_block(0x0011, "SYNTHETIC VENDOR", create=True).add_new(0x02, "SQ", Sequence([private_item]))
    dataset.ReferencedImageSequence = Sequence([holder])

    # Overlay and curve repeating groups, and a stale group length.
    dataset.add_new(0x60020010, "US", 1)
    dataset.add_new(0x60023000, "OW", b"\x01\x02" * 4)
    dataset.add_new(0x60024000, "LT", "Overlay comment SYNOVERLAY")
    dataset.add_new(0x50000005, "US", 1)
    dataset.add_new(0x00080000, "UL", 1234)

    dataset.Rows = 2
    dataset.Columns = 2
    dataset.BitsAllocated = 16
    dataset.BitsStored = 12
    dataset.HighBit = 11
    dataset.PixelRepresentation = 0
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.PixelData = b"\x00\x01" * 4

    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def build_segmentation_referencing(image_sop_uid: str, study_uid: str, frame_of_reference_uid: str) -> bytes:
    """A non-image object in the same study that references an image by its UIDs."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SEGMENTATION_STORAGE
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.99.2.1.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    dataset.SOPClassUID = SEGMENTATION_STORAGE
    dataset.SOPInstanceUID = "1.2.826.0.1.3680043.99.2.1.1"
    dataset.StudyInstanceUID = study_uid
    dataset.SeriesInstanceUID = "1.2.826.0.1.3680043.99.2.1"
    dataset.FrameOfReferenceUID = frame_of_reference_uid
    dataset.PatientName = SYNTHETIC_PHI["PatientName"]
    dataset.PatientID = SYNTHETIC_PHI["PatientID"]
    reference = Dataset()
    reference.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    reference.ReferencedSOPInstanceUID = image_sop_uid
    series = Dataset()
    series.SeriesInstanceUID = "1.2.826.0.1.3680043.99.1.1"
    series.ReferencedInstanceSequence = Sequence([reference])
    dataset.ReferencedSeriesSequence = Sequence([series])
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
