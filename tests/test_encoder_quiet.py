"""Defect 17 of issue 16: the first start printed about 36 onnxruntime "Quantization parameters for tensor ... not
specified" lines right after the admin password that is shown only once, pushing it off screen. Preparing the
model (the first start's work) now logs none of them, through Python logging or onnxruntime's own logger."""
from __future__ import annotations

import logging

from triage import SentenceEncoder


def test_preparing_the_model_logs_no_quantization_chatter(tmp_path, caplog, capfd):
    caplog.set_level(logging.INFO)                 # the server's default CHAT_LOG_LEVEL
    encoder = SentenceEncoder.load(tmp_path / "cache")
    assert encoder.embed(["where is my parcel"]).shape == (1, encoder.dim)
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [], logged[:5]            # nothing at all while preparing it
    out, err = capfd.readouterr()
    assert "Quantization parameters" not in out + err
