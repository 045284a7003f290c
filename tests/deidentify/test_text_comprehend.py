"""Comprehend Medical DetectPHI through botocore's Stubber on a real client (moto lacks the service)."""

from __future__ import annotations

import random
from itertools import pairwise

import boto3
import pytest
from botocore.stub import Stubber

from deidentify.errors import DeidentificationError
from deidentify.text import TextDetectorUnavailableError, build_detector
from deidentify.text.chunking import BATCH_SEPARATOR, chunk_spans
from deidentify.text.comprehend import REQUEST_BYTE_LIMIT, ComprehendMedicalDetector


@pytest.fixture
def client():
    return boto3.client("comprehendmedical", region_name="eu-west-1")


def _entity(text: str, value: str, entity_type: str = "NAME", score: float = 0.99, start: int = 0) -> dict:
    """A DetectPHI entity for the first occurrence of `value` in `text` from `start` (code points)."""
    begin = text.index(value, start)
    return {
        "Id": begin, "BeginOffset": begin, "EndOffset": begin + len(value), "Score": score, "Text": value,
        "Category": "PROTECTED_HEALTH_INFORMATION", "Type": entity_type, "Traits": [],
    }


def _response(*entities: dict) -> dict:
    return {"Entities": list(entities), "ModelVersion": "0.1.0"}


def _detector(client, recorded_sleeps: list[float] | None = None, **options) -> ComprehendMedicalDetector:
    sleeps = recorded_sleeps if recorded_sleeps is not None else []
    return ComprehendMedicalDetector(client, sleep=sleeps.append, rng=random.Random(7), **options)


def test_offsets_are_characters_in_multibyte_text(client) -> None:
    text = "Zoë Ünal (東京) seen 12/03/2024 — café follow-up with Dr. Ólafur Testsson."
    with Stubber(client) as stub:
        stub.add_response(
            "detect_phi",
            _response(_entity(text, "Zoë Ünal"), _entity(text, "12/03/2024", "DATE"),
                      _entity(text, "Ólafur Testsson")),
            {"Text": text},
        )
        entities = _detector(client).detect(text)
        stub.assert_no_pending_responses()
    assert [(text[e.begin:e.end], e.type) for e in entities] == [
        ("Zoë Ünal", "NAME"), ("12/03/2024", "DATE"), ("Ólafur Testsson", "NAME")]


def _multibyte_document(words: int) -> str:
    # 3-byte characters: fewer than 20,000 characters can exceed 20,000 bytes.
    vocabulary = ["東京都", "患者", "検査", "naïve", "résumé", "Ærø", "ok"]
    return " ".join(vocabulary[i % len(vocabulary)] for i in range(words))


def test_chunks_stay_under_the_byte_limit_even_when_characters_are_fewer(client) -> None:
    text = _multibyte_document(4_000)
    assert len(text) < REQUEST_BYTE_LIMIT < len(text.encode("utf-8"))  # a character count would not split it
    detector = _detector(client)
    spans = chunk_spans(text, detector.max_request_bytes, detector.overlap_chars)
    assert len(spans) >= 2
    with Stubber(client) as stub:
        for span in spans:
            stub.add_response("detect_phi", _response(), {"Text": text[span.begin:span.end]})
        assert detector.detect(text) == []
        stub.assert_no_pending_responses()
    for span in spans:
        assert len(text[span.begin:span.end].encode("utf-8")) < REQUEST_BYTE_LIMIT
    for previous, following in pairwise(spans):
        assert text[previous.end - 1].isspace(), "chunks are cut after whitespace"
        assert following.begin < previous.end, "consecutive chunks overlap"
        assert following.begin == 0 or text[following.begin - 1].isspace(), "overlap starts on a word"
    assert spans[0].begin == 0 and spans[-1].end == len(text)


def test_ascii_text_just_under_the_limit_is_one_request(client) -> None:
    text = ("word " * 4_000)[: REQUEST_BYTE_LIMIT - 1]
    with Stubber(client) as stub:
        stub.add_response("detect_phi", _response(), {"Text": text})
        _detector(client).detect(text)
        stub.assert_no_pending_responses()


def test_text_without_whitespace_is_cut_inside_a_character_run_not_inside_a_character(client) -> None:
    text = "é" * 15_000  # 30,000 bytes, no whitespace
    spans = chunk_spans(text, REQUEST_BYTE_LIMIT - 1, 500)
    assert [len(text[s.begin:s.end].encode("utf-8")) < REQUEST_BYTE_LIMIT for s in spans] == [True] * len(spans)
    assert spans[-1].end == len(text)


