"""The cleanup kit (ontraport_pandas.clean): each normalisation, then plan → apply → read back."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import ontraport_pandas as opd
import ontraport_pandas.accessor  # noqa: F401  (registers df.ontraport, as loading a client does)
from ontraport_pandas import clean


def _frame(**columns):
    n = len(next(iter(columns.values())))
    data = {k: pd.array(v, dtype="string") for k, v in columns.items()}
    return pd.DataFrame(data, index=pd.Index(range(1, n + 1), name="id"))


def test_phones_follow_the_row_country_and_report_invalid_numbers():
    frame = _frame(
        office_phone=["(415) 555-2671", "020 7946 0018", "0412 345 678", "12", "+1 415 555 2671", None],
        sms_number=["415.555.2671", None, "0412 345 678", None, None, None],
        country=["US", "GB", "Australia", "US", None, "US"],
    )
    before = frame.copy(deep=True)
    edited, problems = clean.phones(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is never changed
    assert edited["office_phone"].tolist() == [
        "+1 415-555-2671",
        "+44 20 7946 0018",
        "+61 412 345 678",
        "12",
        "+1 415-555-2671",
        pd.NA,
    ]
    assert edited["sms_number"].tolist()[:3] == ["+14155552671", pd.NA, "+61412345678"]
    assert str(edited["office_phone"].dtype) == str(frame["office_phone"].dtype)
    assert problems.to_dict("records") == [
        {"row": 4, "column": "office_phone", "value": "12", "problem": "not a valid number for US"}
    ]
    national = clean.phones(frame, "office_phone", format="national").frame
    assert national.at[1, "office_phone"] == "(415) 555-2671"
    with pytest.raises(ValueError, match="format="):
        clean.phones(frame, format="dots")  # type: ignore[arg-type]


def test_emails_are_normalised_and_invalid_ones_reported():
    frame = _frame(
        email=["  Ann.Lee@Example.COM ", "bob@@example.com", "carl@example", None, "dé@exämple.com"]
    )
    edited, problems = clean.emails(frame)
    assert edited["email"].tolist()[:4] == ["ann.lee@example.com", "bob@@example.com", "carl@example", pd.NA]
    assert edited.at[5, "email"] == "dé@exämple.com"
    assert problems["row"].tolist() == [2, 3]
    assert all(p.startswith("invalid e-mail: ") for p in problems["problem"])
    keep_case = clean.emails(frame, lowercase=False).frame
    assert keep_case.at[1, "email"] == "Ann.Lee@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JOHN", "John"),
        ("mary  ann", "Mary Ann"),
        ("MCDONALD", "McDonald"),
        ("macdonald", "MacDonald"),
        ("MACK", "Mack"),
        ("machado", "Machado"),
        ("o'neil", "O'Neil"),
        ("SMITH-JONES", "Smith-Jones"),
        ("o'brien-mcarthur", "O'Brien-McArthur"),
        ("VAN DER BERG", "Van der Berg"),
        ("McDonald", "McDonald"),
        ("van Dyke", "van Dyke"),
        ("DeShawn", "DeShawn"),
        (" Lee ", "Lee"),
    ],
)
def test_proper_case(raw, expected):
    assert clean.proper_case(raw) == expected


def test_names_report_placeholders_and_leave_mixed_case():
    frame = _frame(
        firstname=["JOHN", "Test", "N/A", "DeShawn", None], lastname=["o'neil", "x", "-", "mcKay", "asdf"]
    )
    edited, problems = clean.names(frame)
    assert edited["firstname"].tolist() == ["John", "Test", "N/A", "DeShawn", pd.NA]
    assert edited["lastname"].tolist() == ["O'Neil", "x", "-", "mcKay", "asdf"]
    assert sorted(zip(problems["row"], problems["column"], strict=True)) == [
        (2, "firstname"),
        (2, "lastname"),
        (3, "firstname"),
        (3, "lastname"),
        (5, "lastname"),
    ]
    assert clean.names(_frame(lastname=["MACDONALD"]), mac=False).frame.at[1, "lastname"] == "Macdonald"


def test_states_map_to_codes_within_the_country():
    frame = _frame(
        state=["Calif.", "ny", "Massachusetts", "WA", "wa", "Western Australia", "XX", "Bavaria", None],
        country=["US", "US", "US", "US", "AU", "AU", "US", "DE", "US"],
    )
    edited, problems = clean.states(frame)
    assert edited["state"].tolist() == ["CA", "NY", "MA", "WA", "AU_WA", "AU_WA", "XX", "Bavaria", pd.NA]
    assert problems.to_dict("records") == [
        {"row": 7, "column": "state", "value": "XX", "problem": "not a known state in US"}
    ]
    only = clean.states(frame, options=["CA", "NY"])
    assert only.frame.at[3, "state"] == "Massachusetts"
    assert set(only.problems["row"]) >= {3, 4}


def test_countries_map_to_iso_codes():
    frame = _frame(country=["United States", "usa", "U.K.", "Deutschland", "Atlantis", "fr", None])
    edited, problems = clean.countries(frame)
    assert edited["country"].tolist() == ["US", "US", "GB", "DE", "Atlantis", "FR", pd.NA]
    assert problems["row"].tolist() == [5]
    limited = clean.countries(frame, options=["US", "GB"])
    assert limited.problems["row"].tolist() == [4, 5, 6]
    assert limited.problems["problem"].tolist()[0] == "DE is not an option"


def test_zips_regain_their_leading_zero_only_where_it_belongs():
    frame = _frame(
        zip=["2165", "7030", "501", "2165-1234", "9021", "2165", "90210", "3000"],
        state=["MA", "NJ", "NY", "MA", "CA", None, "CA", "VIC"],
        country=["US", "US", "US", "US", "US", "US", "US", "AU"],
    )
    edited, problems = clean.zips(frame)
    assert edited["zip"].tolist() == [
        "02165",
        "07030",
        "00501",
        "02165-1234",
        "9021",
        "2165",
        "90210",
        "3000",
    ]
    assert problems["row"].tolist() == [5, 6]


def test_frame_accessor_runs_every_step_and_keeps_attrs():
    frame = _frame(
        firstname=["JOHN"],
        email=[" J@X.COM"],
        state=["Mass."],
        zip=["2165"],
        country=["usa"],
        home_phone=["617 555 0123"],
    )
    frame.attrs["marker"] = 1
    cleaned = frame.ontraport.clean()
    assert cleaned.frame.iloc[0].tolist() == ["John", "j@x.com", "MA", "02165", "US", "+1 617-555-0123"]
    assert cleaned.frame.attrs == {"marker": 1}
    assert cleaned.changed == {c: 1 for c in frame.columns}
    assert "changed" in repr(cleaned)
    only = frame.ontraport.clean("names")
    assert only.frame.at[1, "email"] == " J@X.COM"
    with pytest.raises(ValueError, match="Unknown cleaning step"):
        frame.ontraport.clean("spelling")


def test_missing_or_duplicated_columns_are_named_before_anything():
    with pytest.raises(opd.ValidationError, match="mobile"):
        clean.phones(_frame(country=["US"]), "mobile")
    twice = pd.concat([_frame(email=["a@b.co"]), _frame(email=["c@d.co"])], axis=1)
    with pytest.raises(opd.ValidationError, match="2 columns named 'email'"):
        clean.emails(twice)


def test_csv_round_trip_reset_index_and_new_rows_clean_the_same():
    frame = _frame(firstname=["JOHN", "ann"], email=[" A@B.CO", "x@y.co"], country=["US", "US"])
    frame = pd.concat(
        [frame, _frame(firstname=["mcdonald"], email=["Z@Z.CO"], country=["usa"]).set_axis([pd.NA])]
    )
    expected = clean.contacts(frame, steps=["names", "emails"]).frame
    from io import StringIO

    text = StringIO()
    frame.reset_index(drop=True).to_csv(text, index=False)
    round_trip = pd.read_csv(StringIO(text.getvalue()))
    got = clean.contacts(round_trip, steps=["names", "emails"]).frame
    assert got["firstname"].tolist() == expected["firstname"].tolist() == ["John", "Ann", "McDonald"]
    assert got["email"].tolist() == expected["email"].tolist() == ["a@b.co", "x@y.co", "z@z.co"]


def test_cleanup_through_the_sandbox_plan_apply_read_back(tmp_path):
    with opd.connect("sandbox", contacts=200, rate_limit=None) as op:
        contacts = op.contacts(progress=False)
        cleaned = clean.contacts(contacts, steps=["names", "emails", "states", "zips", "phones"])
        assert cleaned.changed and len(cleaned.problems)
        assert set(cleaned.problems.columns) == {"row", "column", "value", "problem"}
        plan = op.plan(cleaned.frame)
        assert plan.counts["update"] > 0 and plan.counts["create"] == 0 and plan.counts["delete"] == 0
        result = plan.apply(confirm=plan.confirm_required, progress=False, journal_dir=str(tmp_path))
        assert result.ok
        back = op.contacts(progress=False)
        columns = list(cleaned.changed)
        pd.testing.assert_frame_equal(back[columns], cleaned.frame[columns], check_dtype=True)
        # cleaning the cleaned data changes nothing more
        again = clean.contacts(back, steps=["names", "emails", "states", "zips", "phones"])
        assert again.changed == {}
        assert op.plan(again.frame).empty


def test_each_feature_names_the_extra_when_it_is_missing():
    code = (
        "import sys\n"
        "for m in ('phonenumbers', 'email_validator'):\n"
        "    sys.modules[m] = None\n"
        "import pandas as pd\n"
        "import ontraport_pandas as opd\n"
        "frame = pd.DataFrame({'email': ['a@b.co'], 'home_phone': ['1'], 'country': ['US']})\n"
        "print(opd.clean.names(frame).changed)\n"
        "for name in ('phones', 'emails', 'countries'):\n"
        "    try:\n"
        "        getattr(opd.clean, name)(frame)\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "{}"
    assert len(lines) == 4
    for line, feature in zip(lines[1:], ("phones", "emails", "countries"), strict=True):
        assert (
            line.startswith(f"opd.clean.{feature} needs ") and 'pip install "ontraport-pandas[clean]"' in line
        )


def test_cleanup_through_the_membrane_simulator(home, tmp_path):
    from .membrane_fixtures import membrane_client

    op = membrane_client(home)
    try:
        contacts = op.contacts(progress=False)
        cleaned = contacts.ontraport.clean("names", "emails", "phones")
        assert cleaned.changed
        result = op.plan(cleaned.frame).apply(confirm=10_000, progress=False, journal_dir=str(tmp_path))
        assert result.ok
        back = op.contacts(progress=False)
        columns = list(cleaned.changed)
        pd.testing.assert_frame_equal(back[columns], cleaned.frame[columns])
    finally:
        op.close()
