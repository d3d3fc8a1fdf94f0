"""Finding the numbers in what staff paste or upload."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_smsgo.admin.recipient_input import RecipientFileError, read_numbers_file, split_pasted


@pytest.mark.parametrize(
    ("pasted", "found"),
    [
        ("0912345678", ["0912345678"]),
        ("0912-345-678", ["0912-345-678"]),
        ("0912 345 678", ["0912345678"]),
        ("+886 912 345 678", ["+886912345678"]),
        ("+886 0912 345 678", ["+8860912345678"]),
        ("0912 345 678 0922 333 444", ["0912345678", "0922333444"]),
        ("0912345678 0922333444", ["0912345678", "0922333444"]),
        ("886912345678 886922333444", ["886912345678", "886922333444"]),
        ("0912345678,0922333444;0933555666", ["0912345678", "0922333444", "0933555666"]),
        ("0912345678，0922333444、0933555666", ["0912345678", "0922333444", "0933555666"]),
        ("0912345678\r\n\r\n0922333444\n", ["0912345678", "0922333444"]),
        ("(0912)345678\t+8613681912700", ["(0912)345678", "+8613681912700"]),
        ("0912 045 678", ["0912045678"]),
        ("+86 136 8191 2700 0912 345 678", ["+8613681912700", "0912345678"]),
        ("+44 20 7946 0018", ["+442079460018"]),
        ("", []),
    ],
)
def test_pasted_forms(pasted, found):
    assert split_pasted(pasted) == found


@given(
    st.lists(st.from_regex(r"09\d{8}", fullmatch=True), min_size=1, max_size=20),
    st.sampled_from(["\n", ",", " ", ", ", "；", "\t"]),
)
def test_any_list_of_numbers_comes_back_in_order(numbers, separator):
    assert split_pasted(separator.join(numbers)) == numbers


def test_a_headerless_csv_uses_the_column_of_numbers():
    data = io.BytesIO(b"Wang,0912345678\nLee,0922333444\n")
    assert read_numbers_file(data, "a.csv") == ["0912345678", "0922333444"]


def test_a_column_by_number_and_by_header():
    data = b"name,phone,other\nWang,0912345678,x\n"
    assert read_numbers_file(io.BytesIO(data), "a.csv", "2") == ["0912345678"]
    assert read_numbers_file(io.BytesIO(data), "a.csv", "Phone") == ["0912345678"]


def test_an_empty_file_is_refused():
    with pytest.raises(RecipientFileError, match="is empty"):
        read_numbers_file(io.BytesIO(b"\n\n"), "a.csv")


def test_text_in_neither_utf8_nor_big5_is_refused():
    with pytest.raises(RecipientFileError, match="neither UTF-8 nor Big5"):
        read_numbers_file(io.BytesIO(b"\xff\xfe\x00\x81\x00"), "a.csv")


def test_a_damaged_xlsx_is_refused():
    with pytest.raises(RecipientFileError, match="could not be read"):
        read_numbers_file(io.BytesIO(b"not a zip"), "a.xlsx")


@given(st.lists(st.from_regex(r"09\d{8}", fullmatch=True), min_size=1, max_size=20))
def test_numbers_written_in_groups_of_digits_come_back_whole(numbers):
    grouped = [f"{n[:4]} {n[4:7]} {n[7:]}" for n in numbers]
    assert split_pasted(" ".join(grouped)) == numbers