def test_entities_are_mapped_back_and_overlap_duplicates_dropped(client) -> None:
    # A synthetic name every few words, so every overlap holds at least one whole name.
    text = " ".join(f"word{i} Ima Fakename{i:03d} seen" for i in range(40))
    names = [f"Ima Fakename{i:03d}" for i in range(40)]
    detector = _detector(client, max_request_bytes=400, overlap_chars=40)
    spans = chunk_spans(text, detector.max_request_bytes, detector.overlap_chars)
    reported = 0
    with Stubber(client) as stub:
        for span in spans:
            chunk = text[span.begin:span.end]
            found = [_entity(chunk, name) for name in names if name in chunk]
            reported += len(found)
            stub.add_response("detect_phi", _response(*found), {"Text": chunk})
        entities = detector.detect(text)
        stub.assert_no_pending_responses()
    assert reported > len(names), "some names were reported by two chunks"
    assert [text[e.begin:e.end] for e in entities] == names


def test_a_name_cut_at_a_chunk_edge_is_reported_whole_once(client) -> None:
    detector = _detector(client, max_request_bytes=100, overlap_chars=12)
    text = "x" * 85 + " Jane Roewinkelmann " + "y" * 60
    spans = chunk_spans(text, detector.max_request_bytes, detector.overlap_chars)
    first, second = (text[s.begin:s.end] for s in spans[:2])
    assert first.endswith(" Jane ") and second.startswith("Jane Roewinkelmann")
    with Stubber(client) as stub:
        stub.add_response("detect_phi", _response(_entity(first, "Jane")), {"Text": first})
        stub.add_response("detect_phi", _response(_entity(second, "Jane Roewinkelmann")), {"Text": second})
        for span in spans[2:]:
            stub.add_response("detect_phi", _response(), {"Text": text[span.begin:span.end]})
        entities = detector.detect(text)
    assert [(text[e.begin:e.end], e.type) for e in entities] == [("Jane Roewinkelmann", "NAME")]


def test_short_strings_share_one_request_with_an_offset_map(client) -> None:
    texts = ["Roe^Jane", "", "CT CHEST W/O", "Dr. Ima Fakename", "Ünïcode Pätient"]
    joined = BATCH_SEPARATOR.join(t for t in texts if t)
    straddling = _entity(joined, "W/O" + BATCH_SEPARATOR + "Dr. Ima")  # reaches over a separator
    with Stubber(client) as stub:
        stub.add_response(
            "detect_phi",
            _response(_entity(joined, "Roe^Jane"), straddling, _entity(joined, "Ima Fakename"),
                      _entity(joined, "Pätient")),
            {"Text": joined},
        )
        results = _detector(client).detect_many(texts)
        stub.assert_no_pending_responses()
    found = [[text[e.begin:e.end] for e in entities] for text, entities in zip(texts, results)]
    assert found == [["Roe^Jane"], [], ["W/O"], ["Dr. Ima", "Ima Fakename"], ["Pätient"]]


def test_batches_respect_the_byte_limit_and_long_strings_are_chunked_alone(client) -> None:
    short = [f"Synthetic Name {i:05d} 東京" for i in range(1_500)]  # ~27 bytes each
    long_text = _multibyte_document(4_000)
    texts = short + [long_text]
    requests: list[str] = []
    client.meta.events.register("before-parameter-build.comprehendmedical.DetectPHI",
                                lambda params, **_: requests.append(params["Text"]))
    detector = _detector(client)
    long_chunks = len(chunk_spans(long_text, detector.max_request_bytes, detector.overlap_chars))
    total = sum(len(t.encode("utf-8")) + len(BATCH_SEPARATOR) for t in short)
    expected_batches = -(-total // REQUEST_BYTE_LIMIT)
    with Stubber(client) as stub:
        for _ in range(expected_batches + long_chunks):
            stub.add_response("detect_phi", _response())
        detector.detect_many(texts)
        stub.assert_no_pending_responses()
    assert len(requests) == expected_batches + long_chunks
    assert all(len(text.encode("utf-8")) < REQUEST_BYTE_LIMIT for text in requests)


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ThrottlingException", "ServiceUnavailableException"])
def test_throttling_is_retried_with_growing_jittered_backoff(client, code: str) -> None:
    text = "Seen by Dr. Ima Fakename"
    sleeps: list[float] = []
    detector = _detector(client, sleeps, base_delay_seconds=0.5, max_delay_seconds=1.5)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("detect_phi", service_error_code=code, http_status_code=400)
        stub.add_response("detect_phi", _response(_entity(text, "Ima Fakename")), {"Text": text})
        entities = detector.detect(text)
        stub.assert_no_pending_responses()
    assert [text[e.begin:e.end] for e in entities] == ["Ima Fakename"]
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps, start=1):
        assert 0.0 <= delay <= min(1.5, 0.5 * 2 ** (attempt - 1))
    assert len(set(sleeps)) == 3, "jitter: the delays are drawn, not fixed"


