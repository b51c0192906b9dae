"""The operations entities draw on vocabularies the register seeds, with the domain's own terms."""

from mineaction.domain.entities import ENTITIES, Sensitivity
from mineaction.domain.operations.vocabularies import VOCABULARIES
from mineaction.storage.vocabulary import load_packaged_vocabularies


def test_packaged_vocabularies_hold_the_domain_terms_with_both_labels():
    packaged = load_packaged_vocabularies()
    for name, terms in VOCABULARIES.items():
        assert packaged[name] == dict(terms), name


def test_every_declared_vocabulary_is_packaged():
    packaged = load_packaged_vocabularies()
    used = {f.vocabulary for spec in ENTITIES.values() for f in spec.fields if f.vocabulary}
    assert used <= set(packaged)


def test_victim_assistance_is_personal_and_task_state_is_derived():
    for name in ("va_need", "va_referral", "va_follow_up"):
        shown = [f.name for f in ENTITIES[name].fields if f.sensitivity is not Sensitivity.PERSONAL]
        assert set(shown) <= {"assessed_by_org", "referred_by_org", "organisation_id"}, name
    task = ENTITIES["task"].field_map
    assert task["state"].derived and task["started_on"].derived and task["organisation_id"].required
