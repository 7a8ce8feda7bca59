"""The Admin page's Clinic norms tab: the version in use and how v1 was made; on
request the norms computed now and whose status would move; Publish names v2."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from dashboard import demo
from tests.app.conftest import login, texts


def test_the_admin_sees_the_version_previews_and_publishes(app, db: Session) -> None:  # type: ignore[no-untyped-def]
    demo.load_demo(db, bcrypt_rounds=4)  # 198 intakes: v1 was published as it loaded
    at = login(app(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    assert re.search(r"In use: clinic norms v1 of \d+ \w+ \d{4}, 198 intakes\.", page)
    assert re.search(
        r"v1, published automatically once the clinic reached 30 intakes on \d+ \w+ \d{4}",
        page,
    )
    # The EII's SD floor is in use in the demo, and the table says so.
    [table] = [d.value for d in at.dataframe if "SD in use" in d.value.columns]
    assert table.set_index("Measure").loc["EII", "SD in use"] == "15.0 (floor)"
    assert not [b for b in at.button if b.label.startswith("Publish")]  # preview first

    at.toggle(key="norms_preview").set_value(True).run()
    page = texts(at)
    # Nothing was added since v1: the norms computed now are the same, nobody moves.
    assert (
        "What would change, of 198 partners (99 couples with sessions) judged on the EII: No partner's status would change."
        in page
    )
    [publish] = [b for b in at.button if b.label.startswith("Publish")]
    assert publish.label == "Publish as clinic norms v2"
    publish.click().run()
    assert not at.exception, at.exception
    assert re.search(r"Published clinic norms v2 of \d+ \w+ \d{4}, 198 intakes\.", texts(at))
    assert re.search(r"In use: clinic norms v2 of \d+ \w+ \d{4}, 198 intakes\.", texts(at))
    assert at.toggle(key="norms_preview").value is False


def test_the_review_page_names_the_version_its_outcomes_use(app, db: Session) -> None:  # type: ignore[no-untyped-def]
    demo.load_demo(db, bcrypt_rounds=4)
    at = login(app(), "sup.okafor", demo.DEMO_PASSWORD)
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, at.exception
    assert re.search(
        r"Outcomes and flags are judged with clinic norms v1 of \d+ \w+ \d{4}, 198 intakes;",
        texts(at),
    )
    # The expected-course alerts name the model they used, as the outcomes name the norms.
    assert re.search(r"; the expected course with (rational fallback|expected course v)", texts(at))