def test_throttling_past_the_attempt_limit_quarantines(client) -> None:
    sleeps: list[float] = []
    detector = _detector(client, sleeps, max_attempts=4)
    with Stubber(client) as stub:
        for _ in range(4):
            stub.add_client_error("detect_phi", service_error_code="TooManyRequestsException", http_status_code=400,
                                  service_message="Synthetic Patient Name")
        with pytest.raises(TextDetectorUnavailableError) as raised:
            detector.detect("Synthetic Patient Name")
        stub.assert_no_pending_responses()
    assert isinstance(raised.value, DeidentificationError)
    assert raised.value.reason == "text-phi-detector-unavailable"
    assert "Synthetic" not in str(raised.value)
    assert len(sleeps) == 3  # no sleep after the last attempt


def test_connection_failures_are_retried_then_quarantine() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        calls = 0

        def detect_phi(self, Text: str) -> dict:  # boto3 names the parameter Text
            self.calls += 1
            raise EndpointConnectionError(endpoint_url="https://comprehendmedical.eu-west-1.amazonaws.com")

    client, sleeps = Unreachable(), []
    with pytest.raises(TextDetectorUnavailableError, match="EndpointConnectionError"):
        ComprehendMedicalDetector(client, max_attempts=3, sleep=sleeps.append).detect("Ima Fakename")
    assert client.calls == 3 and len(sleeps) == 2


def test_a_refused_request_is_not_retried(client) -> None:
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_client_error("detect_phi", service_error_code="InvalidEncodingException", http_status_code=400)
        with pytest.raises(TextDetectorUnavailableError, match="InvalidEncodingException"):
            _detector(client, sleeps).detect("text")
    assert sleeps == []


def test_the_score_threshold_is_configurable_and_low_by_default(client) -> None:
    text = "Ima Fakename and Ann Other"
    response = _response(_entity(text, "Ima Fakename", score=0.15), _entity(text, "Ann Other", score=0.05))
    with Stubber(client) as stub:
        stub.add_response("detect_phi", response, {"Text": text})
        stub.add_response("detect_phi", response, {"Text": text})
        default = _detector(client).detect(text)
        strict = _detector(client, min_score=0.5).detect(text)
    assert [text[e.begin:e.end] for e in default] == ["Ima Fakename"]
    assert strict == []


def test_offsets_that_disagree_with_the_reported_text_are_realigned(client) -> None:
    text = "😀 emoji then Ima Fakename"  # a service counting UTF-16 units would be one off here
    entity = _entity(text, "Ima Fakename")
    entity["BeginOffset"] += 1
    entity["EndOffset"] += 1
    with Stubber(client) as stub:
        stub.add_response("detect_phi", _response(entity), {"Text": text})
        entities = _detector(client).detect(text)
    assert [text[e.begin:e.end] for e in entities] == ["Ima Fakename"]


def test_build_detector_turns_off_the_clients_own_retries() -> None:
    detector = build_detector("comprehendmedical", region="eu-west-1")
    assert detector._client.meta.config.retries["total_max_attempts"] == 1
    assert detector._client.meta.region_name == "eu-west-1"
    with pytest.raises(ValueError, match="'rekognition'"):
        build_detector("rekognition")


@pytest.mark.parametrize("seed", range(25))
def test_chunks_cover_the_text_within_the_byte_budget_for_any_text(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "Z", "é", "東", "😀", " ", " ", "\n", "\t", "-"]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3_000)))
    max_bytes, overlap = rng.randint(40, 400), rng.randint(0, 4)
    spans = chunk_spans(text, max_bytes, overlap)
    assert spans[0].begin == 0 and spans[-1].end == len(text)
    for span in spans:
        assert 0 < len(text[span.begin:span.end].encode("utf-8")) <= max_bytes
    for previous, following in pairwise(spans):
        assert previous.begin < following.begin <= previous.end  # no gap, always progressing
