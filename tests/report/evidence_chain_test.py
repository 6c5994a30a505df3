"""The hash chain: canonical JSON, and a walk that names the first entry edited, deleted or moved."""

from __future__ import annotations

import dataclasses
import json

from bot.report.evidence_chain import GENESIS, StoredEntry, canonical_json, entry_hash, verify_chain


def chain(count: int) -> list[StoredEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, count + 1):
        record = {"repository": "o/r", "pull_request": seq, "head_sha": f"{seq:040x}", "conclusion": "success"}
        body = canonical_json(record)
        entry = StoredEntry(seq, "review", "o/r", seq, f"{seq:040x}", body, prev, entry_hash(prev, seq, "review", body))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_canonical_json_is_one_text_whatever_the_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == '{"a":{"c":"é","d":[1,2]},"b":1}'
    assert canonical_json(json.loads('{"a": {"c": "é", "d": [1, 2]}, "b": 1}')) == canonical_json({"b": 1, "a": {"c": "é", "d": [1, 2]}})


def test_an_intact_chain_counts_its_entries_and_names_its_head() -> None:
    entries = chain(5)
    report = verify_chain(entries)
    assert report.intact and report.count == 5 and report.head_hash == entries[-1].hash
    assert verify_chain([]).intact and verify_chain([]).count == 0
    assert verify_chain(entries, (3, entries[2].hash)).intact


def test_an_edited_record_is_named() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], body=entries[2].body.replace("success", "failure"))
    report = verify_chain(entries)
    assert (report.broken_seq, report.count) == (3, 2)
    assert report.problem == "record 3: was edited: its content no longer matches its hash"


def test_an_edited_record_with_a_new_hash_breaks_the_next_link() -> None:
    entries = chain(5)
    body = entries[2].body.replace("success", "failure")
    entries[2] = dataclasses.replace(entries[2], body=body, hash=entry_hash(entries[2].prev_hash, 3, "review", body))
    report = verify_chain(entries)
    assert report.broken_seq == 4 and "does not link to record 3" in (report.problem or "")


def test_a_record_not_in_canonical_form_or_with_a_changed_column_is_edited() -> None:
    entries = chain(3)
    spaced = dataclasses.replace(entries[1], body=json.dumps(entries[1].record()))
    assert "canonical form" in (verify_chain([entries[0], spaced, entries[2]]).problem or "")
    moved = dataclasses.replace(entries[1], repository="other/repo")
    assert verify_chain([entries[0], moved, entries[2]]).problem == (
        "record 2: was edited: its repository column no longer matches its record")


def test_a_deleted_record_is_named() -> None:
    entries = chain(5)
    report = verify_chain(entries[:2] + entries[3:])
    assert report.broken_seq == 3 and report.problem is not None
    assert report.problem.startswith("record 3: record 3 is missing (deleted)")
    assert "records 2 to 3 are missing" in (verify_chain(entries[:1] + entries[3:]).problem or "")


def test_deleting_the_newest_records_is_caught_by_an_anchor() -> None:
    entries = chain(5)
    anchor = (5, entries[4].hash)
    assert verify_chain(entries[:3]).intact  # a shorter chain is intact on its own...
    report = verify_chain(entries[:3], anchor)
    assert not report.intact and report.problem == "record 5: is missing (deleted); the chain ends at record 3"


def test_a_moved_record_is_named() -> None:
    entries = chain(5)
    # Records 3 and 4 swapped places, keeping their contents and links (seq renumbered).
    swapped = [entries[0], entries[1], dataclasses.replace(entries[3], seq=3), dataclasses.replace(entries[2], seq=4),
               entries[4]]
    report = verify_chain(swapped)
    assert report.broken_seq == 3 and "does not link to record 2" in (report.problem or "")
    # Record 4 replaced by a copy of record 3 (which was written to follow record 2): "moved".
    report = verify_chain([*entries[:3], dataclasses.replace(entries[2], seq=4), entries[4]])
    assert report.problem == "record 4: was moved: it was written after record 2, not after record 3"
