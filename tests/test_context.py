"""Which client serves a frame: the registry in ``context`` that the accessor, the cleanup kit and the
reports use instead of importing the client."""

from __future__ import annotations

import gc

import ontraport_pandas as opd
from ontraport_pandas.context import client_for, schema_for


def test_a_loaded_frame_finds_its_client_and_schema_without_a_request():
    op = opd.connect("sandbox", contacts=20, rate_limit=None)
    frame = op.contacts(progress=False)
    assert client_for(frame) is op
    sent = op.session.requests_sent
    schema = schema_for(frame)
    assert op.session.requests_sent == sent  # the metadata the load fetched
    assert schema is not None and schema.field("firstname").type == "text"
    assert schema_for(frame.head(0)) is not None  # attrs travel with the frame
    op.close()


def test_no_client_is_found_for_a_plain_frame_another_type_or_a_client_that_is_gone():
    op = opd.connect("sandbox", contacts=5, rate_limit=None)
    frame = op.contacts(progress=False)
    plain = frame.copy()
    plain.attrs = {}
    assert client_for(plain) is None and schema_for(plain) is None
    assert client_for(object()) is None and schema_for(object()) is None  # not a frame at all
    broken = frame.copy()
    broken.attrs = {"ontraport": {"client_id": op.id, "object_type": "no such type"}}
    assert client_for(broken) is op and schema_for(broken) is None  # never raises
    op.close()
    del op
    gc.collect()
    assert client_for(frame) is None and schema_for(frame) is None  # held weakly
