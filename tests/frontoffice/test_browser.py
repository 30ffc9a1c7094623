"""The portal in a real browser (Debian's Chromium driven by Playwright) against a live
server: a citizen logs in, sees the measure found for her after her child's birth, applies in
one click, sees the decision, gives her Mir card, sees the payment, downloads a certificate.
Each page is saved as a screenshot at 375 and 1280 px (tests/frontoffice/screenshots, which
git ignores) for a person to look at."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from frontoffice.services import citizen_account_for
from measures.enums import CaseStatus, TriggerKind
from measures.models import Case, Measure
from measures.services.cases import case_open, case_work
from platform_core.validators import mir_card_from_number
from tests.measures.families import UNIFIED, child_of, income, person
from treasury.models import Payment
from treasury.services.payroll import payroll_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
WIDTHS = (375, 1280)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium.")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at each width, whole."""
    SHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px by {overflow} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_mother_applies_in_one_click_and_downloads_a_certificate(
    live_server, browser, calendar, settings, tmp_path
):
    today = timezone.localdate()
    settings.TREASURY_FIRST_PERIOD = today.replace(day=1).isoformat()
    settings.TREASURY_FILES_DIR = tmp_path
    mother = person(date(1990, 1, 1), "F", last_name="Браузерова", first_name="Анна")
    child = child_of(mother, 0, on=today)
    income(mother, "5000", on=today)
    offered, _ = case_open(
        person=mother,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=TriggerKind.LIFE_EVENT,
        trigger_key=f"birth:{child.pk}",
        as_of=today,
        now=timezone.now(),
    )
    assert case_work(case_id=offered.pk, now=timezone.now()).status == CaseStatus.OFFERED
    citizen_account_for(mother, demo=True)

    page = browser.new_page(locale="ru-RU")
    page.goto(f"{live_server.url}/portal/login/")
    shoot(page, "01-login")
    page.get_by_label("Браузерова Анна").check()
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/portal/my/")
    assert page.get_by_role("heading", name="Мои права").is_visible()
    measure = offered.measure.name
    assert page.get_by_role("heading", name=measure).is_visible()
    page.get_by_text("Почему").first.click()  # the explanation opens
    assert page.get_by_text("выполнено").first.is_visible()
    shoot(page, "02-my-rights")

    page.get_by_role("button", name="Подать заявление").first.click()
    page.wait_for_url(f"**/portal/my/cases/{offered.pk}/")
    decided = Case.objects.get(pk=offered.pk)
    assert decided.status == CaseStatus.DECIDED
    assert page.get_by_text(decided.decision.number).is_visible()
    shoot(page, "03-decision")

    page.get_by_role("link", name="Реквизиты").click()
    page.get_by_label("Номер карты «Мир»").fill("2200 0000 0000 0005")  # a wrong digit
    page.get_by_role("button", name="Сохранить").click()
    assert page.locator("#bank_card-error").is_visible()
    shoot(page, "04-details-error")
    card = mir_card_from_number(3)
    page.get_by_label("Номер карты «Мир»").fill(card)
    page.get_by_role("button", name="Сохранить").click()
    assert page.get_by_text("Сохранено.").is_visible()

    payroll_run(period=today, now=timezone.now())
    paid = Payment.objects.get(person=mother)
    page.get_by_role("link", name="Выплаты").click()
    assert page.get_by_text(measure).first.is_visible()
    shoot(page, "05-payments")
    assert paid.card == card

    page.get_by_role("link", name="Справки").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Получить справку").click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    page.goto(f"{live_server.url}/portal/my/certificates/")
    shoot(page, "06-certificates")
    code = page.locator("main li").first.inner_text().rsplit(" ", 1)[-1]

    page.get_by_role("button", name="Выйти").click()
    page.goto(f"{live_server.url}/portal/check/?code={code}")
    assert page.get_by_role("heading", name="Справка подлинная").is_visible()
    shoot(page, "07-check")
